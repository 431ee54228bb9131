/**
 * The demo's model (`deno task demo`): a wider variant of `small` (4,480,029 parameters), trained
 * on up to 19,000 synthetic sentences spoken by ~40 espeak-ng voice variants. By hand:
 *
 *   ./deno task synth --out work/synth/train --count 19000 --split train --max-chars 80 --seed 1
 *   ./deno task synth --out work/synth/heldout --count 200 --offset 19000 --split held-out --max-chars 80 --seed 2
 *   ./deno task train --config small_wide --mode train_eval
 */
import { config as small, smallEncoder } from "./small.ts";
import type { SpeechConfig } from "./types.ts";

/** The config. */
export const config: SpeechConfig = {
  ...small,
  name: "small_wide",
  encoder: {
    ...smallEncoder,
    blocks: [
      { repeat: 1, kernel: 11, stride: 2, channels: 192, dropout: 0.1 },
      { repeat: 2, kernel: 11, channels: 192, dropout: 0.1, residual: true },
      { repeat: 2, kernel: 13, channels: 224, dropout: 0.1, residual: true },
      { repeat: 2, kernel: 17, channels: 256, dropout: 0.1, residual: true },
      { repeat: 1, kernel: 1, channels: 320, dropout: 0.1 },
    ],
  },
  data: {
    ...small.data,
    train: ["work/synth/train/manifest.csv"],
    eval: ["work/synth/heldout/manifest.csv"],
    infer: ["work/synth/heldout/manifest.csv"],
    freqMasks: { count: 2, width: 8 },
    timeMasks: { count: 2, width: 15 },
  },
  lrPolicy: { kind: "cosine", lr: 0.02, warmupSteps: 300, decaySteps: 6000, minLr: 1e-5 },
  training: {
    ...small.training,
    maxSteps: 6000,
    evalEvery: 1000,
    saveEvery: 250,
    logDir: "work/runs/small_wide",
  },
};
