/**
 * cpu kernels of conv1d, conv1dBackwardData and conv1dBackwardFilter: the convolution engine
 * of ops/backends/cpu/conv2d.ts run with H = KH = 1 (im2col + gemm, 1×1 without im2col,
 * depthwise as direct loops). Not here: anything the 2-D engine does not do.
 */
import { registerKernel } from "../../engine.ts";
import type { Conv1dAttrs, Conv1dBackwardDataAttrs, Conv1dBackwardFilterAttrs } from "../../conv1d.ts";
import { sizeOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { convBackwardData, convBackwardFilter, convForward, type ConvGeometry } from "./conv2d.ts";

type Floats = Float32Array | Float64Array;

// x [N, Cin, T], w [Cout, Cin/groups, K], y [N, Cout, Tout] seen as 2-D with H = 1.
function geometry1d(
  xShape: readonly number[],
  wShape: readonly number[],
  yShape: readonly number[],
  a: Conv1dAttrs,
): ConvGeometry {
  return {
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
  };
}

registerKernel<Conv1dAttrs>("conv1d", "cpu", ({ inputs: [x, w, b], attrs, outputs: [spec], backend }) => {
  const y = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
  const g = geometry1d(x.shape, w.shape, spec.shape, attrs);
  convForward(cpuData(x) as Floats, cpuData(w) as Floats, b ? cpuData(b) as Floats : null, y, g);
  return [y];
});

registerKernel<Conv1dBackwardDataAttrs>(
  "conv1dBackwardData",
  "cpu",
  ({ inputs: [dy, w], attrs, outputs: [spec], backend }) => {
    const dx = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
    const g = geometry1d(spec.shape, w.shape, dy.shape, attrs);
    convBackwardData(cpuData(dy) as Floats, cpuData(w) as Floats, dx, g);
    return [dx];
  },
);

registerKernel<Conv1dBackwardFilterAttrs>(
  "conv1dBackwardFilter",
  "cpu",
  ({ inputs: [x, dy], attrs, outputs: [spec], backend }) => {
    const dw = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
    const g = geometry1d(x.shape, spec.shape, dy.shape, attrs);
    convBackwardFilter(cpuData(x) as Floats, cpuData(dy) as Floats, dw, g);
    return [dw];
  },
);
