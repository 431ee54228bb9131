/**
 * batchNorm over the channel axis of [N, C], [N, C, T] or [N, C, H, W] with PyTorch's
 * F.batch_norm semantics, and its backward op batchNormBackward. Both map 1:1 onto cuDNN's
 * cudnnBatchNormalizationForwardTraining / ForwardInference / Backward.
 *
 * - Training: normalises with the batch mean and the BIASED batch variance, and (when running
 *   statistics are given) updates them IN PLACE: running = (1 - momentum)·running + momentum·stat,
 *   with the UNBIASED variance for running_var. The kernel writes into the storage of the
 *   running tensors passed in (inputs 1 and 2), so they keep their identity, as in PyTorch and
 *   in cuDNN's forward-training call. This is the op layer's one in-place write besides
 *   optimizer updates; nothing saved for backward aliases the running tensors.
 * - Eval: normalises with the running statistics.
 * - Masked statistics (an extension; PyTorch has none): `lengths` [N] counts the valid
 *   positions of each sample along axis 2 (time, for [N, C, T] and for [N, C, T, F]); only
 *   those enter the batch statistics, so padding never changes them. Padded positions are still
 *   normalised (with the valid frames' statistics); models mask them afterwards.
 *
 * The op outputs y plus the per-channel mean and 1/sqrt(var + eps) it used (cuDNN's
 * saveMean / saveInvVariance), which backward reads. Kernels: ops/backends/<name>/batch_norm.ts.
 * Not here: the module that owns the parameters and buffers (models/), momentum = None
 * (cumulative averaging), higher-order gradients.
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { Tensor } from "./tensor.ts";
import { tensor } from "./creation.ts";

/** Attributes of `batchNorm`. Optional inputs are present when their flag is set. */
export interface BatchNormAttrs {
  readonly training: boolean;
  readonly momentum: number;
  readonly eps: number;
  readonly hasRunning: boolean;
  readonly hasWeight: boolean;
  readonly hasBias: boolean;
  readonly hasLengths: boolean;
}

/** Attributes of `batchNormBackward`. Inputs: dy, x, mean, invStd (, weight) (, lengths). */
export interface BatchNormBackwardAttrs {
  readonly training: boolean;
  readonly hasWeight: boolean;
  readonly hasLengths: boolean;
}

/** Positions of the optional inputs of `batchNorm` (-1 when absent). */
export function batchNormSlots(
  a: Pick<BatchNormAttrs, "hasRunning" | "hasWeight" | "hasBias" | "hasLengths">,
): { runningMean: number; runningVar: number; weight: number; bias: number; lengths: number } {
  let i = 1;
  const runningMean = a.hasRunning ? i++ : -1;
  const runningVar = a.hasRunning ? i++ : -1;
  const weight = a.hasWeight ? i++ : -1;
  const bias = a.hasBias ? i++ : -1;
  const lengths = a.hasLengths ? i++ : -1;
  return { runningMean, runningVar, weight, bias, lengths };
}

function checkChannelVector(name: string, t: Tensor, c: number, dtype: string): void {
  if (t.rank !== 1 || t.shape[0] !== c) {
    throw new RangeError(`batchNorm: ${name} must be [${c}], got [${t.shape}]`);
  }
  if (t.dtype !== dtype) throw new TypeError(`batchNorm: ${name} is ${t.dtype} but x is ${dtype}`);
}

function checkLengths(op: string, x: Tensor, lengths: Tensor): void {
  if (x.rank < 3) {
    throw new RangeError(`${op}: lengths need x of rank >= 3 ([N, C, T, ...]), got [${x.shape}]`);
  }
  if (lengths.dtype !== "int32" || lengths.rank !== 1 || lengths.shape[0] !== x.shape[0]) {
    throw new RangeError(
      `${op}: lengths must be int32 [${x.shape[0]}], got ${lengths.dtype} [${lengths.shape}]`,
    );
  }
}

/** Declaration of `batchNorm`: inputs x (, runningMean, runningVar) (, weight) (, bias) (, lengths). */
export const batchNormOp: OpDef<BatchNormAttrs> = defineOp<BatchNormAttrs>({
  name: "batchNorm",
  outputs(inputs, attrs) {
    const x = inputs[0];
    if (x.rank < 2) throw new RangeError(`batchNorm: x must be [N, C, ...], got [${x.shape}]`);
    if (x.dtype === "int32") throw new TypeError("batchNorm: x must be a float tensor");
    const s = batchNormSlots(attrs);
    const c = x.shape[1];
    if (!attrs.training && !attrs.hasRunning) {
      throw new RangeError("batchNorm: eval mode (training false) needs runningMean and runningVar");
    }
    if (!(attrs.eps > 0)) throw new RangeError(`batchNorm: eps must be positive, got ${attrs.eps}`);
    if (!(attrs.momentum >= 0 && attrs.momentum <= 1)) {
      throw new RangeError(`batchNorm: momentum must be in [0, 1], got ${attrs.momentum}`);
    }
    if (s.runningMean >= 0) checkChannelVector("runningMean", inputs[s.runningMean], c, x.dtype);
    if (s.runningVar >= 0) checkChannelVector("runningVar", inputs[s.runningVar], c, x.dtype);
    if (s.weight >= 0) checkChannelVector("weight", inputs[s.weight], c, x.dtype);
    if (s.bias >= 0) checkChannelVector("bias", inputs[s.bias], c, x.dtype);
    if (s.lengths >= 0) checkLengths("batchNorm", x, inputs[s.lengths]);
    if (attrs.training && s.lengths < 0 && x.size / c <= 1) {
      throw new RangeError(`batchNorm: training needs more than 1 value per channel, got [${x.shape}]`);
    }
    return [
      { shape: x.shape, dtype: x.dtype },
      { shape: [c], dtype: x.dtype },
      { shape: [c], dtype: x.dtype },
    ];
  },
  saveInputs: (a) => {
    const s = batchNormSlots(a);
    return [0, ...(s.weight >= 0 ? [s.weight] : []), ...(s.lengths >= 0 ? [s.lengths] : [])];
  },
  saveOutputs: [1, 2],
  backward({ grads, inputs, outputs, attrs, needsGrad }) {
    const s = batchNormSlots(attrs);
    const result: (Tensor | null)[] = new Array(inputs.length).fill(null);
    const dy = grads[0];
    if (!dy) return result; // gradients of the saved mean/invStd outputs are not propagated
    const ins = [dy, inputs[0]!, outputs[1]!, outputs[2]!];
    if (s.weight >= 0) ins.push(inputs[s.weight]!);
    if (s.lengths >= 0) ins.push(inputs[s.lengths]!);
    const [dx, dWeight, dBias] = runOp(batchNormBackwardOp, ins, {
      training: attrs.training,
      hasWeight: s.weight >= 0,
      hasLengths: s.lengths >= 0,
    });
    result[0] = needsGrad[0] ? dx : null;
    if (s.weight >= 0 && needsGrad[s.weight]) result[s.weight] = dWeight;
    if (s.bias >= 0 && needsGrad[s.bias]) result[s.bias] = dBias;
    return result;
  },
});

/**
 * Declaration of `batchNormBackward`: inputs dy, x, mean, invStd (, weight) (, lengths) →
 * dx, dWeight [C], dBias [C]. In training the gradient flows through the batch statistics
 * (over the valid positions only when lengths are given); in eval they are constants.
 */
export const batchNormBackwardOp: OpDef<BatchNormBackwardAttrs> = defineOp<BatchNormBackwardAttrs>({
  name: "batchNormBackward",
  outputs([dy, x, mean]) {
    if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
      throw new RangeError(`batchNormBackward: dy [${dy.shape}] and x [${x.shape}] differ`);
    }
    const c = x.shape[1];
    if (mean.shape[0] !== c) throw new RangeError(`batchNormBackward: mean must be [${c}]`);
    return [
      { shape: x.shape, dtype: x.dtype },
      { shape: [c], dtype: x.dtype },
      { shape: [c], dtype: x.dtype },
    ];
  },
});

/** Options of `batchNorm`, as in `torch.nn.functional.batch_norm`. */
export interface BatchNormOptions {
  /** Use (and update) batch statistics; default false (eval). */
  training?: boolean;
  /** Weight of the new batch statistic in the running average; default 0.1 (TensorFlow's 0.9). */
  momentum?: number;
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /**
   * Valid positions of each sample along axis 2 (int32 tensor [N] or numbers): only those
   * enter the batch statistics. Not in PyTorch.
   */
  lengths?: Tensor | readonly number[];
}

/**
 * Batch normalisation like `torch.nn.functional.batch_norm(x, running_mean, running_var,
 * weight, bias, training, momentum, eps)` (the same positional order), for x [N, C, ...].
 * In training, `runningMean` / `runningVar` (when given) are updated in place.
 *
 * @example
 * ```ts
 * const y = batchNorm(x, runningMean, runningVar, gamma, beta, { training: true, momentum: 0.1, eps: 1e-3 });
 * const z = batchNorm(x, runningMean, runningVar, gamma, beta, { training: true, lengths: [800, 613] });
 * ```
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  if ((runningMean === null) !== (runningVar === null)) {
    throw new RangeError("batchNorm: give both runningMean and runningVar, or neither");
  }
  let lengths: Tensor | null = null;
  if (options.lengths instanceof Tensor) lengths = options.lengths;
  else if (options.lengths) {
    lengths = tensor(Int32Array.from(options.lengths), [options.lengths.length], {
      dtype: "int32",
      backend: x.backend.name,
    });
  }
  const inputs = [x];
  if (runningMean && runningVar) inputs.push(runningMean, runningVar);
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  if (lengths) inputs.push(lengths);
  const attrs: BatchNormAttrs = {
    training: options.training ?? false,
    momentum: options.momentum ?? 0.1,
    eps: options.eps ?? 1e-5,
    hasRunning: runningMean !== null,
    hasWeight: weight !== null,
    hasBias: bias !== null,
    hasLengths: lengths !== null,
  };
  const [y, mean, invStd] = runOp(batchNormOp, inputs, attrs);
  // The statistics outputs stay alive through the tape when backward needs them.
  if (!mean.node) {
    mean.dispose();
    invStd.dispose();
  }
  if (lengths && !(options.lengths instanceof Tensor) && !y.node) lengths.dispose();
  return y;
}
