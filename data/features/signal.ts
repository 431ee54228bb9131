/**
 * Signal conditioning before feature extraction: peak normalisation, seeded dither and
 * pre-emphasis, each returning a new Float32Array.
 *
 * Contract: the formulas of OpenSeq2Seq's speech_utils.py (`normalize_signal`, dither
 * `x + d * N(0, 1)`, `preemphasis`). Dither draws from the toolkit's seeded xoshiro128** (see
 * rng.ts) through Marsaglia's polar method, so a seed repeats exactly here but does not
 * reproduce NumPy's stream.
 *
 * Not handled: gain in dB, DC removal, voice-activity trimming.
 */
import { Rng } from "../pipeline/rng.ts";

/**
 * Scales by 1 / (max|x| + eps): OpenSeq2Seq's `normalize_signal` (eps 1e-5 on its int16 scale).
 *
 * @example
 * ```ts
 * const y = peakNormalize(x); // max |y| just below 1
 * ```
 */
export function peakNormalize(samples: Float32Array, eps = 1e-5): Float32Array {
  let peak = 0;
  const n = samples.length;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(samples[i]);
    if (a > peak) peak = a;
  }
  const gain = 1 / (peak + eps);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = samples[i] * gain;
  return out;
}

/**
 * y[0] = x[0], y[n] = x[n] - coeff x[n-1] (returns a copy when coeff is 0).
 *
 * @example
 * ```ts
 * const y = preemphasis(x, 0.97);
 * ```
 */
export function preemphasis(samples: Float32Array, coeff: number): Float32Array {
  const n = samples.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  out[0] = samples[0];
  for (let i = 1; i < n; i++) out[i] = samples[i] - coeff * samples[i - 1];
  return out;
}

/** Options of {@link addDither}. */
export interface DitherOptions {
  /** Seed of the noise generator; default 0. */
  seed?: number;
}

/**
 * Adds `amount` times standard-normal noise drawn from a generator seeded with `seed`.
 *
 * @example
 * ```ts
 * const y = addDither(x, 1e-5, { seed: 1234 });
 * ```
 */
export function addDither(samples: Float32Array, amount: number, options: DitherOptions = {}): Float32Array {
  const seed = options.seed ?? 0;
  const n = samples.length;
  const out = new Float32Array(n);
  const rng = new Rng(seed);
  // Marsaglia's polar method: two normals per accepted pair of uniforms, no trigonometry, which
  // makes dither about 3x cheaper than one Box-Muller draw per sample.
  for (let i = 0; i < n; i += 2) {
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * rng.uniform() - 1;
      v = 2 * rng.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = amount * Math.sqrt((-2 * Math.log(s)) / s);
    out[i] = samples[i] + u * f;
    if (i + 1 < n) out[i + 1] = samples[i + 1] + v * f;
  }
  return out;
}
