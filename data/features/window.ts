/**
 * Analysis windows for short-time transforms.
 *
 * Contract: `analysisWindow(kind, length, { periodic })` returns the window as a Float64Array.
 * Periodic windows (the default) are what librosa uses for `window="hann"` (scipy
 * `get_window(..., fftbins=True)`): w[i] = a - b cos(2 pi i / N). Symmetric windows divide by N - 1
 * instead; they are numpy's `np.hanning` / `np.hamming`, which OpenSeq2Seq passes to librosa and
 * python_speech_features. "none" is the rectangular window (all ones).
 *
 * Not handled: other window families (Blackman, Kaiser ...).
 */

/** Window families the feature extractors accept. */
export type WindowKind = "hann" | "hamming" | "none";

/** Options of {@link analysisWindow}. */
export interface WindowOptions {
  /** Periodic (DFT-even, librosa/scipy default) when true, symmetric (numpy) when false; default true. */
  periodic?: boolean;
}

/**
 * The analysis window of a family and length.
 *
 * @example
 * ```ts
 * const w = analysisWindow("hann", 320); // librosa's get_window("hann", 320)
 * const s = analysisWindow("hann", 320, { periodic: false }); // np.hanning(320)
 * ```
 */
export function analysisWindow(kind: WindowKind, length: number, options: WindowOptions = {}): Float64Array {
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`analysisWindow: length must be a positive integer, got ${length}`);
  }
  const w = new Float64Array(length);
  if (kind === "none") return w.fill(1);
  if (kind !== "hann" && kind !== "hamming") {
    throw new RangeError(`analysisWindow: unknown window "${kind}" (expected hann, hamming or none)`);
  }
  const periodic = options.periodic ?? true;
  if (length === 1) return w.fill(1);
  const a = kind === "hann" ? 0.5 : 0.54;
  const b = 1 - a;
  const denom = periodic ? length : length - 1;
  for (let i = 0; i < length; i++) w[i] = a - b * Math.cos((2 * Math.PI * i) / denom);
  return w;
}
