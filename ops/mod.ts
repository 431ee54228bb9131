/**
 * Public names of `ops/`: tensors, autograd, memory scopes and the ops, re-exported by the
 * root mod.ts. Importing it registers the cpu backend; GPU backends register themselves
 * when their module is imported and initialised (see ops/backends/).
 *
 * @module
 */
import "./backends/cpu/mod.ts";

export type { DType, TypedArray } from "./dtype.ts";
export type { Shape } from "./shape.ts";
export type { Backend } from "./backend.ts";
export type { KernelProfileEntry } from "./kernel_profile.ts";
export { Tensor } from "./tensor.ts";
export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  describeBackend,
  isKernelFallbackEnabled,
  kernelFallbackCounts,
  listBackends,
  setBackend,
  type SetBackendOptions,
  setKernelFallback,
} from "./backends/mod.ts";
export { assign, isGradEnabled, noGrad, releaseGrad } from "./tape.ts";
export { defaultBackend, getBackend, setDefaultBackend } from "./backend_registry.ts";
export { keep, TensorScope, tidy } from "./scopes.ts";
export { startKernelProfile, stopKernelProfile } from "./kernel_profile.ts";
export {
  full,
  ones,
  randomNormal,
  randomUniform,
  scalar,
  tensor,
  type TensorOptions,
  zeros,
} from "./creation.ts";
export { Rng, type RngState } from "./random.ts";
export {
  abs,
  type ActivationMasks,
  add,
  addHardtanhMasked,
  addRelu,
  addReluMasked,
  broadcastTo,
  div,
  exp,
  finiteMask,
  hardtanh,
  log,
  maximum,
  minimum,
  mul,
  mulAdd,
  neg,
  onesLike,
  pow,
  relu,
  sigmoid,
  sqrt,
  sub,
  tanh,
  where,
  zerosLike,
} from "./elementwise.ts";
export { reshape } from "./reshape.ts";
export { cast, type CastAttrs } from "./cast.ts";
export { sum } from "./reduce_sum.ts";
export { logSoftmax, logsumexp, max, mean, type ReduceOptions, softmax } from "./reduce.ts";
export { permute, transpose } from "./permute.ts";
export { narrow, slice, type SliceRange } from "./slice.ts";
export { concat } from "./concat.ts";
export { pad } from "./pad.ts";
export { gather } from "./gather.ts";
export {
  applySequenceMask,
  type ApplySequenceMaskOptions,
  maskedFill,
  sequenceMask,
  type SequenceMaskOptions,
} from "./masks.ts";
export { dropout, dropoutMask, type DropoutOptions } from "./dropout.ts";
export { linear, matmul, type MatmulAttrs } from "./matmul.ts";
export { type BlasInfo, blasInfo, setBlasThreads } from "./backends/cpu/blas.ts";
export {
  conv1d,
  conv1dBackwardData,
  conv1dBackwardFilter,
  type Conv1dOptions,
  type ConvPadding,
  samePadding,
} from "./conv1d.ts";
export { conv2d, conv2dBackwardData, conv2dBackwardFilter, type Conv2dOptions } from "./conv2d.ts";
export { batchNorm, type BatchNormOptions } from "./batch_norm.ts";
export { gruLayer, lstmLayer, type RnnDirectionWeights } from "./rnn.ts";
export { ctcLoss, type CtcLossOptions, type CtcReduction, type Lengths } from "./ctc_loss.ts";
export {
  type BindingKind,
  initWebGpu,
  type InitWebGpuOptions,
  type PoolStats,
  type WebGpuBackend,
  webGpuBackend,
  type WebGpuBackendOptions,
} from "./backends/webgpu/mod.ts";
