/**
 * The shipped model's recipe (`deno task pretrain`, scripts/pretrain.ts): `small_wide` fine-tuned
 * from the espeak-ng checkpoint on speech from more than one source, through the Worker loader:
 * - the repository's training prompts spoken by the espeak-ng training voices (half in generated
 *   accents) and, for 30 % of them, by flite's `rms` voice only, so that flite `awb` stays an
 *   unseen speaker of the other engine (data/corpora/dev_sets.ts `flite_awb`);
 * - 12 % of each epoch from the Free Spoken Digit Dataset's training side: every speaker except
 *   the one held out for leave-one-speaker-out evaluation (`george`);
 * - speed perturbation, band limiting (an 8 kHz round trip as FSDD has, or the telephone band),
 *   coloured noise, synthetic-room reverberation, gain and SpecAugment.
 * The paths are the ones scripts/pretrain.ts writes under work/pretrain.
 */
import { config as smallWide } from "./small_wide.ts";
import type { SpeechConfig } from "./types.ts";

/** The FSDD speaker no shipped checkpoint trains on (the leave-one-speaker-out dev set). */
export const FSDD_HELD_OUT_SPEAKER = "george";

function withoutOldMasks(data: SpeechConfig["data"]): SpeechConfig["data"] {
  const { freqMasks: _f, timeMasks: _t, ...rest } = data;
  return rest;
}

/** The config. */
export const config: SpeechConfig = {
  ...smallWide,
  name: "small_wide_mixed",
  data: {
    // small_wide's SpecAugment (the old freqMasks/timeMasks fields) becomes augment.specAugment.
    ...withoutOldMasks(smallWide.data),
    train: ["work/pretrain/train/manifest.csv"],
    eval: ["work/pretrain/dev/manifest.csv"],
    infer: ["work/pretrain/dev/manifest.csv"],
    mix: [{ manifest: "work/pretrain/fsdd_train/manifest.csv", share: 0.12 }],
    augment: {
      speed: { range: [0.9, 1.1], filter: "kaiser_fast" },
      bandLimit: { probability: 0.3 },
      noiseSnr: { minSnrDb: 15, maxSnrDb: 50 },
      reverb: { probability: 0.2, minRt60S: 0.2, maxRt60S: 0.6 },
      gain: { minDb: -6, maxDb: 6 },
      specAugment: { nFreqMasks: 2, freqWidth: 8, nTimeMasks: 2, timeWidth: 15 },
    },
  },
  lrPolicy: { kind: "cosine", lr: 0.01, warmupSteps: 200, decaySteps: 5000, minLr: 1e-5 },
  training: {
    ...smallWide.training,
    maxSteps: 5000,
    evalEvery: 1000,
    saveEvery: 250,
    initCheckpoint: "models/pretrained/small_wide_espeak.safetensors",
    logDir: "work/pretrain/run",
  },
};
