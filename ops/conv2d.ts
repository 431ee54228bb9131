/**
 * conv2d and its two backward ops, conv2dBackwardData and conv2dBackwardFilter, with
 * PyTorch's semantics (cross-correlation, x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW]),
 * for DeepSpeech2's front end (e.g. [11×41] kernels, stride [2, 2], SAME padding).
 * Padding is a number, [ph, pw], "valid", or "same" (TensorFlow's SAME per axis, which is
 * PyTorch's "same" when the stride is 1).
 *
 * The three ops map 1:1 onto cuDNN's convolution forward / backward-data / backward-filter;
 * the bias gradient is a `sum` over N, H and W. Kernels: ops/backends/<name>/conv2d.ts.
 *
 * Not here: transposed convolution, padding modes other than zeros, higher-order gradients.
 */
import { defineOp, type OpDef, type OutputSpec } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";
import { sum } from "./reduce_sum.ts";
import { checkBiasDtype, gemmOutputDtype, gradientAs } from "./gemm_dtype.ts";
import { convOutputLength, resolvePadding } from "./conv1d.ts";

/** Resolved attributes of `conv2d` (explicit, possibly asymmetric padding). */
export interface Conv2dAttrs {
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
}

/** Attributes of `conv2dBackwardData`: the forward's plus the forward input's [H, W]. */
export interface Conv2dBackwardDataAttrs extends Conv2dAttrs {
  readonly inputSize: readonly [number, number];
}

/** Attributes of `conv2dBackwardFilter`: the forward's plus the kernel's [KH, KW]. */
export interface Conv2dBackwardFilterAttrs extends Conv2dAttrs {
  readonly kernelSize: readonly [number, number];
}

/** Options of `conv2d`, as in `torch.nn.functional.conv2d`. */
export interface Conv2dOptions {
  /** Step along H and W: one number or [sh, sw]; default 1. */
  stride?: number | readonly [number, number];
  /** Zero padding: one number, [ph, pw] (each on both sides), "valid" or "same"; default 0. */
  padding?: number | readonly [number, number] | "same" | "valid";
  /** Spacing between kernel taps: one number or [dh, dw]; default 1. */
  dilation?: number | readonly [number, number];
  /** Channel groups; default 1. */
  groups?: number;
}

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

/** Checks shapes and attributes; returns [N, Cin, H, W, Cout, KH, KW, Hout, Wout]. */
function conv2dDims(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  a: Conv2dAttrs,
): number[] {
  for (const k of ["strideH", "strideW", "dilationH", "dilationW", "groups"] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1) {
      throw new RangeError(`${op}: ${k} must be a positive integer, got ${a[k]}`);
    }
  }
  if (xShape.length !== 4) throw new RangeError(`${op}: x must be [N, Cin, H, W], got [${xShape}]`);
  if (wShape.length !== 4) {
    throw new RangeError(`${op}: w must be [Cout, Cin/groups, KH, KW], got [${wShape}]`);
  }
  const [n, cin, h, w] = xShape;
  const [cout, cinG, kh, kw] = wShape;
  if (cin % a.groups !== 0 || cout % a.groups !== 0) {
    throw new RangeError(`${op}: Cin ${cin} and Cout ${cout} must be divisible by groups ${a.groups}`);
  }
  if (cinG !== cin / a.groups) {
    throw new RangeError(`${op}: w has ${cinG} input channels per group, x has ${cin}/${a.groups}`);
  }
  const hOut = convOutputLength(h, kh, {
    stride: a.strideH,
    padBefore: a.padTop,
    padAfter: a.padBottom,
    dilation: a.dilationH,
  });
  const wOut = convOutputLength(w, kw, {
    stride: a.strideW,
    padBefore: a.padLeft,
    padAfter: a.padRight,
    dilation: a.dilationW,
  });
  return [n, cin, h, w, cout, kh, kw, hOut, wOut];
}

/** The GEMM dtype rule (ops/gemm_dtype.ts): float16 operands, float32 result and bias. */
function convDtype(op: string, a: Tensor, b: Tensor, bias: Tensor | null = null): OutputSpec["dtype"] {
  const dtype = gemmOutputDtype(op, [a, b]);
  checkBiasDtype(op, a.dtype, bias);
  return dtype;
}

function forwardAttrs(a: Conv2dAttrs): Conv2dAttrs {
  return {
    strideH: a.strideH,
    strideW: a.strideW,
    padTop: a.padTop,
    padBottom: a.padBottom,
    padLeft: a.padLeft,
    padRight: a.padRight,
    dilationH: a.dilationH,
    dilationW: a.dilationW,
    groups: a.groups,
  };
}

/** Declaration of `conv2d`: inputs x, w (, b). Kernels: ops/backends/<name>/conv2d.ts. */
export const conv2dOp: OpDef<Conv2dAttrs> = defineOp<Conv2dAttrs>({
  name: "conv2d",
  acceptsFloat16: true,
  outputs([x, w, b], attrs) {
    const dtype = convDtype("conv2d", x, w, b ?? null);
    const [n, , , , cout, , , hOut, wOut] = conv2dDims("conv2d", x.shape, w.shape, attrs);
    if (b && (b.rank !== 1 || b.shape[0] !== cout)) {
      throw new RangeError(`conv2d: bias must be [${cout}], got [${b.shape}]`);
    }
    return [{ shape: [n, cout, hOut, wOut], dtype }];
  },
  saveInputs: [0, 1],
  backward({ grads: [dyOut], inputs: [x, w], inputShapes, attrs, needsGrad }) {
    // float16 operands: the backward GEMMs take dy rounded to float16 (ops/gemm_dtype.ts).
    const dy = gradientAs(dyOut!, x!.dtype);
    const [, , h, wd] = inputShapes[0];
    const [, , kh, kw] = inputShapes[1];
    const dx = needsGrad[0]
      ? gradientAs(runOp(conv2dBackwardDataOp, [dy, w!], { ...attrs, inputSize: [h, wd] })[0], x!.dtype)
      : null;
    const dw = needsGrad[1]
      ? gradientAs(runOp(conv2dBackwardFilterOp, [x!, dy], { ...attrs, kernelSize: [kh, kw] })[0], w!.dtype)
      : null;
    const db = inputShapes.length > 2 && needsGrad[2] ? sum(dyOut!, [0, 2, 3]) : null;
    return [dx, dw, db];
  },
});

/** Declaration of `conv2dBackwardData`: dx [N, Cin, H, W] from dy [N, Cout, Hout, Wout] and w. */
export const conv2dBackwardDataOp: OpDef<Conv2dBackwardDataAttrs> = defineOp<Conv2dBackwardDataAttrs>({
  name: "conv2dBackwardData",
  acceptsFloat16: true,
  outputs([dy, w], attrs) {
    const dtype = convDtype("conv2dBackwardData", dy, w);
    const [h, wd] = attrs.inputSize;
    const xShape = [dy.shape[0], w.shape[1] * attrs.groups, h, wd];
    const dims = conv2dDims("conv2dBackwardData", xShape, w.shape, attrs);
    const expected = [xShape[0], w.shape[0], dims[7], dims[8]];
    if (dy.rank !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
      throw new RangeError(`conv2dBackwardData: dy must be [${expected}], got [${dy.shape}]`);
    }
    return [{ shape: xShape, dtype }];
  },
});

/** Declaration of `conv2dBackwardFilter`: dw [Cout, Cin/groups, KH, KW] from x and dy. */
export const conv2dBackwardFilterOp: OpDef<Conv2dBackwardFilterAttrs> = defineOp<Conv2dBackwardFilterAttrs>({
  name: "conv2dBackwardFilter",
  acceptsFloat16: true,
  outputs([x, dy], attrs) {
    const dtype = convDtype("conv2dBackwardFilter", x, dy);
    const wShape = [dy.shape[1], x.shape[1] / attrs.groups, attrs.kernelSize[0], attrs.kernelSize[1]];
    const dims = conv2dDims("conv2dBackwardFilter", x.shape, wShape, attrs);
    const expected = [dims[0], wShape[0], dims[7], dims[8]];
    if (dy.rank !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
      throw new RangeError(`conv2dBackwardFilter: dy must be [${expected}], got [${dy.shape}]`);
    }
    return [{ shape: wShape, dtype }];
  },
});

/** Resolves `conv2d` options against x's [H, W] and the kernel's [KH, KW]. */
export function conv2dAttrs(
  inputSize: readonly [number, number],
  kernelSize: readonly [number, number],
  options: Conv2dOptions = {},
): Conv2dAttrs {
  const [strideH, strideW] = pair(options.stride ?? 1);
  const [dilationH, dilationW] = pair(options.dilation ?? 1);
  const p = options.padding ?? 0;
  const [ph, pw] = p === "same" || p === "valid" ? [p, p] as const : pair(p);
  const [padTop, padBottom] = resolvePadding(ph, inputSize[0], kernelSize[0], strideH, dilationH);
  const [padLeft, padRight] = resolvePadding(pw, inputSize[1], kernelSize[1], strideW, dilationW);
  return {
    strideH,
    strideW,
    padTop,
    padBottom,
    padLeft,
    padRight,
    dilationH,
    dilationW,
    groups: options.groups ?? 1,
  };
}

/**
 * 2-D convolution like `torch.nn.functional.conv2d`: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW],
 * b [Cout] or null → [N, Cout, Hout, Wout].
 *
 * @example
 * ```ts
 * // DeepSpeech2's first layer over [N, 1, T, F] spectrograms
 * const y = conv2d(spec, w, null, { stride: [2, 2], padding: "same" });
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, options: Conv2dOptions = {}): Tensor {
  if (x.rank !== 4 || w.rank !== 4) {
    throw new RangeError(
      `conv2d: x must be [N, Cin, H, W] and w [Cout, Cin/groups, KH, KW], got [${x.shape}], [${w.shape}]`,
    );
  }
  const attrs = conv2dAttrs([x.shape[2], x.shape[3]], [w.shape[2], w.shape[3]], options);
  return runOp(conv2dOp, b ? [x, w, b] : [x, w], attrs)[0];
}

/** Gradient of conv2d with respect to its input (cuDNN's backward-data): dy and w → dx [N, Cin, H, W]. */
export function conv2dBackwardData(
  dy: Tensor,
  w: Tensor,
  options: Conv2dOptions & { inputSize: readonly [number, number] },
): Tensor {
  const attrs = conv2dAttrs(options.inputSize, [w.shape[2], w.shape[3]], options);
  return runOp(conv2dBackwardDataOp, [dy, w], { ...forwardAttrs(attrs), inputSize: options.inputSize })[0];
}

/** Gradient of conv2d with respect to its weight (cuDNN's backward-filter): x and dy → dw. */
export function conv2dBackwardFilter(
  x: Tensor,
  dy: Tensor,
  options: Conv2dOptions & { kernelSize: readonly [number, number] },
): Tensor {
  const attrs = conv2dAttrs([x.shape[2], x.shape[3]], options.kernelSize, options);
  return runOp(conv2dBackwardFilterOp, [x, dy], {
    ...forwardAttrs(attrs),
    kernelSize: options.kernelSize,
  })[0];
}
