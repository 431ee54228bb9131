/**
 * Features of one utterance for training or evaluation: read audio -> resample to the feature
 * rate -> waveform augmentation (speed, then noise) -> computeFeatures -> SpecAugment masks, with
 * the optional feature cache in between. The same function runs in the Workers
 * (data/feature_worker.ts) and in-process, so both give identical results by construction.
 *
 * Randomness comes only from `seed` (one Rng, drawn in the fixed order speed, noise, masks), so
 * an utterance's augmentation depends on its seed alone, not on which Worker ran it or when.
 * Noise is added to a peak-normalised copy, so its dB level is relative to full scale as in
 * OpenSeq2Seq's librosa path; computeFeatures then peak-normalises again (a negligible change).
 *
 * The cache is used only when no waveform augmentation is configured (masks come after it).
 */
import { readAudioAt } from "../audio/model_audio.ts";
import { computeFeatures, type FeatureConfig } from "../features/compute_features.ts";
import type { FeatureCache } from "./feature_cache.ts";
import { addNoise, type NoiseConfig } from "../augment/noise.ts";
import { Rng } from "./rng.ts";
import { applySpecAugment, type SpecAugmentConfig } from "../augment/spec_augment.ts";
import { speedPerturb, type SpeedPerturbConfig } from "../augment/speed_perturb.ts";

/** Augmentation settings; every part optional. */
export interface AugmentConfig {
  /** Speed perturbation factors or range. */
  speed?: SpeedPerturbConfig;
  /** Additive white noise level range in dB full scale. */
  noise?: NoiseConfig;
  /** SpecAugment-style masks after normalisation. */
  specAugment?: SpecAugmentConfig;
}

/** Everything a Worker needs to extract features, sent once; plain data only. */
export interface ExtractSetup {
  /** Feature configuration (computeFeatures). */
  features: FeatureConfig;
  /** Augmentation, or none for evaluation. */
  augment?: AugmentConfig;
}

/** Features of one utterance: data [nFeatures, nFrames] row-major. */
export interface ExtractedFeatures {
  /** [nFeatures, nFrames] row-major. */
  data: Float32Array;
  /** Rows: features per frame. */
  nFeatures: number;
  /** Columns: frames. */
  nFrames: number;
  /** True when the features came from the cache. */
  cacheHit: boolean;
}

/** True when the setup changes the waveform, which makes cached features unusable. */
export function hasWaveformAugmentation(setup: ExtractSetup): boolean {
  return setup.augment?.speed !== undefined || setup.augment?.noise !== undefined;
}

/**
 * Extracts one utterance's features.
 *
 * @example
 * ```ts
 * const f = extractFeatures("a.wav", 1234, { features: { inputType: "logfbank", numFeatures: 64 } });
 * ```
 */
export function extractFeatures(
  path: string,
  seed: number,
  setup: ExtractSetup,
  cache?: FeatureCache | null,
): ExtractedFeatures {
  const rng = new Rng(seed);
  const useCache = cache != null && !hasWaveformAugmentation(setup);
  let data: Float32Array | null = null;
  let nFeatures = 0;
  let nFrames = 0;
  let cacheHit = false;
  if (useCache) {
    const hit = cache.get(path);
    if (hit !== null) {
      ({ data, nFeatures, nFrames } = hit);
      cacheHit = true;
    }
  }
  if (data === null) {
    let x = readAudioAt(path, setup.features.sampleRate ?? 16000);
    if (setup.augment?.speed) x = speedPerturb(x, rng, setup.augment.speed).samples;
    if (setup.augment?.noise) x = addNoise(peakNormalized(x), rng, setup.augment.noise).samples;
    const f = computeFeatures(x, setup.features);
    // A plain Float32Array (not the shaped subclass view) so it transfers and caches cleanly.
    data = new Float32Array(f.data.buffer, f.data.byteOffset, f.data.length);
    nFeatures = f.nFeatures;
    nFrames = f.nFrames;
    if (useCache) cache.put(path, { data, nFeatures, nFrames });
  }
  if (setup.augment?.specAugment) {
    // Masks write in place: never into an array the cache might hand out again.
    if (cacheHit) data = data.slice();
    applySpecAugment(data, rng, { nFeatures, nFrames }, setup.augment.specAugment);
  }
  return { data, nFeatures, nFrames, cacheHit };
}

/** x / (max|x| + 1e-5), OpenSeq2Seq's peak normalisation before augmentation. */
function peakNormalized(x: Float32Array): Float32Array {
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > peak) peak = a;
  }
  const g = 1 / (peak + 1e-5);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * g;
  return out;
}
