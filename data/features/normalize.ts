/**
 * Feature normalisation and frame padding on [F, T] row-major matrices, in place.
 *
 * Contract: "per_feature" subtracts each row's mean over time and divides by its population
 * standard deviation (numpy's np.std, ddof 0); "global" does the same with one mean and std over
 * the whole matrix; "none" leaves it. The divisor is max(std, stdFloor) so silence or a constant
 * input never divides by zero (OpenSeq2Seq divides by std alone and produces NaN there, its
 * issue #325); with the default floor 1e-5 results equal OpenSeq2Seq's whenever std >= 1e-5.
 *
 * Not handled: running (dataset-wide) statistics; pass precomputed mean/std elsewhere.
 */
import { type Matrix2D, withShape } from "./shaped.ts";

/** How features are normalised: per feature row over time, over the whole matrix, or not at all. */
export type FeatureNormalization = "per_feature" | "global" | "none";

/** Options of {@link normalizeFeatures}. */
export interface NormalizeOptions {
  /** Smallest standard deviation divided by; default 1e-5. */
  stdFloor?: number;
}

/**
 * Normalises an [nFeatures, nFrames] matrix in place, with float64 accumulators.
 *
 * @example
 * ```ts
 * normalizeFeatures(feats, "per_feature");
 * ```
 */
export function normalizeFeatures(
  data: Matrix2D,
  mode: FeatureNormalization,
  options: NormalizeOptions = {},
): void {
  const [nF, nT] = data.shape;
  const floor = options.stdFloor ?? 1e-5;
  if (mode === "none" || nT === 0 || nF === 0) return;
  if (mode !== "per_feature" && mode !== "global") {
    throw new RangeError(`normalizeFeatures: unknown mode "${mode}" (per_feature, global or none)`);
  }
  const rows = mode === "per_feature" ? nF : 1;
  const len = mode === "per_feature" ? nT : nF * nT;
  for (let r = 0; r < rows; r++) {
    const base = r * len;
    let sum = 0;
    for (let i = 0; i < len; i++) sum += data[base + i];
    const mean = sum / len;
    let ss = 0;
    for (let i = 0; i < len; i++) {
      const d = data[base + i] - mean;
      ss += d * d;
    }
    const std = Math.sqrt(ss / len);
    const inv = 1 / Math.max(std, floor);
    for (let i = 0; i < len; i++) data[base + i] = (data[base + i] - mean) * inv;
  }
}

/**
 * Appends zero frames to an [nFeatures, nFrames] matrix so nFrames becomes a multiple of
 * `padTo` (returns the input itself when padTo <= 1 or it already is one).
 *
 * @example
 * ```ts
 * const padded = padFrames(feats, 8); // feats.shape [64, 101] -> [64, 104]
 * ```
 */
export function padFrames(features: Matrix2D, padTo: number): Matrix2D {
  const [nF, nT] = features.shape;
  if (!(padTo > 1) || nT % padTo === 0) return features;
  const nT2 = nT + (padTo - (nT % padTo));
  const out = new Float32Array(nF * nT2);
  for (let f = 0; f < nF; f++) out.set(features.subarray(f * nT, (f + 1) * nT), f * nT2);
  return withShape(out, nF, nT2);
}
