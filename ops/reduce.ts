/**
 * Reductions and normalisations over axes: mean, max (values only, like torch.amax),
 * logsumexp, softmax and logSoftmax. max, logsumexp, softmax and logSoftmax are ops with
 * their own kernels (ops/backends/<name>/reduce.ts), numerically stable by subtracting the
 * maximum. softmax and logSoftmax have one-pass backward ops (like cudnnSoftmaxBackward)
 * that fall back to elementwise ops and `sum` on a backend without their kernels; max and
 * logsumexp backward are always written that way. mean is sum times 1/count.
 *
 * Not here: sum (ops/reduce_sum.ts, which the elementwise gradients need), argmax/indices
 * (decoders read logits on the host), min/prod (nothing in the toolkit uses them).
 */
import { defineOp, hasKernel, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { broadcastTo, div, exp, mul, sub, where } from "./elementwise.ts";
import { type ReduceAttrs, reduceAxes, reducedShape, sum } from "./reduce_sum.ts";
import { reshape } from "./reshape.ts";
import { normalizeAxis } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of softmax and logSoftmax. */
export interface SoftmaxAttrs {
  /** Non-negative axis the normalisation runs along. */
  readonly axis: number;
}

/** Options of the reductions over axes. */
export interface ReduceOptions {
  /** Keep reduced axes as extent 1 (like PyTorch's keepdim). */
  keepDims?: boolean;
}

function requireFloat(name: string, x: Tensor): void {
  if (x.dtype === "int32") throw new TypeError(`${name}: needs a float tensor, got int32 ${x}`);
}

/** `g` (shaped like the reduced output) reshaped with kept axes and broadcast back to `shape`. */
function expandReduced(g: Tensor, shape: readonly number[], axes: readonly number[]): Tensor {
  return broadcastTo(reshape(g, reducedShape(shape, axes, true)), shape);
}

/** Declaration of `max` (amax). Kernels: ops/backends/<name>/reduce.ts. */
export const maxOp: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: "max",
  outputs([x], { axes, keepDims }) {
    for (const a of axes) {
      if (x.shape[a] === 0) throw new RangeError(`max: cannot reduce the empty axis ${a} of [${x.shape}]`);
    }
    return [{ shape: reducedShape(x.shape, axes, keepDims), dtype: x.dtype }];
  },
  saveInputs: [0],
  saveOutputs: [0],
  // Like torch.amax: the gradient is shared evenly between tied maxima. Ties are found as
  // x - max == 0, so a maximum of ±Infinity gets a NaN gradient (PyTorch gives 1).
  backward({ grads, inputs, outputs, attrs }) {
    const x = inputs[0]!;
    const m = expandReduced(outputs[0]!, x.shape, attrs.axes);
    const isMax = where(sub(x, m), 0, 1);
    const count = sum(isMax, attrs.axes, { keepDims: true });
    return [mul(expandReduced(grads[0]!, x.shape, attrs.axes), div(isMax, count))];
  },
});

/** Declaration of `logsumexp`. Kernels: ops/backends/<name>/reduce.ts. */
export const logsumexpOp: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: "logsumexp",
  outputs([x], { axes, keepDims }) {
    requireFloat("logsumexp", x);
    return [{ shape: reducedShape(x.shape, axes, keepDims), dtype: x.dtype }];
  },
  saveInputs: [0],
  saveOutputs: [0],
  // d lse / d x = softmax(x) = exp(x - lse).
  backward({ grads, inputs, outputs, attrs }) {
    const x = inputs[0]!;
    const p = exp(sub(x, expandReduced(outputs[0]!, x.shape, attrs.axes)));
    return [mul(expandReduced(grads[0]!, x.shape, attrs.axes), p)];
  },
});

/** Declaration of `softmax`. Kernels: ops/backends/<name>/reduce.ts. */
export const softmaxOp: OpDef<SoftmaxAttrs> = defineOp<SoftmaxAttrs>({
  name: "softmax",
  outputs([x]) {
    requireFloat("softmax", x);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  saveOutputs: [0],
  backward: ({ grads, outputs, attrs }) => [softmaxBackward(grads[0]!, outputs[0]!, { axis: attrs.axis })],
});

/** Declaration of `logSoftmax`. Kernels: ops/backends/<name>/reduce.ts. */
export const logSoftmaxOp: OpDef<SoftmaxAttrs> = defineOp<SoftmaxAttrs>({
  name: "logSoftmax",
  outputs([x]) {
    requireFloat("logSoftmax", x);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  saveOutputs: [0],
  backward: (
    { grads, outputs, attrs },
  ) => [softmaxBackward(grads[0]!, outputs[0]!, { axis: attrs.axis, isLog: true })],
});

/**
 * Declaration of `softmaxBackward` (inputs: output gradient g, forward output y), one pass
 * per line like cudnnSoftmaxBackward: dx = y·(g - Σ g·y). Kernels: ops/backends/<name>/reduce.ts.
 */
export const softmaxBackwardOp: OpDef<SoftmaxAttrs> = defineOp<SoftmaxAttrs>({
  name: "softmaxBackward",
  outputs: ([g]) => [{ shape: g.shape, dtype: g.dtype }],
});

/** Declaration of `logSoftmaxBackward` (inputs g, y): dx = g - exp(y)·Σ g. Kernels: ops/backends/<name>/reduce.ts. */
export const logSoftmaxBackwardOp: OpDef<SoftmaxAttrs> = defineOp<SoftmaxAttrs>({
  name: "logSoftmaxBackward",
  outputs: ([g]) => [{ shape: g.shape, dtype: g.dtype }],
});

/** Options of `softmaxBackward`. */
export interface SoftmaxBackwardOptions {
  /** Non-negative axis the softmax ran along. */
  axis: number;
  /** The forward was logSoftmax (default false: softmax). */
  isLog?: boolean;
}

/**
 * Gradient of softmax (or logSoftmax, `isLog`) along `axis` from the output gradient `g` and
 * the forward output `y`: the one-pass backward op where the backend has its kernel, else
 * the same formula written with elementwise ops and `sum` (so a backend needs no extra kernel).
 */
export function softmaxBackward(g: Tensor, y: Tensor, options: SoftmaxBackwardOptions): Tensor {
  const op = options.isLog ? logSoftmaxBackwardOp : softmaxBackwardOp;
  if (hasKernel(op.name, g.backend.name)) return runOp(op, [g, y], { axis: options.axis })[0];
  return softmaxBackwardComposite(g, y, options);
}

/** @internal The composite form of `softmaxBackward` (exported for tests). */
export function softmaxBackwardComposite(g: Tensor, y: Tensor, options: SoftmaxBackwardOptions): Tensor {
  const axis = options.axis;
  return options.isLog
    ? sub(g, mul(exp(y), sum(g, axis, { keepDims: true })))
    : mul(y, sub(g, sum(mul(g, y), axis, { keepDims: true })));
}

/**
 * Mean over `axis` (one axis, a list, or all when omitted), like `torch.mean`. The mean over
 * an empty axis is NaN, as in PyTorch.
 *
 * @example
 * ```ts
 * const perChannel = mean(x, [0, 2]); // x: [N, C, T] → [C]
 * ```
 */
export function mean(x: Tensor, axis?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  requireFloat("mean", x);
  const axes = reduceAxes(x.rank, axis);
  let count = 1;
  for (const a of axes) count *= x.shape[a];
  return mul(sum(x, axes, options), 1 / count);
}

/**
 * Maximum values over `axis` (one axis, a list, or all when omitted), like `torch.amax`:
 * no indices, and the gradient is shared evenly between tied maxima.
 *
 * @example
 * ```ts
 * const peak = max(logits, -1); // [T, V] → [T]
 * ```
 */
export function max(x: Tensor, axis?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  return runOp(maxOp, [x], { axes: reduceAxes(x.rank, axis), keepDims: options.keepDims ?? false })[0];
}

/**
 * log(Σ exp(x)) over `axis`, computed without overflow (the maximum is subtracted first),
 * like `torch.logsumexp`. Over an axis of only -Infinity it gives -Infinity.
 *
 * @example
 * ```ts
 * const logZ = logsumexp(scores, 1); // [N, V] → [N]
 * ```
 */
export function logsumexp(x: Tensor, axis?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  return runOp(logsumexpOp, [x], { axes: reduceAxes(x.rank, axis), keepDims: options.keepDims ?? false })[0];
}

/**
 * Softmax along `axis` (default: the last), like `torch.softmax(x, dim)`, stable for large
 * inputs.
 *
 * @example
 * ```ts
 * const probs = softmax(logits, -1);
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return runOp(softmaxOp, [x], { axis: normalizeAxis(axis, x.rank) })[0];
}

/**
 * log(softmax(x)) along `axis` (default: the last) computed as x - logsumexp(x), like
 * `torch.log_softmax(x, dim)`; what CTC consumes.
 *
 * @example
 * ```ts
 * const logProbs = logSoftmax(logits, -1); // [T, N, V]
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return runOp(logSoftmaxOp, [x], { axis: normalizeAxis(axis, x.rank) })[0];
}
