/**
 * DeepSpeech2 settings of OpenSeq2Seq: ds2_large_8gpus_mp.py (58,971,133 parameters),
 * ds2_small_1gpu.py (9,993,469) and ds2_toy_config.py. psf spectrogram features.
 */
import type { DeepSpeech2EncoderConfig } from "../deepspeech2.ts";
import { defaultTraining, librispeech } from "./common.ts";
import type { SpeechConfig } from "./types.ts";

const frontEnd: DeepSpeech2EncoderConfig["convLayers"] = [
  { kernel: [11, 41], stride: [2, 2], channels: 32 },
  { kernel: [11, 21], stride: [1, 2], channels: 32 },
];
// TF decay 0.99 → PyTorch momentum 0.01.
const ds2Bn = { bnMomentum: 0.01, bnEps: 1e-3 };

/** ds2_large_8gpus_mp: 5 × biGRU 800, FC 1600, 160 spectrogram features. */
export const large: SpeechConfig = {
  name: "ds2_large",
  vocabulary: "english",
  features: {
    inputType: "spectrogram",
    numFeatures: 160,
    backend: "psf",
    windowSize: 0.02,
    windowStride: 0.01,
    padTo: 8,
  },
  encoder: {
    kind: "ds2",
    convLayers: frontEnd,
    rnnLayers: 5,
    rnnUnits: 800,
    bidirectional: true,
    hidden: 1600,
    dropout: 0.5,
    activation: "relu",
    ...ds2Bn,
  },
  data: {
    ...librispeech,
    batchSize: 16,
    maxDuration: 16.7,
    speedPerturbation: [0.95, 1.05],
    noiseDb: [-90, -60],
  },
  optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 0.0005, larc: { eta: 0.001 } },
  lrPolicy: { kind: "poly", lr: 0.001, power: 0.5, decaySteps: 109_850 },
  training: {
    ...defaultTraining,
    maxSteps: 109_850,
    saveEvery: 10_000,
    evalEvery: 5000,
    logDir: "work/runs/ds2_large",
  },
  decoder: { kind: "greedy", beamWidth: 512, alpha: 2.0, beta: 1.0 },
};

/** ds2_small_1gpu: 2 × biGRU 512, FC 1024, 96 spectrogram features, Adam + exponential decay. */
export const small: SpeechConfig = {
  ...large,
  name: "ds2_small",
  features: { ...large.features, numFeatures: 96 },
  encoder: { ...(large.encoder as DeepSpeech2EncoderConfig), rnnLayers: 2, rnnUnits: 512, hidden: 1024 },
  data: { ...large.data, batchSize: 32, maxDuration: undefined },
  optimizer: { kind: "adam", weightDecay: 0.0005 },
  lrPolicy: { kind: "exp", lr: 1e-4, decaySteps: 5000, decayRate: 0.9, staircase: true },
  training: { ...large.training, maxSteps: 49_704, saveEvery: 1000, logDir: "work/runs/ds2_small" },
};

/** ds2_toy_config: convs 32/64/96, 1 × biGRU 256, clipped ReLU, no dropout. */
export const toy: SpeechConfig = {
  ...large,
  name: "ds2_toy",
  encoder: {
    kind: "ds2",
    convLayers: [
      { kernel: [11, 41], stride: [2, 2], channels: 32 },
      { kernel: [11, 21], stride: [1, 2], channels: 64 },
      { kernel: [11, 21], stride: [1, 2], channels: 96 },
    ],
    rnnLayers: 1,
    rnnUnits: 256,
    bidirectional: true,
    hidden: 256,
    dropout: 0,
    activation: "clipped_relu",
    ...ds2Bn,
  },
  data: { ...large.data, batchSize: 8, speedPerturbation: undefined, noiseDb: undefined },
  lrPolicy: { kind: "poly", lr: 0.001, power: 0.5, decaySteps: 1000 },
  training: { ...large.training, maxSteps: 1000, logDir: "work/runs/ds2_toy" },
  decoder: { kind: "beam", beamWidth: 64, alpha: 1.0, beta: 1.5 },
};
