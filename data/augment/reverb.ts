/**
 * Reverberation with synthetic room impulse responses: a direct-path impulse followed, after a
 * short pre-delay, by exponentially decaying Gaussian noise whose energy falls by 60 dB over
 * RT60 seconds (the statistical late-reverberation model of Schroeder, "Natural sounding
 * artificial reverberation", JAES 1962; Polack's stochastic model). The tail's energy relative
 * to the direct path sets the direct-to-reverberant ratio. Convolution is done by FFT
 * (overlap is not needed: one transform of the whole utterance).
 *
 * Not here: image-method rooms with geometry, measured impulse responses.
 */
import { ComplexFft } from "../features/fft.ts";
import type { Rng } from "../pipeline/rng.ts";

/** Reverberation applied with `probability`, RT60 drawn uniformly from [minRt60S, maxRt60S]. */
export interface ReverbConfig {
  /** Chance that an utterance is reverberated, in [0, 1]. */
  probability: number;
  /** Shortest RT60 in seconds, e.g. 0.2. */
  minRt60S: number;
  /** Longest RT60 in seconds, e.g. 0.8. */
  maxRt60S: number;
  /** Direct-to-reverberant energy ratio in dB (default 0: as much energy in the tail as the direct path). */
  drrDb?: number;
}

/** Ln(10^6): energy decays by 60 dB when this many time constants have passed. */
const LN_1E6 = Math.log(1e6);

/**
 * A synthetic room impulse response at `sampleRate`: 1 at t = 0, then from 2 ms on a noise tail
 * with energy envelope exp(−ln(10⁶)·t / RT60), lasting RT60 seconds, scaled to `drrDb`.
 */
export function syntheticRir(sampleRate: number, rt60S: number, rng: Rng, drrDb = 0): Float32Array {
  if (!(rt60S > 0 && rt60S <= 5)) throw new RangeError(`syntheticRir: RT60 ${rt60S} s is outside (0, 5] s`);
  const n = Math.max(2, Math.ceil(rt60S * sampleRate));
  const preDelay = Math.min(n - 1, Math.round(0.002 * sampleRate));
  const h = new Float32Array(n);
  let tailEnergy = 0;
  for (let i = preDelay; i < n; i++) {
    // Amplitude envelope is the square root of the energy envelope.
    const v = rng.normal() * Math.exp((-0.5 * LN_1E6 * i) / (rt60S * sampleRate));
    h[i] = v;
    tailEnergy += v * v;
  }
  const scale = tailEnergy > 0 ? Math.sqrt(Math.pow(10, -drrDb / 10) / tailEnergy) : 0;
  for (let i = preDelay; i < n; i++) h[i] *= scale;
  h[0] = 1;
  return h;
}

/** `x` convolved with `h`, truncated to x's length (the tail past the end is dropped). */
export function convolveSame(x: Float32Array, h: Float32Array): Float32Array {
  const need = x.length + h.length - 1;
  let size = 1;
  while (size < need) size *= 2;
  const fft = new ComplexFft(size);
  const xr = new Float64Array(size), xi = new Float64Array(size);
  const hr = new Float64Array(size), hi = new Float64Array(size);
  for (let i = 0; i < x.length; i++) xr[i] = x[i];
  for (let i = 0; i < h.length; i++) hr[i] = h[i];
  fft.forward(xr, xi);
  fft.forward(hr, hi);
  // Product, conjugated: the inverse transform is conj(FFT(conj(X·H))) / size.
  for (let k = 0; k < size; k++) {
    const re = xr[k] * hr[k] - xi[k] * hi[k];
    const im = xr[k] * hi[k] + xi[k] * hr[k];
    xr[k] = re;
    xi[k] = -im;
  }
  fft.forward(xr, xi);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = xr[i] / size;
  return out;
}

/** With probability `config.probability`, reverberates `samples` in a room of random RT60. */
export function randomReverb(
  samples: Float32Array,
  sampleRate: number,
  rng: Rng,
  config: ReverbConfig,
): { samples: Float32Array; rt60S: number | null } {
  if (!(config.probability >= 0 && config.probability <= 1)) {
    throw new RangeError(`randomReverb: probability ${config.probability} is outside [0, 1]`);
  }
  if (!(config.minRt60S > 0 && config.minRt60S <= config.maxRt60S)) {
    throw new RangeError(
      `randomReverb: RT60 range [${config.minRt60S}, ${config.maxRt60S}] s is not increasing`,
    );
  }
  const apply = rng.uniform() < config.probability;
  const rt60S = config.minRt60S + (config.maxRt60S - config.minRt60S) * rng.uniform();
  if (!apply) return { samples, rt60S: null };
  const h = syntheticRir(sampleRate, rt60S, rng, config.drrDb ?? 0);
  return { samples: convolveSame(samples, h), rt60S };
}
