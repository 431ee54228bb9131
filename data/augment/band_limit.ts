/**
 * Band limiting, so a model trained on wideband speech also hears narrowband recordings:
 * - "8k": a round trip through 8 kHz (data/audio/resample.ts both ways), which removes
 *   everything above 4 kHz, as in FSDD's 8 kHz recordings upsampled to 16 kHz;
 * - "telephone": the 8 kHz round trip, then the 300–3400 Hz voice band of ITU-T G.712 with
 *   fourth-order Butterworth high- and low-pass filters (two cascaded biquads each, from
 *   Robert Bristow-Johnson's "Audio EQ Cookbook").
 *
 * Not here: codec artefacts (GSM, μ-law quantisation), which would need a codec per kind.
 */
import { resample } from "../audio/resample.ts";
import type { Rng } from "../pipeline/rng.ts";

/** A band-limiting channel. */
export type BandLimitKind = "8k" | "telephone";

/** Band-limiting kinds accepted by `BandLimitConfig.kinds`. */
export const BAND_LIMIT_KINDS: readonly BandLimitKind[] = ["8k", "telephone"];

/** Band limiting applied with `probability`, in a kind drawn from `kinds`. */
export interface BandLimitConfig {
  /** Chance that an utterance is band-limited, in [0, 1]. */
  probability: number;
  /** Kinds to draw from, equally likely (default both). */
  kinds?: readonly BandLimitKind[];
}

/** Filters `x` in place with the biquad b0..a2 (a0 normalised to 1), direct form I. */
function biquadInPlace(x: Float32Array, b0: number, b1: number, b2: number, a1: number, a2: number): void {
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    const y0 = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x0;
    y2 = y1;
    y1 = y0;
    x[i] = y0;
  }
}

// Q of the two sections of a 4th-order Butterworth filter: 1 / (2 cos(π/8)) and 1 / (2 cos(3π/8)).
const BUTTERWORTH4_Q = [0.5411961001461971, 1.3065629648763766];

/** Fourth-order Butterworth high-pass (`kind` "high") or low-pass ("low") at `cutoffHz`, in place. */
export function butterworth4InPlace(
  x: Float32Array,
  sampleRate: number,
  cutoffHz: number,
  kind: "high" | "low",
): void {
  if (!(cutoffHz > 0 && cutoffHz < sampleRate / 2)) {
    throw new RangeError(`butterworth4: cutoff ${cutoffHz} Hz is outside (0, ${sampleRate / 2}) Hz`);
  }
  const w0 = (2 * Math.PI * cutoffHz) / sampleRate;
  const cos = Math.cos(w0);
  for (const q of BUTTERWORTH4_Q) {
    const alpha = Math.sin(w0) / (2 * q);
    const a0 = 1 + alpha;
    const b1 = (kind === "low" ? 1 - cos : -(1 + cos)) / a0;
    const b0 = kind === "low" ? b1 / 2 : -b1 / 2;
    biquadInPlace(x, b0, b1, b0, (-2 * cos) / a0, (1 - alpha) / a0);
  }
}

/** `samples` (at `sampleRate`) through the channel `kind`, at the same rate and length. */
export function bandLimit(samples: Float32Array, sampleRate: number, kind: BandLimitKind): Float32Array {
  if (kind !== "8k" && kind !== "telephone") {
    throw new RangeError(`bandLimit: unknown kind "${kind}" (expected ${BAND_LIMIT_KINDS.join(", ")})`);
  }
  let out = samples.slice();
  if (sampleRate > 8000) {
    const narrow = resample(samples, sampleRate, 8000);
    const back = resample(narrow, 8000, sampleRate);
    out = new Float32Array(samples.length);
    out.set(back.subarray(0, samples.length));
  }
  if (kind === "telephone") {
    butterworth4InPlace(out, sampleRate, 300, "high");
    if (sampleRate > 6800) butterworth4InPlace(out, sampleRate, 3400, "low");
  }
  return out;
}

/** With probability `config.probability`, band-limits in a kind drawn from `config.kinds`. */
export function randomBandLimit(
  samples: Float32Array,
  sampleRate: number,
  rng: Rng,
  config: BandLimitConfig,
): { samples: Float32Array; kind: BandLimitKind | null } {
  if (!(config.probability >= 0 && config.probability <= 1)) {
    throw new RangeError(`randomBandLimit: probability ${config.probability} is outside [0, 1]`);
  }
  const kinds = config.kinds ?? BAND_LIMIT_KINDS;
  if (kinds.length === 0) throw new RangeError("randomBandLimit: kinds is empty");
  // Both draws always happen, so later augmentations see the same random stream either way.
  const apply = rng.uniform() < config.probability;
  const kind = kinds[rng.int(kinds.length)];
  return apply ? { samples: bandLimit(samples, sampleRate, kind), kind } : { samples, kind: null };
}
