/**
 * Wave2Letter+ as OpenSeq2Seq's w2lplus_large_8gpus_mp.py: 17 conv layers without residuals,
 * clipped ReLU (0, 20), momentum SGD + L2 + LARC, psf log filterbanks. 106,496,285 parameters.
 */
import type { ConvBlockConfig } from "../tdnn.ts";
import { defaultTraining, librispeech, tdnnBatchNorm } from "./common.ts";
import type { SpeechConfig } from "./types.ts";

const block = (kernel: number, channels: number, dropout: number): ConvBlockConfig => ({
  repeat: 3,
  kernel,
  channels,
  dropout,
});

/** The config. */
export const config: SpeechConfig = {
  name: "w2lplus_large",
  vocabulary: "english",
  features: {
    inputType: "logfbank",
    numFeatures: 64,
    backend: "psf",
    windowSize: 0.02,
    windowStride: 0.01,
    padTo: 8,
  },
  encoder: {
    kind: "tdnn",
    activation: "clipped_relu",
    ...tdnnBatchNorm,
    blocks: [
      { repeat: 1, kernel: 11, stride: 2, channels: 256, dropout: 0.2 },
      block(11, 256, 0.2),
      block(13, 384, 0.2),
      block(17, 512, 0.2),
      block(21, 640, 0.3),
      block(25, 768, 0.3),
      { repeat: 1, kernel: 29, dilation: 2, channels: 896, dropout: 0.4 },
      { repeat: 1, kernel: 1, channels: 1024, dropout: 0.4 },
    ],
  },
  data: { ...librispeech, batchSize: 64, maxDuration: 16.7 },
  optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 0.001, larc: { eta: 0.001 } },
  lrPolicy: { kind: "poly", lr: 0.05, power: 2, decaySteps: 109_800 },
  training: { ...defaultTraining, maxSteps: 109_800, logDir: "work/runs/w2lplus_large" },
  decoder: { kind: "greedy" },
};
