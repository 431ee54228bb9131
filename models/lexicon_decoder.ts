/**
 * A decoder that can only answer with one of a fixed list of transcripts (decode/closed_vocabulary.ts),
 * for closed-vocabulary sets such as spoken digits: evaluation uses it for the sets that name a
 * lexicon (data/corpora/dev_sets.ts). Each transcript must be spellable in the model's vocabulary.
 */
import { closedVocabularyDecode, type ClosedVocabularyEntry } from "../decode/closed_vocabulary.ts";
import type { Vocabulary } from "../data/pipeline/vocabulary.ts";
import type { Transcript, UtteranceDecoder, UtteranceLogits } from "./transcript_decoder.ts";

/** Chooses, per utterance, the lexicon entry with the highest CTC probability. */
export class LexiconDecoder implements UtteranceDecoder {
  readonly #vocab: Vocabulary;
  readonly #frameStepS: number;
  readonly #candidates: ClosedVocabularyEntry[];

  /** `lexicon`: the transcripts to choose from, e.g. the ten digit words. */
  constructor(lexicon: readonly string[], vocab: Vocabulary, options: { frameStepS: number }) {
    if (lexicon.length === 0) throw new RangeError("LexiconDecoder: the lexicon is empty");
    this.#vocab = vocab;
    this.#frameStepS = options.frameStepS;
    this.#candidates = lexicon.map((text) => ({ text, labels: vocab.encode(text) }));
  }

  /** Decodes utterances; results in input order. */
  decode(utterances: readonly UtteranceLogits[]): Promise<Transcript[]> {
    return Promise.resolve(utterances.map((u) => {
      const { text } = closedVocabularyDecode(u.logits, {
        nFrames: u.nFrames,
        nClasses: this.#vocab.size,
        blankIndex: this.#vocab.blankIndex,
        candidates: this.#candidates,
      });
      const words = text.split(" ").map((word) => ({ word, startS: 0, endS: u.nFrames * this.#frameStepS }));
      return { text, words };
    }));
  }
}
