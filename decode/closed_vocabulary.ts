/**
 * Closed-vocabulary decoding: of a fixed list of transcripts (the ten digit words of a spoken
 * digit set, a command list), the one whose CTC probability given the logits is highest. This is
 * decoding with a lexicon as grammar, which the digit-recognition figures of the literature
 * (and issue 13's FSDD target) allow; it cannot output anything outside the list.
 *
 * The CTC forward algorithm runs in float64 over the log-softmax of the logits (Graves et al.
 * 2006, section 4.1). Not handled: word sequences built from the list (each candidate is one
 * whole transcript), priors over the candidates.
 */

/** Log-probability of `labels` given one utterance's logits [nFrames, V] under CTC. */
export function ctcSequenceLogProb(
  logits: Float32Array,
  options: { nFrames: number; nClasses: number; labels: ArrayLike<number>; blankIndex: number },
): number {
  const { nFrames: T, nClasses: V, labels, blankIndex } = options;
  if (logits.length < T * V) {
    throw new RangeError(
      `ctcSequenceLogProb: ${logits.length} logits, ${T} frames × ${V} classes need ${T * V}`,
    );
  }
  const S = 2 * labels.length + 1;
  // Extended label sequence: blank, l1, blank, l2, ..., blank.
  const ext = new Int32Array(S).fill(blankIndex);
  for (let i = 0; i < labels.length; i++) ext[2 * i + 1] = labels[i];
  const logSoftmax = new Float64Array(V);
  let alpha = new Float64Array(S).fill(-Infinity), next = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
    const logZ = max + Math.log(sum);
    for (let v = 0; v < V; v++) logSoftmax[v] = logits[t * V + v] - logZ;
    if (t === 0) {
      alpha[0] = logSoftmax[ext[0]];
      if (S > 1) alpha[1] = logSoftmax[ext[1]];
      continue;
    }
    for (let s = 0; s < S; s++) {
      let a = alpha[s];
      if (s > 0) a = logAdd(a, alpha[s - 1]);
      // The skip over a blank is allowed between two different labels only.
      if (s > 1 && ext[s] !== blankIndex && ext[s] !== ext[s - 2]) a = logAdd(a, alpha[s - 2]);
      next[s] = a + logSoftmax[ext[s]];
    }
    [alpha, next] = [next, alpha];
  }
  if (T === 0) return labels.length === 0 ? 0 : -Infinity;
  return S > 1 ? logAdd(alpha[S - 1], alpha[S - 2]) : alpha[0];
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** One candidate transcript with its label indices. */
export interface ClosedVocabularyEntry {
  /** The transcript, e.g. "seven". */
  text: string;
  /** Its characters as vocabulary indices. */
  labels: ArrayLike<number>;
}

/** The candidate with the highest CTC log-probability, and that log-probability. */
export function closedVocabularyDecode(
  logits: Float32Array,
  options: {
    nFrames: number;
    nClasses: number;
    blankIndex: number;
    candidates: readonly ClosedVocabularyEntry[];
  },
): { text: string; logProb: number } {
  if (options.candidates.length === 0) throw new RangeError("closedVocabularyDecode: no candidates");
  let best = options.candidates[0], bestLogProb = -Infinity;
  for (const c of options.candidates) {
    const lp = ctcSequenceLogProb(logits, { ...options, labels: c.labels });
    if (lp > bestLogProb) [best, bestLogProb] = [c, lp];
  }
  return { text: best.text, logProb: bestLogProb };
}
