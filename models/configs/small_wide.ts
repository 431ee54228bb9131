/**
 * A wider variant of `small` (4,480,029 parameters) with more dropout
 * and stronger SpecAugment, trained on 3,800 synthetic sentences:
 *
 *   ./deno task synth --out work/synth2/train --count 3800 --split train --max-chars 80
 *   ./deno task synth --out work/synth2/heldout --count 200 --offset 3800 --split held-out --max-chars 80
 *   ./deno task train --config small_wide --mode train_eval
 */
import { config as small } from "./small.ts";
import type { SpeechConfig } from "./types.ts";

/** The config. */
export const config: SpeechConfig = {
  ...small,
  name: "small_wide",
  encoder: {
    kind: "tdnn",
    activation: "relu",
    bnMomentum: 0.1,
    bnEps: 1e-3,
    blocks: [
      { repeat: 1, kernel: 11, stride: 2, channels: 192, dropout: 0.2 },
      { repeat: 2, kernel: 11, channels: 192, dropout: 0.2, residual: true },
      { repeat: 2, kernel: 13, channels: 224, dropout: 0.2, residual: true },
      { repeat: 2, kernel: 17, channels: 256, dropout: 0.2, residual: true },
      { repeat: 1, kernel: 1, channels: 320, dropout: 0.2 },
    ],
  },
  data: {
    ...small.data,
    train: ["work/synth2/train/manifest.csv"],
    eval: ["work/synth2/heldout/manifest.csv"],
    infer: ["work/synth2/heldout/manifest.csv"],
    freqMasks: { count: 2, width: 10 },
    timeMasks: { count: 2, width: 20 },
  },
  lrPolicy: { kind: "cosine", lr: 0.02, warmupSteps: 300, decaySteps: 3500, minLr: 1e-5 },
  training: {
    ...small.training,
    maxSteps: 3500,
    evalEvery: 500,
    saveEvery: 500,
    logDir: "work/runs/small_wide",
  },
};
