/**
 * The geometry every backend's convolution kernels read: conv1d is conv2d with H = KH = 1, so
 * both ops map their shapes and attributes onto one description of a 2-D convolution.
 */
import type { Conv1dAttrs } from "./conv1d.ts";
import type { Conv2dAttrs } from "./conv2d.ts";

/**
 * Sizes and attributes of one convolution: x [n, cin, h, w], w [cout, cin/groups, kh, kw],
 * y [n, cout, hOut, wOut]; padBottom/padRight are implied by hOut/wOut.
 */
export interface ConvGeometry {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  hOut: number;
  wOut: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/** Maps one op's shapes (x, w, y) and attributes onto the geometry the kernels read. */
export type ConvGeometryOf<A> = (
  xShape: readonly number[],
  wShape: readonly number[],
  yShape: readonly number[],
  attrs: A,
) => ConvGeometry;

/** conv1d: x [N, Cin, T], w [Cout, Cin/groups, K], y [N, Cout, Tout] seen as 2-D with H = 1. */
export const conv1dGeometry: ConvGeometryOf<Conv1dAttrs> = (xShape, wShape, yShape, a) => ({
  n: xShape[0],
  cin: xShape[1],
  h: 1,
  w: xShape[2],
  cout: wShape[0],
  kh: 1,
  kw: wShape[2],
  hOut: 1,
  wOut: yShape[2],
  strideH: 1,
  strideW: a.stride,
  padTop: 0,
  padLeft: a.padLeft,
  dilationH: 1,
  dilationW: a.dilation,
  groups: a.groups,
});

/** conv2d: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], y [N, Cout, HOut, WOut]. */
export const conv2dGeometry: ConvGeometryOf<Conv2dAttrs> = (xShape, wShape, yShape, a) => ({
  n: xShape[0],
  cin: xShape[1],
  h: xShape[2],
  w: xShape[3],
  cout: wShape[0],
  kh: wShape[2],
  kw: wShape[3],
  hOut: yShape[2],
  wOut: yShape[3],
  strideH: a.strideH,
  strideW: a.strideW,
  padTop: a.padTop,
  padLeft: a.padLeft,
  dilationH: a.dilationH,
  dilationW: a.dilationW,
  groups: a.groups,
});
