/**
 * webgpu kernels of conv1d, conv1dBackwardData and conv1dBackwardFilter: the 2-D kernels of
 * ops/backends/webgpu/conv2d.ts run with H = KH = 1 (as the cpu backend does).
 * Not here: anything the 2-D kernels do not do.
 */
import type { Conv1dAttrs } from "../../conv1d.ts";
import type { ConvGeometry } from "./conv_params.ts";
import { registerWebGpuConvKernels } from "./conv2d.ts";

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

registerWebGpuConvKernels<Conv1dAttrs>("conv1d", geometry1d);
