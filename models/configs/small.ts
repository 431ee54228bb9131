/**
 * The demo's small model: a residual TDNN (Jasper-style, 64 log-mel features, stride 2),
 * 2,326,365 parameters, sized to train from scratch on 2 CPU cores on synthetic
 * espeak-ng speech made by scripts/synth_speech.ts (work/synth/).
 */
import type { TdnnEncoderConfig } from "../tdnn.ts";
import type { SpeechConfig } from "./types.ts";

/** The small residual TDNN; the wider and separable variants keep its activation and batch norm. */
export const smallEncoder: TdnnEncoderConfig = {
  kind: "tdnn",
  activation: "relu",
  bnMomentum: 0.1,
  bnEps: 1e-3,
  blocks: [
    { repeat: 1, kernel: 11, stride: 2, channels: 128, dropout: 0.1 },
    { repeat: 2, kernel: 11, channels: 128, dropout: 0.1, residual: true },
    { repeat: 2, kernel: 13, channels: 160, dropout: 0.1, residual: true },
    { repeat: 2, kernel: 17, channels: 192, dropout: 0.1, residual: true },
    { repeat: 1, kernel: 1, channels: 256, dropout: 0.1 },
  ],
};

/** The config. */
export const config: SpeechConfig = {
  name: "small",
  vocabulary: "english",
  features: {
    inputType: "logfbank",
    numFeatures: 64,
    backend: "librosa",
    windowSize: 0.02,
    windowStride: 0.01,
    normPerFeature: true,
    padTo: 8,
    preemphasis: 0.97,
  },
  encoder: smallEncoder,
  data: {
    train: ["work/synth/train/manifest.csv"],
    eval: ["work/synth/heldout/manifest.csv"],
    infer: ["work/synth/heldout/manifest.csv"],
    batchSize: 16,
    freqMasks: { count: 2, width: 6 },
    timeMasks: { count: 2, width: 10 },
  },
  optimizer: { kind: "novograd", beta1: 0.95, beta2: 0.5, weightDecay: 0.001 },
  lrPolicy: { kind: "cosine", lr: 0.02, warmupSteps: 200, decaySteps: 3000, minLr: 1e-5 },
  training: {
    maxSteps: 3000,
    iterSize: 1,
    logEvery: 10,
    evalEvery: 500,
    saveEvery: 250,
    keepCheckpoints: 3,
    maxNonFiniteSteps: 20,
    seed: 0,
    logDir: "work/runs/small",
  },
  decoder: { kind: "greedy" },
};
