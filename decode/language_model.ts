/**
 * The contract between the n-gram LM engine (decode/ngram_lm.ts) and the CTC beam search:
 * what a decoder may ask of a word or character n-gram LM. Scores are log10, as in ARPA and
 * KenLM. This file holds no implementation.
 *
 * @module
 */

/**
 * The visible word-boundary token of a character LM (`build_lm --char`): a space between
 * words becomes this token. It is one character itself (wav2letter's convention), so a
 * character LM's vocabulary holds only single characters and `isCharacterBased` stays true.
 * A decoder maps its space label to this token when the LM's vocabulary contains it.
 */
export const CHAR_LM_SPACE = "|";

/** What a CTC beam search needs from a word or character n-gram LM. */
export interface LanguageModel {
  /** Highest n-gram order. */
  readonly order: number;
  /** Every vocabulary entry except <s>, </s>, <unk> (for lexicon-constrained decoding). */
  readonly vocabulary: readonly string[];
  /** True when every vocabulary entry (except <s>, </s>, <unk>) is a single character. */
  readonly isCharacterBased: boolean;
  /** Id of a word, or -1 when it is not in the vocabulary. */
  wordId(word: string): number;
  /** Id of `<s>`. */
  readonly bosId: number;
  /** Id of `</s>`. */
  readonly eosId: number;
  /** log10 P(ids[n-1] | ids[0..n-1]) with KenLM backoff semantics; context oldest first, at most order-1 words used. An id of -1 scores as <unk>. */
  conditionalLogProb(ids: ArrayLike<number>): number;
  /** KenLM's full-sentence score: Σ log10 P over the words followed by </s>, starting from <s>. */
  scoreSentence(words: readonly string[]): number;
}
