/**
 * Additive white Gaussian noise at a level in dB relative to full scale, OpenSeq2Seq's
 * `noise_level_min`/`noise_level_max` (speech_utils.augment_audio_signal, librosa path): the
 * level is an integer drawn like NumPy's `randint(min, max)` (max excluded, unless min == max)
 * and the noise standard deviation is 10^(dB / 20), for a signal peak-normalised to [-1, 1].
 * OpenSeq2Seq's defaults are -90 and -46 dB.
 *
 * Not handled: recorded noise files, SNR relative to the signal's own power, room impulses.
 */
import type { Rng } from "../pipeline/rng.ts";

/** Noise level range in dB full scale. */
export interface NoiseConfig {
  /** Lowest level, e.g. -90. */
  minDb: number;
  /** Highest level (excluded, as in NumPy's randint), e.g. -46. */
  maxDb: number;
}

/** Draws an integer noise level in [minDb, maxDb) (or exactly minDb when they are equal). */
export function drawNoiseDb(rng: Rng, config: NoiseConfig): number {
  const lo = Math.ceil(config.minDb);
  const hi = Math.ceil(config.maxDb);
  if (hi < lo) {
    throw new RangeError(`data/noise.ts: noise range [${config.minDb}, ${config.maxDb}] is reversed`);
  }
  return hi === lo ? lo : lo + rng.int(hi - lo);
}

/**
 * Adds Gaussian noise with standard deviation 10^(levelDb / 20) to a copy of `samples`.
 *
 * @example
 * ```ts
 * const noisy = addNoiseAtDb(samples, -40, new Rng(3)); // sigma = 0.01
 * ```
 */
export function addNoiseAtDb(samples: Float32Array, levelDb: number, rng: Rng): Float32Array {
  const sigma = Math.pow(10, levelDb / 20);
  const n = samples.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = samples[i] + sigma * rng.normal();
  return out;
}

/**
 * Draws a level and adds noise; returns the new samples and the level used.
 *
 * @example
 * ```ts
 * const { samples: noisy, levelDb } = addNoise(samples, new Rng(1), { minDb: -90, maxDb: -46 });
 * ```
 */
export function addNoise(
  samples: Float32Array,
  rng: Rng,
  config: NoiseConfig,
): { samples: Float32Array; levelDb: number } {
  const levelDb = drawNoiseDb(rng, config);
  return { samples: addNoiseAtDb(samples, levelDb, rng), levelDb };
}
