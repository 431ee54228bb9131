/**
 * webgpu kernels of conv1d, conv1dBackwardData and conv1dBackwardFilter: the 2-D kernels of
 * ops/backends/webgpu/conv2d.ts run with H = KH = 1 (as the cpu backend does).
 * Not here: anything the 2-D kernels do not do.
 */
import type { Conv1dAttrs } from "../../conv1d.ts";
import { conv1dGeometry } from "../../conv_geometry.ts";
import { registerWebGpuConvKernels } from "./conv2d.ts";

registerWebGpuConvKernels<Conv1dAttrs>("conv1d", conv1dGeometry);
