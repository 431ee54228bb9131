/**
 * A narrow QuartzNet 5x5 (Kriman et al. 2020, NeMo's quartznet_5x5): a separable-convolution
 * prologue with stride 2, five residual blocks of five time-channel separable sub-blocks
 * (kernels 33, 39, 51, 63, 75), a dilated separable epilogue and a 1x1 layer, at 128–256
 * channels instead of 256–1024, so it trains on 2 CPU cores. Used by bench/train_vs_torch.ts
 * beside `small` (a plain-convolution Jasper-style model of similar size).
 */
import type { ConvBlockConfig } from "../tdnn.ts";
import { config as small, smallEncoder } from "./small.ts";
import type { SpeechConfig } from "./types.ts";

const block = (kernel: number, channels: number): ConvBlockConfig => ({
  repeat: 5,
  kernel,
  channels,
  dropout: 0,
  residual: true,
  separable: true,
});

/** The config (64 log-mel features, NovoGrad with cosine decay, as NeMo trains QuartzNet). */
export const config: SpeechConfig = {
  ...small,
  name: "quartznet_small",
  encoder: {
    ...smallEncoder,
    blocks: [
      { repeat: 1, kernel: 33, stride: 2, channels: 128, dropout: 0, separable: true },
      block(33, 128),
      block(39, 128),
      block(51, 128),
      block(63, 192),
      block(75, 192),
      { repeat: 1, kernel: 87, dilation: 2, channels: 256, dropout: 0, separable: true },
      { repeat: 1, kernel: 1, channels: 384, dropout: 0 },
    ],
  },
  optimizer: { kind: "novograd", beta1: 0.8, beta2: 0.5, weightDecay: 0.001 },
  lrPolicy: { kind: "cosine", lr: 0.01, warmupSteps: 200, decaySteps: 3000, minLr: 1e-5 },
  training: { ...small.training, logDir: "work/runs/quartznet_small" },
};
