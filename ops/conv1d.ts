/**
 * conv1d and its two backward ops, conv1dBackwardData and conv1dBackwardFilter, with
 * PyTorch's semantics (cross-correlation, x [N, Cin, T], w [Cout, Cin/groups, K]).
 * Padding is a number, a [left, right] pair, "valid", or "same": PyTorch's for stride 1 and
 * TensorFlow's SAME for stride > 1 (OpenSeq2Seq's Jasper uses SAME with stride 2).
 *
 * The three ops map 1:1 onto cuDNN's convolution forward / backward-data / backward-filter;
 * the bias gradient is a `sum` over N and T. Kernels: ops/backends/<name>/conv1d.ts.
 *
 * Not here: transposed convolution, padding modes other than zeros, higher-order gradients
 * (the backward ops have no backward of their own).
 */
import { defineOp, type OpDef, type OutputSpec } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";
import { sum } from "./reduce_sum.ts";
import { checkBiasDtype, gemmOutputDtype, gradientAs } from "./gemm_dtype.ts";

/** Resolved attributes of `conv1d` (padding is explicit and may be asymmetric). */
export interface Conv1dAttrs {
  readonly stride: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly dilation: number;
  readonly groups: number;
}

/** Attributes of `conv1dBackwardData`: the forward's, plus the forward input's length T. */
export interface Conv1dBackwardDataAttrs extends Conv1dAttrs {
  readonly inputLength: number;
}

/** Attributes of `conv1dBackwardFilter`: the forward's, plus the kernel size K. */
export interface Conv1dBackwardFilterAttrs extends Conv1dAttrs {
  readonly kernelSize: number;
}

/** Padding of a convolution axis: symmetric, [before, after], "valid" (none) or "same". */
export type ConvPadding = number | readonly [number, number] | "same" | "valid";

/** Options of `conv1d`, as in `torch.nn.functional.conv1d`. */
export interface Conv1dOptions {
  /** Step between output frames; default 1. */
  stride?: number;
  /** Zero padding of the time axis; default 0. */
  padding?: ConvPadding;
  /** Spacing between kernel taps; default 1. */
  dilation?: number;
  /** Channel groups (Cin and Cout divisible by it; groups = Cin is depthwise); default 1. */
  groups?: number;
}

/**
 * Padding [before, after] that gives SAME output length ceil(len / stride).
 * For stride 1 this is PyTorch's padding="same" (total (K-1)·dilation, the odd one after);
 * for stride > 1 it is TensorFlow's SAME: total = max((out-1)·stride + (K-1)·dilation + 1 - len, 0),
 * before = floor(total / 2).
 */
export function samePadding(
  len: number,
  kernelSize: number,
  stride: number,
  dilation: number,
): [number, number] {
  const out = Math.ceil(len / stride);
  const total = Math.max((out - 1) * stride + (kernelSize - 1) * dilation + 1 - len, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Resolves one axis' padding option to [before, after]. */
export function resolvePadding(
  padding: ConvPadding,
  len: number,
  kernelSize: number,
  stride: number,
  dilation: number,
): [number, number] {
  if (padding === "same") return samePadding(len, kernelSize, stride, dilation);
  if (padding === "valid") return [0, 0];
  const [a, b] = typeof padding === "number" ? [padding, padding] : padding;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0) {
    throw new RangeError(`conv: padding must be non-negative integers, "same" or "valid", got ${padding}`);
  }
  return [a, b];
}

/** Output length of one convolution axis; throws when the kernel does not fit. */
export function convOutputLength(
  len: number,
  kernelSize: number,
  { stride, padBefore, padAfter, dilation }: {
    stride: number;
    padBefore: number;
    padAfter: number;
    dilation: number;
  },
): number {
  const span = (kernelSize - 1) * dilation + 1;
  const out = Math.floor((len + padBefore + padAfter - span) / stride) + 1;
  if (out < 1) {
    throw new RangeError(
      `conv: kernel span ${span} is longer than the padded input (${len} + ${padBefore} + ${padAfter})`,
    );
  }
  return out;
}

function checkAttrs(op: string, a: Conv1dAttrs): void {
  for (const [k, v] of [["stride", a.stride], ["dilation", a.dilation], ["groups", a.groups]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${op}: ${k} must be a positive integer, got ${v}`);
    }
  }
}

/** Checks x/w/dy shapes and groups; returns [N, Cin, T, Cout, K, Tout]. */
function conv1dDims(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  a: Conv1dAttrs,
): [number, number, number, number, number, number] {
  checkAttrs(op, a);
  if (xShape.length !== 3) throw new RangeError(`${op}: x must be [N, Cin, T], got [${xShape}]`);
  if (wShape.length !== 3) throw new RangeError(`${op}: w must be [Cout, Cin/groups, K], got [${wShape}]`);
  const [n, cin, t] = xShape;
  const [cout, cinG, k] = wShape;
  if (cin % a.groups !== 0 || cout % a.groups !== 0) {
    throw new RangeError(`${op}: Cin ${cin} and Cout ${cout} must be divisible by groups ${a.groups}`);
  }
  if (cinG !== cin / a.groups) {
    throw new RangeError(`${op}: w has ${cinG} input channels per group, x has ${cin}/${a.groups}`);
  }
  const tOut = convOutputLength(t, k, {
    stride: a.stride,
    padBefore: a.padLeft,
    padAfter: a.padRight,
    dilation: a.dilation,
  });
  return [n, cin, t, cout, k, tOut];
}

/** The GEMM dtype rule (ops/gemm_dtype.ts): float16 operands, float32 result and bias. */
function convDtype(op: string, a: Tensor, b: Tensor, bias: Tensor | null = null): OutputSpec["dtype"] {
  const dtype = gemmOutputDtype(op, [a, b]);
  checkBiasDtype(op, a.dtype, bias);
  return dtype;
}

function forwardAttrs(a: Conv1dAttrs): Conv1dAttrs {
  return {
    stride: a.stride,
    padLeft: a.padLeft,
    padRight: a.padRight,
    dilation: a.dilation,
    groups: a.groups,
  };
}

/** Declaration of `conv1d`: inputs x, w (, b). Kernels: ops/backends/<name>/conv1d.ts. */
export const conv1dOp: OpDef<Conv1dAttrs> = defineOp<Conv1dAttrs>({
  name: "conv1d",
  acceptsFloat16: true,
  outputs([x, w, b], attrs) {
    const dtype = convDtype("conv1d", x, w, b ?? null);
    const [n, , , cout, , tOut] = conv1dDims("conv1d", x.shape, w.shape, attrs);
    if (b && (b.rank !== 1 || b.shape[0] !== cout)) {
      throw new RangeError(`conv1d: bias must be [${cout}], got [${b.shape}]`);
    }
    return [{ shape: [n, cout, tOut], dtype }];
  },
  saveInputs: [0, 1],
  backward({ grads: [dyOut], inputs: [x, w], inputShapes, attrs, needsGrad }) {
    // float16 operands: the backward GEMMs take dy rounded to float16 (ops/gemm_dtype.ts).
    const dy = gradientAs(dyOut!, x!.dtype);
    const dx = needsGrad[0]
      ? gradientAs(
        runOp(conv1dBackwardDataOp, [dy, w!], { ...attrs, inputLength: inputShapes[0][2] })[0],
        x!.dtype,
      )
      : null;
    const dw = needsGrad[1]
      ? gradientAs(
        runOp(conv1dBackwardFilterOp, [x!, dy], { ...attrs, kernelSize: inputShapes[1][2] })[0],
        w!.dtype,
      )
      : null;
    const db = inputShapes.length > 2 && needsGrad[2] ? sum(dyOut!, [0, 2]) : null;
    return [dx, dw, db];
  },
});

/** Declaration of `conv1dBackwardData`: dx [N, Cin, T] from dy [N, Cout, Tout] and w. */
export const conv1dBackwardDataOp: OpDef<Conv1dBackwardDataAttrs> = defineOp<Conv1dBackwardDataAttrs>({
  name: "conv1dBackwardData",
  acceptsFloat16: true,
  outputs([dy, w], attrs) {
    const dtype = convDtype("conv1dBackwardData", dy, w);
    const [n, cout, tOut] = dy.shape;
    const cin = w.shape[1] * attrs.groups;
    const [, , , , , tExpected] = conv1dDims(
      "conv1dBackwardData",
      [n, cin, attrs.inputLength],
      w.shape,
      attrs,
    );
    if (dy.rank !== 3 || cout !== w.shape[0] || tOut !== tExpected) {
      throw new RangeError(
        `conv1dBackwardData: dy must be [N, ${w.shape[0]}, ${tExpected}], got [${dy.shape}]`,
      );
    }
    return [{ shape: [n, cin, attrs.inputLength], dtype }];
  },
});

/** Declaration of `conv1dBackwardFilter`: dw [Cout, Cin/groups, K] from x and dy. */
export const conv1dBackwardFilterOp: OpDef<Conv1dBackwardFilterAttrs> = defineOp<Conv1dBackwardFilterAttrs>({
  name: "conv1dBackwardFilter",
  acceptsFloat16: true,
  outputs([x, dy], attrs) {
    const dtype = convDtype("conv1dBackwardFilter", x, dy);
    const cout = dy.shape[1];
    const wShape = [cout, x.shape[1] / attrs.groups, attrs.kernelSize];
    const [n, , , , , tOut] = conv1dDims("conv1dBackwardFilter", x.shape, wShape, attrs);
    if (dy.rank !== 3 || dy.shape[0] !== n || dy.shape[2] !== tOut) {
      throw new RangeError(`conv1dBackwardFilter: dy must be [${n}, Cout, ${tOut}], got [${dy.shape}]`);
    }
    return [{ shape: wShape, dtype }];
  },
});

/** Resolves `conv1d` options against x's length and w's kernel size. */
export function conv1dAttrs(t: number, kernelSize: number, options: Conv1dOptions = {}): Conv1dAttrs {
  const stride = options.stride ?? 1;
  const dilation = options.dilation ?? 1;
  const [padLeft, padRight] = resolvePadding(options.padding ?? 0, t, kernelSize, stride, dilation);
  return { stride, padLeft, padRight, dilation, groups: options.groups ?? 1 };
}

/**
 * 1-D convolution like `torch.nn.functional.conv1d`: x [N, Cin, T], w [Cout, Cin/groups, K],
 * b [Cout] or null → [N, Cout, Tout] with Tout = floor((T + padL + padR - dilation·(K-1) - 1) / stride) + 1.
 * `padding: "same"` keeps Tout = ceil(T / stride) (TensorFlow's SAME when stride > 1).
 *
 * @example
 * ```ts
 * const y = conv1d(x, w, null, { stride: 2, padding: "same" });      // Jasper's first layer
 * const d = conv1d(x, wDepthwise, null, { padding: "same", groups: 256 }); // QuartzNet depthwise
 * ```
 */
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null, options: Conv1dOptions = {}): Tensor {
  if (x.rank !== 3 || w.rank !== 3) {
    throw new RangeError(
      `conv1d: x must be [N, Cin, T] and w [Cout, Cin/groups, K], got [${x.shape}], [${w.shape}]`,
    );
  }
  const attrs = conv1dAttrs(x.shape[2], w.shape[2], options);
  return runOp(conv1dOp, b ? [x, w, b] : [x, w], attrs)[0];
}

/**
 * Gradient of conv1d with respect to its input (cuDNN's backward-data): dy [N, Cout, Tout] and
 * w → dx [N, Cin, T]. `inputLength` is the forward input's T (several T give the same Tout).
 */
export function conv1dBackwardData(
  dy: Tensor,
  w: Tensor,
  options: Conv1dOptions & { inputLength: number },
): Tensor {
  const attrs = conv1dAttrs(options.inputLength, w.shape[2], options);
  return runOp(conv1dBackwardDataOp, [dy, w], {
    ...forwardAttrs(attrs),
    inputLength: options.inputLength,
  })[0];
}

/**
 * Gradient of conv1d with respect to its weight (cuDNN's backward-filter): x [N, Cin, T] and
 * dy [N, Cout, Tout] → dw [Cout, Cin/groups, kernelSize].
 */
export function conv1dBackwardFilter(
  x: Tensor,
  dy: Tensor,
  options: Conv1dOptions & { kernelSize: number },
): Tensor {
  const attrs = conv1dAttrs(x.shape[2], options.kernelSize, options);
  return runOp(conv1dBackwardFilterOp, [x, dy], {
    ...forwardAttrs(attrs),
    kernelSize: options.kernelSize,
  })[0];
}
