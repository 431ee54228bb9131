/**
 * SpecAugment-style masks as OpenSeq2Seq applies them (speech_utils.get_speech_features_librosa,
 * after normalisation): `nFreqMasks` bands of width randint(0..freqWidth) and `nTimeMasks`
 * bands of width randint(0..timeWidth), each at a start drawn from [0, size - width), set to 0.
 * Masks may overlap. Works in place on features laid out [F, T] row-major (the layout of
 * data/features.ts), limited to the first `nFrames` columns so padding stays untouched.
 *
 * Not handled: time warping, adaptive (length-proportional) masks, mask value other than 0.
 */
import type { Rng } from "../pipeline/rng.ts";

/** Mask counts and maximum widths. OpenSeq2Seq's defaults for widths are 10 and 50. */
export interface SpecAugmentConfig {
  /** Number of frequency bands to mask. */
  nFreqMasks: number;
  /** Largest frequency band width (inclusive). */
  freqWidth: number;
  /** Number of time bands to mask. */
  nTimeMasks: number;
  /** Largest time band width in frames (inclusive). */
  timeWidth: number;
}

/** One applied mask: `axis` "freq" rows or "time" columns [start, start + width). */
export interface AppliedMask {
  /** "freq" masks feature rows, "time" masks frame columns. */
  axis: "freq" | "time";
  /** First masked row or column. */
  start: number;
  /** Masked rows or columns (0 masks nothing). */
  width: number;
}

/**
 * Masks `features` ([nFeatures, stride] row-major; the first `nFrames` columns are real) in place.
 * Returns the masks drawn, for logging and tests.
 *
 * @example
 * ```ts
 * const masks = applySpecAugment(feats, new Rng(0), { nFeatures: 64, nFrames: 300 },
 *   { nFreqMasks: 2, freqWidth: 10, nTimeMasks: 2, timeWidth: 50 });
 * ```
 */
export function applySpecAugment(
  features: Float32Array,
  rng: Rng,
  shape: { nFeatures: number; nFrames: number; stride?: number },
  config: SpecAugmentConfig,
): AppliedMask[] {
  const { nFeatures, nFrames } = shape;
  const stride = shape.stride ?? nFrames;
  if (features.length < nFeatures * stride || nFrames > stride) {
    throw new RangeError(
      `data/spec_augment.ts: features of length ${features.length} do not hold [${nFeatures}, ${stride}] with ${nFrames} frames`,
    );
  }
  const masks: AppliedMask[] = [];
  for (let m = 0; m < config.nFreqMasks; m++) {
    const width = rng.int(Math.min(config.freqWidth, nFeatures) + 1);
    const start = nFeatures - width > 0 ? rng.int(nFeatures - width) : 0;
    for (let f = start; f < start + width; f++) features.fill(0, f * stride, f * stride + nFrames);
    masks.push({ axis: "freq", start, width });
  }
  for (let m = 0; m < config.nTimeMasks; m++) {
    const width = rng.int(Math.min(config.timeWidth, nFrames) + 1);
    const start = nFrames - width > 0 ? rng.int(nFrames - width) : 0;
    for (let f = 0; f < nFeatures; f++) features.fill(0, f * stride + start, f * stride + start + width);
    masks.push({ axis: "time", start, width });
  }
  return masks;
}
