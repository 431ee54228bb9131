/**
 * Public names of `decode/`, re-exported by the root mod.ts.
 *
 * @module
 */
// n-gram LM engine (decode/language_model.ts, arpa.ts, ngram_lm.ts, lm_binary.ts)
export { CHAR_LM_SPACE, type LanguageModel } from "./language_model.ts";
export { type ArpaData, type ArpaOrder, loadArpa, parseArpa, readArpa } from "./arpa.ts";
export { NGramLM } from "./ngram_lm.ts";
export {
  convertArpaToBinary,
  loadLanguageModel,
  readLmBinary,
  type ReadLmBinaryOptions,
  writeLmBinary,
} from "./lm_binary.ts";
export { type CorpusCounts, countNGrams, type CountOptions, NGramTable } from "./ngram_counts.ts";
export { buildKneserNeyLm, type BuiltLm } from "./build_lm.ts";
export {
  DEFAULT_DISCOUNT_FALLBACK,
  estimateKneserNey,
  formatArpa,
  type KneserNeyModel,
  type KneserNeyOptions,
} from "./kneser_ney.ts";
// decoders and metrics (decode/ctc_logits.ts, greedy.ts, beam_search.ts, prefix_trie.ts, metrics.ts)
export { asCtcLogits, type CtcLogits, logSoftmaxRows } from "./ctc_logits.ts";
export { ctcGreedyDecode, type CtcGreedyOptions, type CtcGreedyResult } from "./greedy.ts";
export {
  ctcBeamSearch,
  CtcBeamSearchDecoder,
  type CtcBeamSearchOptions,
  type CtcHypothesis,
  OOV_SCORE,
  type WordTiming,
} from "./beam_search.ts";
export { LexiconTrie } from "./prefix_trie.ts";
export {
  charErrorRate,
  type EditCounts,
  editOps,
  type ErrorRate,
  splitWords,
  wordErrorRate,
} from "./metrics.ts";
export { type DecodeBatchOptions, DecoderPool, type DecoderPoolOptions } from "./decoder_pool.ts";
export {
  type LogitsFile,
  LogitsFileWriter,
  readLogitsFile,
  writeLogitsFile,
  type WriteLogitsOptions,
} from "./logits_file.ts";
export {
  closedVocabularyDecode,
  type ClosedVocabularyEntry,
  ctcSequenceLogProb,
} from "./closed_vocabulary.ts";
