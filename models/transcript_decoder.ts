/**
 * Turns a model's CTC logits into transcripts with word times, using the decoder a config
 * names: greedy, or beam search (with an n-gram LM when `lm` is set) on a pool of Workers that
 * share the LM. Eval, infer and scripts/transcribe.ts all decode through it, so the decoder
 * section of a config means the same thing everywhere, as in OpenSeq2Seq.
 *
 * @module
 */
import type { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { DecoderPool } from "../decode/decoder_pool.ts";
import { ctcGreedyDecode } from "../decode/greedy.ts";
import { loadLanguageModel } from "../decode/lm_binary.ts";
import type { DecoderConfig } from "./configs/types.ts";

/** A word with its times in seconds. */
export interface TimedWord {
  /** The word. */
  word: string;
  /** Start of its first character's frame. */
  startS: number;
  /** End of its last character's frame. */
  endS: number;
}

/** One decoded utterance. */
export interface Transcript {
  /** Words separated by single spaces. */
  text: string;
  /** The words with their times. */
  words: TimedWord[];
}

/** Logits [nFrames, V] of one utterance, row-major. */
export interface UtteranceLogits {
  /** At least nFrames × V values. */
  logits: Float32Array;
  /** Frames that belong to the utterance. */
  nFrames: number;
}

/** What turns utterance logits into transcripts (TranscriptDecoder, LexiconDecoder); evaluation takes any. */
export interface UtteranceDecoder {
  /** Decodes utterances; results in input order. */
  decode(utterances: readonly UtteranceLogits[]): Promise<Transcript[]>;
}

/** Options of `TranscriptDecoder.create`. */
export interface TranscriptDecoderOptions {
  /** Seconds per output frame, for word times. */
  frameStepS: number;
  /** Beam-search Workers; default one per core, 0 decodes in this thread. */
  workers?: number;
}

/** "greedy", or "beam 128 + LM lm.bin (alpha 0.5, beta 1)": a decoder config for logs. */
export function describeDecoder(config: DecoderConfig): string {
  if (config.kind !== "beam") return config.kind;
  const lm = config.lm ? ` + LM ${config.lm} (alpha ${config.alpha ?? 0}, beta ${config.beta ?? 0})` : "";
  return `beam ${config.beamWidth ?? 128}${lm}`;
}

/** Greedy transcript with word times from the frames that emitted each character. */
export function greedyTranscript(u: UtteranceLogits, vocab: Vocabulary, frameStepS: number): Transcript {
  const r = ctcGreedyDecode(u.logits, {
    nFrames: u.nFrames,
    blankIndex: vocab.blankIndex,
    vocabulary: vocab.chars,
  });
  const words: TimedWord[] = [];
  let cur = "", start = -1, end = -1;
  const flush = () => {
    if (cur) words.push({ word: cur, startS: start * frameStepS, endS: (end + 1) * frameStepS });
    cur = "";
  };
  for (let i = 0; i < r.labels.length; i++) {
    const ch = vocab.chars[r.labels[i]];
    if (ch === " ") {
      flush();
      continue;
    }
    if (!cur) start = r.frames[i];
    cur += ch;
    end = r.frames[i];
  }
  flush();
  return { text: r.text.trim().replace(/ +/g, " "), words };
}

/**
 * Greedy or beam-search (+ LM) decoding of CTC logits, as a config's decoder section says.
 *
 * @example
 * ```ts
 * import { Vocabulary } from "../data/pipeline/vocabulary.ts";
 * import { TranscriptDecoder } from "./transcript_decoder.ts";
 * const vocab = Vocabulary.english();
 * using dec = await TranscriptDecoder.create({ kind: "greedy" }, vocab, { frameStepS: 0.02 });
 * const [t] = await dec.decode([{ logits: new Float32Array(vocab.size), nFrames: 1 }]);
 * t.text; // the greedy transcript
 * ```
 */
export class TranscriptDecoder implements UtteranceDecoder, Disposable {
  readonly #vocab: Vocabulary;
  readonly #frameStepS: number;
  readonly #pool: DecoderPool | null;
  /** "greedy" or "beam": what `decode` runs. */
  readonly kind: "greedy" | "beam";

  private constructor(vocab: Vocabulary, frameStepS: number, pool: DecoderPool | null) {
    this.#vocab = vocab;
    this.#frameStepS = frameStepS;
    this.#pool = pool;
    this.kind = pool ? "beam" : "greedy";
  }

  /** Builds the decoder; a beam decoder loads `config.lm` (ARPA or binary) once for all Workers. */
  static async create(
    config: DecoderConfig,
    vocab: Vocabulary,
    options: TranscriptDecoderOptions,
  ): Promise<TranscriptDecoder> {
    if (config.kind === "greedy") return new TranscriptDecoder(vocab, options.frameStepS, null);
    if (config.kind !== "beam") {
      throw new Error(`decoder.kind must be "greedy" or "beam", got "${config.kind}"`);
    }
    const lm = config.lm ? await loadLanguageModel(config.lm) : null;
    const pool = await DecoderPool.create({
      vocabulary: vocab.chars,
      blankIndex: vocab.blankIndex,
      beamWidth: config.beamWidth ?? 128,
      alpha: config.alpha ?? 0,
      beta: config.beta ?? 0,
      lm,
      frameStepSeconds: options.frameStepS,
      nBest: 1,
      workers: options.workers,
    });
    return new TranscriptDecoder(vocab, options.frameStepS, pool);
  }

  /** Decodes utterances; results in input order. */
  async decode(utterances: readonly UtteranceLogits[]): Promise<Transcript[]> {
    if (!this.#pool) return utterances.map((u) => greedyTranscript(u, this.#vocab, this.#frameStepS));
    const V = this.#vocab.size;
    // A copy, not a view: a Worker message clones a view's whole underlying buffer.
    const nbest = await this.#pool.decodeBatch(
      utterances.map((u) => ({ data: u.logits.slice(0, u.nFrames * V), T: u.nFrames, V })),
    );
    return nbest.map(([best]) => ({
      text: (best?.text ?? "").trim().replace(/ +/g, " "),
      words: (best?.words ?? []).map((w) => ({ word: w.word, startS: w.startSeconds, endS: w.endSeconds })),
    }));
  }

  /** Stops the beam-search Workers. */
  close(): void {
    this.#pool?.close();
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}
