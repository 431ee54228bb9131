/**
 * Jasper DR 10x5 as OpenSeq2Seq's jasper10x5_LibriSpeech_nvgrad_masks.py: 54 layers, dense
 * residual, NovoGrad, poly decay, 64 log-mel features (librosa), masks for augmentation.
 * 332,632,349 parameters with 29 outputs.
 */
import type { ConvBlockConfig } from "../tdnn.ts";
import { defaultTraining, librispeech, tdnnBatchNorm } from "./common.ts";
import type { SpeechConfig } from "./types.ts";

const block = (kernel: number, channels: number, dropout: number): ConvBlockConfig => ({
  repeat: 5,
  kernel,
  channels,
  dropout,
  residual: true,
  residualDense: true,
});

/** The config. */
export const config: SpeechConfig = {
  name: "jasper10x5_dr",
  vocabulary: "english",
  features: {
    inputType: "logfbank",
    numFeatures: 64,
    backend: "librosa",
    windowSize: 0.02,
    windowStride: 0.01,
    window: "hann",
    dither: 1e-5,
    normPerFeature: true,
    padTo: 16,
    preemphasis: 0.97,
  },
  encoder: {
    kind: "tdnn",
    activation: "relu",
    ...tdnnBatchNorm,
    blocks: [
      { repeat: 1, kernel: 11, stride: 2, channels: 256, dropout: 0.2 },
      block(11, 256, 0.2),
      block(11, 256, 0.2),
      block(13, 384, 0.2),
      block(13, 384, 0.2),
      block(17, 512, 0.2),
      block(17, 512, 0.2),
      block(21, 640, 0.3),
      block(21, 640, 0.3),
      block(25, 768, 0.3),
      block(25, 768, 0.3),
      { repeat: 1, kernel: 29, dilation: 2, channels: 896, dropout: 0.4 },
      { repeat: 1, kernel: 1, channels: 1024, dropout: 0.4 },
    ],
  },
  data: {
    ...librispeech,
    batchSize: 32,
    maxDuration: 16.7,
    freqMasks: { count: 2, width: 6 },
    timeMasks: { count: 2, width: 6 },
  },
  optimizer: {
    kind: "novograd",
    beta1: 0.95,
    beta2: 0.98,
    epsilon: 1e-8,
    weightDecay: 0.001,
    larc: { eta: 0.001 },
  },
  lrPolicy: { kind: "poly", lr: 0.02, power: 2, decaySteps: 439_200, minLr: 1e-5 },
  training: { ...defaultTraining, maxSteps: 439_200, logDir: "work/runs/jasper10x5_dr" },
  decoder: { kind: "greedy" },
};
