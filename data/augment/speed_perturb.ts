/**
 * Speed perturbation: play the waveform faster or slower by resampling (pitch moves with speed,
 * as in Kaldi, NeMo and OpenSeq2Seq). A factor s > 1 is faster: the output lasts 1/s as long.
 * The factor is drawn, seeded, from a list (`[0.9, 1.0, 1.1]`, Jasper's setting) or uniformly
 * from a range (OpenSeq2Seq's U[1 - x, 1 + x]).
 *
 * OpenSeq2Seq resamples to `int(fs * r)` and so stretches the duration by r; for the symmetric
 * sets configs use, the drawn distribution of durations is nearly the same.
 * Not handled: tempo change without pitch change (WSOLA / phase vocoder).
 */
import { resample, type ResampleOptions } from "../audio/resample.ts";
import type { Rng } from "../pipeline/rng.ts";

/** Where speed factors come from: a list or a [min, max] range. */
export interface SpeedPerturbConfig {
  /** Factors to choose from uniformly, e.g. [0.9, 1.0, 1.1]. */
  factors?: number[];
  /** Or a range [min, max] to draw from uniformly, e.g. [0.9, 1.1]. */
  range?: [number, number];
  /**
   * Resampling filter: "kaiser_best" (default; 64 zero crossings, what OpenSeq2Seq's resampy call
   * uses) or "kaiser_fast" (16 zero crossings, resampy's fast filter, about 4x cheaper).
   */
  filter?: "kaiser_best" | "kaiser_fast";
}

/** resampy's kaiser_fast parameters (num_zeros 16, beta 8.555, rolloff 0.85). */
const KAISER_FAST: ResampleOptions = { zeroCrossings: 16, kaiserBeta: 8.555504641634386, rolloff: 0.85 };

/** Draws one speed factor. */
export function drawSpeedFactor(rng: Rng, config: SpeedPerturbConfig): number {
  if (config.factors !== undefined && config.factors.length > 0) {
    for (const f of config.factors) {
      if (!(f > 0)) throw new RangeError(`data/speed_perturb.ts: speed factors must be > 0, got ${f}`);
    }
    return rng.choice(config.factors);
  }
  if (config.range !== undefined) {
    const [lo, hi] = config.range;
    if (!(lo > 0) || !(hi >= lo)) {
      throw new RangeError(`data/speed_perturb.ts: bad speed range [${lo}, ${hi}]`);
    }
    return rng.range(lo, hi);
  }
  throw new RangeError("data/speed_perturb.ts: a speed perturbation config needs `factors` or `range`");
}

/**
 * Changes the speed of `samples` by `factor` (> 1 is faster and shorter).
 *
 * @example
 * ```ts
 * const faster = changeSpeed(samples, 1.1); // about samples.length / 1.1 samples
 * ```
 */
export function changeSpeed(
  samples: Float32Array,
  factor: number,
  options: { filter?: "kaiser_best" | "kaiser_fast" } = {},
): Float32Array {
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new RangeError(`data/speed_perturb.ts: speed factor must be positive, got ${factor}`);
  }
  if (factor === 1) return samples.slice();
  // Reinterpreting the signal as recorded at 1 Hz and resampling to 1/factor Hz keeps every
  // rate-dependent detail out of this function: only the ratio matters.
  return resample(samples, factor, 1, options.filter === "kaiser_fast" ? KAISER_FAST : {});
}

/**
 * Draws a factor and applies it; returns the new samples and the factor used.
 *
 * @example
 * ```ts
 * const { samples: out, factor } = speedPerturb(samples, new Rng(1), { factors: [0.9, 1, 1.1] });
 * ```
 */
export function speedPerturb(
  samples: Float32Array,
  rng: Rng,
  config: SpeedPerturbConfig,
): { samples: Float32Array; factor: number } {
  const factor = drawSpeedFactor(rng, config);
  return { samples: changeSpeed(samples, factor, { filter: config.filter }), factor };
}
