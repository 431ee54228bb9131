/**
 * cpu kernels of conv1d, conv1dBackwardData and conv1dBackwardFilter: the convolution engine
 * of ops/backends/cpu/conv2d.ts run with H = KH = 1 (im2col + gemm, 1×1 without im2col,
 * depthwise as direct loops). Not here: anything the 2-D engine does not do.
 */
import type { Conv1dAttrs } from "../../conv1d.ts";
import { conv1dGeometry } from "../../conv_geometry.ts";
import { registerConvKernels } from "./conv2d.ts";

registerConvKernels<Conv1dAttrs>("conv1d", conv1dGeometry);
