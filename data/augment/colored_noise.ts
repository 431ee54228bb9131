/**
 * Additive noise at a signal-to-noise ratio, in three colours: white (flat spectrum), pink
 * (power ∝ 1/f, −3 dB per octave) and brown (power ∝ 1/f², −6 dB per octave). Unlike
 * data/augment/noise.ts (OpenSeq2Seq's level in dB full scale), the level here is relative to the
 * utterance's own power, so quiet and loud recordings get the same SNR.
 *
 * Pink noise is white noise through Paul Kellet's "economy" three-pole filter, accurate to
 * ±0.5 dB above 1/1000 of the sample rate (musicdsp.org, "pink noise filter", 1999); brown noise
 * is white noise integrated by a leaky integrator (pole 0.995, so no DC drift over long files).
 *
 * Not here: recorded noise (babble, music), which needs a corpus this repository does not ship.
 */
import type { Rng } from "../pipeline/rng.ts";

/** Spectral colour of additive noise. */
export type NoiseColor = "white" | "pink" | "brown";

/** Noise colours accepted by `ColoredNoiseConfig.colors`. */
export const NOISE_COLORS: readonly NoiseColor[] = ["white", "pink", "brown"];

/** Additive noise at an SNR drawn uniformly from [minSnrDb, maxSnrDb], in a colour drawn from `colors`. */
export interface ColoredNoiseConfig {
  /** Lowest SNR in dB (noisiest), e.g. 5. */
  minSnrDb: number;
  /** Highest SNR in dB, e.g. 30. */
  maxSnrDb: number;
  /** Colours to draw from, equally likely (default all three). */
  colors?: readonly NoiseColor[];
}

/** Unit-variance noise of `n` samples in colour `color`. */
export function coloredNoise(n: number, color: NoiseColor, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  if (color === "white") {
    for (let i = 0; i < n; i++) out[i] = rng.normal();
  } else if (color === "pink") {
    let b0 = 0, b1 = 0, b2 = 0;
    for (let i = 0; i < n; i++) {
      const w = rng.normal();
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.96300 * b1 + w * 0.2965164;
      b2 = 0.57000 * b2 + w * 1.0526913;
      out[i] = b0 + b1 + b2 + w * 0.1848;
    }
  } else if (color === "brown") {
    let y = 0;
    for (let i = 0; i < n; i++) {
      y = 0.995 * y + rng.normal();
      out[i] = y;
    }
  } else {
    throw new RangeError(`coloredNoise: unknown colour "${color}" (expected ${NOISE_COLORS.join(", ")})`);
  }
  let power = 0;
  for (let i = 0; i < n; i++) power += out[i] * out[i];
  const scale = power > 0 ? 1 / Math.sqrt(power / n) : 0;
  for (let i = 0; i < n; i++) out[i] *= scale;
  return out;
}

/** Mean power of `x` (0 for an empty or silent signal). */
export function meanPower(x: Float32Array): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p += x[i] * x[i];
  return x.length > 0 ? p / x.length : 0;
}

/**
 * `samples` plus noise of colour `color` whose power is the signal's power / 10^(snrDb / 10).
 * A silent signal is returned unchanged (it has no level to be relative to).
 */
export function addNoiseAtSnr(
  samples: Float32Array,
  snrDb: number,
  color: NoiseColor,
  rng: Rng,
): Float32Array {
  const signal = meanPower(samples);
  const out = samples.slice();
  if (signal === 0) return out;
  const noise = coloredNoise(samples.length, color, rng);
  const gain = Math.sqrt(signal / Math.pow(10, snrDb / 10));
  for (let i = 0; i < out.length; i++) out[i] += gain * noise[i];
  return out;
}

/** Draws an SNR and a colour from `config` and adds the noise; returns what was drawn too. */
export function addColoredNoise(
  samples: Float32Array,
  rng: Rng,
  config: ColoredNoiseConfig,
): { samples: Float32Array; snrDb: number; color: NoiseColor } {
  if (!(config.minSnrDb <= config.maxSnrDb)) {
    throw new RangeError(`addColoredNoise: SNR range [${config.minSnrDb}, ${config.maxSnrDb}] is reversed`);
  }
  const colors = config.colors ?? NOISE_COLORS;
  if (colors.length === 0) throw new RangeError("addColoredNoise: colors is empty");
  const snrDb = config.minSnrDb + (config.maxSnrDb - config.minSnrDb) * rng.uniform();
  const color = colors[rng.int(colors.length)];
  return { samples: addNoiseAtSnr(samples, snrDb, color, rng), snrDb, color };
}
