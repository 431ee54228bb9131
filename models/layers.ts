/**
 * Layers shared by the model families, with PyTorch's parameter names and initialisations:
 * Conv1d, Conv2d, BatchNorm (1-D and 2-D input), Linear. Each layer masks padded frames when
 * given a mask, so that padding never changes the result for valid frames.
 *
 * Under `precision` "fp16" (Module.setPrecision) Conv1d, Conv2d and Linear cast their input and
 * weight to float16 right before the GEMM/convolution, which returns float32; the bias is added
 * in float32 and the weights themselves stay float32 (models/precision.ts).
 */
import { batchNorm } from "../ops/batch_norm.ts";
import { conv1d } from "../ops/conv1d.ts";
import { conv2d } from "../ops/conv2d.ts";
import { cast, linear, ones, randomNormal, randomUniform, type Rng, type Tensor, zeros } from "../ops/mod.ts";
import { Module } from "./module.ts";
import { gemmDtype, type Precision } from "./precision.ts";

/** `t` as a GEMM input under `precision`: cast to float16 in fp16, itself in f32. */
function gemmInput(t: Tensor, precision: Precision): Tensor {
  const dtype = gemmDtype(precision);
  return t.dtype === dtype ? t : cast(t, dtype);
}

/** Xavier/Glorot normal initialisation (OpenSeq2Seq's conv and FC initialiser). */
function xavierNormal(shape: number[], fanIn: number, fanOut: number, rng: Rng): Tensor {
  return randomNormal(shape, rng, { std: Math.sqrt(2 / (fanIn + fanOut)) });
}

/** Options of `Conv1d`. */
export interface Conv1dLayerOptions {
  /** Time stride; default 1. */
  stride?: number;
  /** Spacing between kernel taps in frames; default 1. */
  dilation?: number;
  /** Channel groups (inChannels for a depthwise convolution); default 1. */
  groups?: number;
  /** Add a learned bias (zero-initialised); default false. */
  bias?: boolean;
  /** Random source of the Xavier-normal weight initialisation. */
  rng: Rng;
}

/**
 * 1-D convolution over [N, C, T] with symmetric padding (kernel−1)/2·dilation, so output
 * length is ceil(T/stride) and frame alignment does not depend on T (unlike TF's SAME).
 */
export class Conv1d extends Module {
  /** Kernel [Cout, Cin/groups, kernelSize], Xavier-normal initialised (parameter `weight`). */
  readonly weight: Tensor;
  /** Bias [Cout], zero-initialised; null unless `options.bias`. */
  readonly bias: Tensor | null;
  /** Time stride. */
  readonly stride: number;
  /** Spacing between kernel taps in frames. */
  readonly dilation: number;
  /** Channel groups; each maps Cin/groups input channels to Cout/groups outputs. */
  readonly groups: number;
  /** Kernel width in frames. */
  readonly kernelSize: number;

  /** Convolution from `inChannels` to `outChannels` over `kernelSize` frames, weights from `options.rng`. */
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv1dLayerOptions) {
    super();
    this.stride = options.stride ?? 1;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    this.kernelSize = kernelSize;
    const perGroup = inChannels / this.groups;
    this.weight = this.param(
      "weight",
      xavierNormal(
        [outChannels, perGroup, kernelSize],
        perGroup * kernelSize,
        outChannels * kernelSize / this.groups,
        options.rng,
      ),
    );
    this.bias = options.bias ? this.param("bias", zeros([outChannels])) : null;
  }

  /** x: [N, Cin, T] → [N, Cout, ceil(T/stride)]. */
  forward(x: Tensor): Tensor {
    const pad = Math.floor((this.kernelSize - 1) * this.dilation / 2);
    return conv1d(gemmInput(x, this.precision), gemmInput(this.weight, this.precision), this.bias, {
      stride: this.stride,
      padding: [pad, (this.kernelSize - 1) * this.dilation - pad],
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /** Output length for an input of `length` valid frames. */
  outputLength(length: number): number {
    return Math.ceil(length / this.stride);
  }
}

/** 2-D convolution over [N, C, H, W] with symmetric padding floor(k/2) per axis. */
export class Conv2d extends Module {
  /** Kernel [Cout, Cin, kh, kw], Xavier-normal initialised (parameter `weight`). */
  readonly weight: Tensor;
  /** Bias [Cout], zero-initialised; null unless `options.bias`. */
  readonly bias: Tensor | null;
  /** Strides [sh, sw] along H and W; default [1, 1]. */
  readonly stride: [number, number];
  /** Kernel size [kh, kw]; both odd. */
  readonly kernel: [number, number];

  /**
   * A convolution from `inChannels` to `outChannels` with an odd `kernel` [kh, kw] (a RangeError
   * otherwise); weights drawn from `options.rng`, no bias unless `options.bias`.
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernel: [number, number],
    options: { stride?: [number, number]; bias?: boolean; rng: Rng },
  ) {
    super();
    if (kernel[0] % 2 === 0 || kernel[1] % 2 === 0) {
      throw new RangeError(`Conv2d: kernel [${kernel}] must be odd`);
    }
    this.kernel = kernel;
    this.stride = options.stride ?? [1, 1];
    const fan = kernel[0] * kernel[1];
    this.weight = this.param(
      "weight",
      xavierNormal([outChannels, inChannels, ...kernel], inChannels * fan, outChannels * fan, options.rng),
    );
    this.bias = options.bias ? this.param("bias", zeros([outChannels])) : null;
  }

  /** x: [N, Cin, H, W] → [N, Cout, ceil(H/sh), ceil(W/sw)]. */
  forward(x: Tensor): Tensor {
    const [kh, kw] = this.kernel;
    return conv2d(gemmInput(x, this.precision), gemmInput(this.weight, this.precision), this.bias, {
      stride: this.stride,
      padding: [(kh - 1) / 2, (kw - 1) / 2],
    });
  }
}

/** Batch normalisation over channels of [N, C, T] or [N, C, H, W], PyTorch names and semantics. */
export class BatchNorm extends Module {
  /** Scale γ [C], initialised to ones (parameter `weight`). */
  readonly weight: Tensor;
  /** Shift β [C], initialised to zeros (parameter `bias`). */
  readonly bias: Tensor;
  /** Running mean [C] used in eval mode (buffer `running_mean`, initially zeros). */
  readonly runningMean: Tensor;
  /** Running variance [C] used in eval mode (buffer `running_var`, initially ones). */
  readonly runningVar: Tensor;
  /** Weight of each batch statistic in the running averages (PyTorch sense); default 0.1. */
  readonly momentum: number;
  /** Added to the variance before the square root; default 1e-5. */
  readonly eps: number;

  /** `momentum` in PyTorch's sense (TF's 0.9 decay is PyTorch's 0.1). */
  constructor(channels: number, options: { momentum?: number; eps?: number } = {}) {
    super();
    this.momentum = options.momentum ?? 0.1;
    this.eps = options.eps ?? 1e-5;
    this.weight = this.param("weight", ones([channels]));
    this.bias = this.param("bias", zeros([channels]));
    this.runningMean = this.buffer("running_mean", zeros([channels]));
    this.runningVar = this.buffer("running_var", ones([channels]));
  }

  /** Normalises x [N, C, T, ...]; `lengths` (valid frames along axis 2) keep padding out of batch statistics. */
  forward(x: Tensor, lengths: ArrayLike<number> | null = null): Tensor {
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      lengths: lengths ? Array.from(lengths) : undefined,
    });
  }
}

/** Fully connected layer y = x·wᵀ + b over the last axis. */
export class Linear extends Module {
  /** Weight [out, in]: Xavier normal, or U(−1/√in, 1/√in) with `init: "uniform"` (parameter `weight`). */
  readonly weight: Tensor;
  /** Bias [out], zero-initialised; present unless `options.bias` is false. */
  readonly bias: Tensor | null;

  /** A layer from `inFeatures` to `outFeatures`; weights from `options.rng` (Xavier normal by default). */
  constructor(
    inFeatures: number,
    outFeatures: number,
    options: { bias?: boolean; rng: Rng; init?: "xavier" | "uniform" },
  ) {
    super();
    this.weight = this.param(
      "weight",
      options.init === "uniform"
        ? randomUniform([outFeatures, inFeatures], options.rng, {
          low: -1 / Math.sqrt(inFeatures),
          high: 1 / Math.sqrt(inFeatures),
        })
        : xavierNormal([outFeatures, inFeatures], inFeatures, outFeatures, options.rng),
    );
    this.bias = (options.bias ?? true) ? this.param("bias", zeros([outFeatures])) : null;
  }

  /** x: [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(gemmInput(x, this.precision), gemmInput(this.weight, this.precision), this.bias);
  }
}
