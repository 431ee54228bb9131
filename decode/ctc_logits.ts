/**
 * The frame-by-label matrix every decoder reads: `data` is [T, V] row-major float32, one row
 * per frame, V = labels including the CTC blank. This module turns the accepted inputs into
 * that view and computes per-row log-softmax; it does not know about vocabularies or blanks.
 *
 * @module
 */

/** A [T, V] row-major matrix of per-frame scores. */
export interface CtcLogits {
  /** T·V values, frame-major: `data[t * V + v]`. */
  data: Float32Array;
  /** Number of frames. */
  T: number;
  /** Number of labels per frame, blank included. */
  V: number;
}

/**
 * Accepts a view, or a bare Float32Array with its frame count, and checks the sizes agree.
 *
 * @example
 * ```ts
 * import { asCtcLogits } from "./ctc_logits.ts";
 * asCtcLogits(new Float32Array(6), 2).V; // 3
 * ```
 */
export function asCtcLogits(logits: Float32Array | CtcLogits, nFrames?: number): CtcLogits {
  if (logits instanceof Float32Array) {
    if (nFrames === undefined || !Number.isInteger(nFrames) || nFrames < 0) {
      throw new RangeError(`decode/ctc_logits.ts: a bare Float32Array needs nFrames (got ${nFrames})`);
    }
    if (nFrames === 0) return { data: logits, T: 0, V: 0 };
    const V = logits.length / nFrames;
    if (!Number.isInteger(V)) {
      throw new RangeError(
        `decode/ctc_logits.ts: ${logits.length} values do not split into ${nFrames} frames`,
      );
    }
    return { data: logits, T: nFrames, V };
  }
  if (logits.data.length < logits.T * logits.V) {
    throw new RangeError(
      `decode/ctc_logits.ts: view says [${logits.T}, ${logits.V}] but holds ${logits.data.length} values`,
    );
  }
  return logits;
}

/**
 * Per-frame log-softmax in float64 arithmetic, written to a new Float32Array. Rows that are
 * already log-probabilities come back unchanged up to rounding, so it is safe on either.
 *
 * @example
 * ```ts
 * import { logSoftmaxRows } from "./ctc_logits.ts";
 * logSoftmaxRows({ data: new Float32Array([0, 0]), T: 1, V: 2 }); // [-0.693, -0.693]
 * ```
 */
export function logSoftmaxRows(logits: CtcLogits): Float32Array {
  const { data, T, V } = logits;
  const out = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const base = t * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (data[base + v] > max) max = data[base + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(data[base + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[base + v] = data[base + v] - lse;
  }
  return out;
}
