/**
 * Greedy (best-path) CTC decoding, as `tf.nn.ctc_greedy_decoder(merge_repeated=True)` does it:
 * take the arg-max label of every frame, merge runs of the same label, then drop blanks.
 * A blank between two equal labels keeps both (that is how CTC spells double letters).
 *
 * Contract: the input is [T, V] logits, log-probs or probs (arg-max is the same for all three);
 * ties go to the lower label index. The blank index defaults to V−1, OpenSeq2Seq's convention.
 * Not done: scores or confidences (the beam search returns those).
 *
 * @module
 */
import { asCtcLogits, type CtcLogits } from "./ctc_logits.ts";

/** Options of `ctcGreedyDecode`. */
export interface CtcGreedyOptions {
  /** Frames in a bare Float32Array input (ignored for a {data, T, V} view). */
  nFrames?: number;
  /** Index of the CTC blank; default V−1 (OpenSeq2Seq puts it last). */
  blankIndex?: number;
  /**
   * Label strings used to build `text`: either V−1 entries for the non-blank labels in label
   * order (the blank skipped), or V entries indexed by label (the blank's entry unused).
   */
  vocabulary?: readonly string[];
}

/** A greedy transcription. */
export interface CtcGreedyResult {
  /** Emitted label indices, blanks removed and repeats merged. */
  labels: Int32Array;
  /** For each emitted label, the first frame of the run that produced it. */
  frames: Int32Array;
  /** The labels joined through `vocabulary`, or "" when none was given. */
  text: string;
}

/**
 * Decodes one utterance greedily.
 *
 * @example
 * ```ts
 * import { ctcGreedyDecode } from "./greedy.ts";
 * // 3 frames over labels [a, b, blank]: a a blank → "a"
 * const logits = new Float32Array([5, 0, 0, 5, 0, 0, 0, 0, 5]);
 * ctcGreedyDecode(logits, { nFrames: 3, vocabulary: ["a", "b"] }).text; // "a"
 * ```
 */
export function ctcGreedyDecode(
  logits: Float32Array | CtcLogits,
  options: CtcGreedyOptions = {},
): CtcGreedyResult {
  const { data, T, V } = asCtcLogits(logits, options.nFrames);
  const blank = options.blankIndex ?? V - 1;
  if (T > 0 && (!Number.isInteger(blank) || blank < 0 || blank >= V)) {
    throw new RangeError(`decode/greedy.ts: blank index ${blank} is outside 0..${V - 1}`);
  }
  const labels: number[] = [];
  const frames: number[] = [];
  let prev = -1;
  for (let t = 0; t < T; t++) {
    const base = t * V;
    let best = 0;
    let bestScore = data[base];
    for (let v = 1; v < V; v++) {
      if (data[base + v] > bestScore) {
        bestScore = data[base + v];
        best = v;
      }
    }
    if (best !== prev && best !== blank) {
      labels.push(best);
      frames.push(t);
    }
    prev = best;
  }
  const vocab = options.vocabulary;
  let text = "";
  if (vocab !== undefined) {
    for (const l of labels) {
      // A vocabulary without the blank: labels above the blank map to vocabulary[l - 1].
      const idx = vocab.length === V ? l : l > blank ? l - 1 : l;
      if (idx >= vocab.length) {
        throw new RangeError(`decode/greedy.ts: label ${l} has no entry in a vocabulary of ${vocab.length}`);
      }
      text += vocab[idx];
    }
  }
  return { labels: Int32Array.from(labels), frames: Int32Array.from(frames), text };
}
