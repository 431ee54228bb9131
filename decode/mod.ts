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
