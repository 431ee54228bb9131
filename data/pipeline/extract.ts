/**
 * Features of one utterance for training or evaluation: read audio -> resample to the feature
 * rate -> waveform augmentation (`augmentWaveform`) -> computeFeatures -> SpecAugment masks, with
 * the optional feature cache in between. The same function runs in the Workers
 * (data/pipeline/feature_worker.ts) and in-process, so both give identical results by construction.
 *
 * Randomness comes only from `seed` (one Rng, drawn in the fixed order of `AugmentConfig`), so
 * an utterance's augmentation depends on its seed alone, not on which Worker ran it or when.
 * Noise is added to a peak-normalised copy, so its dB level is relative to full scale as in
 * OpenSeq2Seq's librosa path; computeFeatures then peak-normalises again (a negligible change).
 *
 * The cache is used only when no waveform augmentation is configured (masks come after it).
 */
import { readAudioAt } from "../audio/model_audio.ts";
import { computeFeatures, type FeatureConfig } from "../features/compute_features.ts";
import type { FeatureCache } from "./feature_cache.ts";
import { type BandLimitConfig, randomBandLimit } from "../augment/band_limit.ts";
import { addColoredNoise, type ColoredNoiseConfig } from "../augment/colored_noise.ts";
import { type GainConfig, randomGain } from "../augment/gain.ts";
import { addNoise, type NoiseConfig } from "../augment/noise.ts";
import { randomReverb, type ReverbConfig } from "../augment/reverb.ts";
import { Rng } from "./rng.ts";
import { applySpecAugment, type SpecAugmentConfig } from "../augment/spec_augment.ts";
import { speedPerturb, type SpeedPerturbConfig } from "../augment/speed_perturb.ts";

/**
 * Augmentation settings; every part optional. Waveform parts apply in this order, each drawing
 * from the utterance's Rng in turn: speed, reverb, band limit, noise at an SNR, noise in dB full
 * scale, gain; SpecAugment masks come after feature extraction.
 */
export interface AugmentConfig {
  /** Speed perturbation factors or range. */
  speed?: SpeedPerturbConfig;
  /** Reverberation with synthetic room impulse responses. */
  reverb?: ReverbConfig;
  /** Band limiting (an 8 kHz round trip, or the telephone band). */
  bandLimit?: BandLimitConfig;
  /** White, pink or brown noise at an SNR relative to the utterance. */
  noiseSnr?: ColoredNoiseConfig;
  /** Additive white noise level range in dB full scale (OpenSeq2Seq's noise_level_min/max). */
  noise?: NoiseConfig;
  /** Random gain. */
  gain?: GainConfig;
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
  const a = setup.augment;
  return a !== undefined &&
    [a.speed, a.reverb, a.bandLimit, a.noiseSnr, a.noise, a.gain].some((part) => part !== undefined);
}

/** `x` (at `sampleRate`) through the waveform augmentations of `augment`, in their fixed order. */
export function augmentWaveform(
  x: Float32Array,
  sampleRate: number,
  rng: Rng,
  augment: AugmentConfig,
): Float32Array {
  if (augment.speed) x = speedPerturb(x, rng, augment.speed).samples;
  if (augment.reverb) x = randomReverb(x, sampleRate, rng, augment.reverb).samples;
  if (augment.bandLimit) x = randomBandLimit(x, sampleRate, rng, augment.bandLimit).samples;
  if (augment.noiseSnr) x = addColoredNoise(x, rng, augment.noiseSnr).samples;
  if (augment.noise) x = addNoise(peakNormalized(x), rng, augment.noise).samples;
  if (augment.gain) x = randomGain(x, rng, augment.gain).samples;
  return x;
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
    const rate = setup.features.sampleRate ?? 16000;
    let x = readAudioAt(path, rate);
    if (setup.augment) x = augmentWaveform(x, rate, rng, setup.augment);
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
