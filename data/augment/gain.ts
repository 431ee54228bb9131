/**
 * Random gain in dB, so a model does not learn the level its training recordings happen to
 * have. Samples are not clipped: features are computed from floats, and peak normalisation
 * (when configured) comes after augmentation.
 */
import type { Rng } from "../pipeline/rng.ts";

/** Gain drawn uniformly from [minDb, maxDb]. */
export interface GainConfig {
  /** Lowest gain in dB, e.g. -6. */
  minDb: number;
  /** Highest gain in dB, e.g. 6. */
  maxDb: number;
}

/** `samples` scaled by 10^(gainDb / 20). */
export function applyGainDb(samples: Float32Array, gainDb: number): Float32Array {
  const g = Math.pow(10, gainDb / 20);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < out.length; i++) out[i] = samples[i] * g;
  return out;
}

/** Draws a gain from `config` and applies it; returns the gain used too. */
export function randomGain(
  samples: Float32Array,
  rng: Rng,
  config: GainConfig,
): { samples: Float32Array; gainDb: number } {
  if (!(config.minDb <= config.maxDb)) {
    throw new RangeError(`randomGain: gain range [${config.minDb}, ${config.maxDb}] dB is reversed`);
  }
  const gainDb = config.minDb + (config.maxDb - config.minDb) * rng.uniform();
  return { samples: applyGainDb(samples, gainDb), gainDb };
}
