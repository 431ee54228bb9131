/**
 * webgpu kernels of conv2d, conv2dBackwardData and conv2dBackwardFilter, and the registration
 * they share with conv1d (ops/backends/webgpu/conv1d.ts maps 1-D shapes onto the same
 * geometry with H = KH = 1). Depthwise geometries (one input channel per group, multiplier
 * below 8) run on conv_depthwise.ts, everything else on the implicit GEMM of conv_gemm.ts.
 *
 * Not here: float64 (WGSL has none), the bias gradient (a `sum` of dy, declared by the op).
 */
import { type OutputSpec, registerKernel } from "../../op_registry.ts";
import type { Conv2dAttrs } from "../../conv2d.ts";
import { sizeOf } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import type { Backend } from "../../backend.ts";
import { gpuBackend, gpuBuffer, type GpuStorage } from "./backend.ts";
import { conv2dGeometry, type ConvGeometry, type ConvGeometryOf } from "../../conv_geometry.ts";
import { type ConvDirection, convGemm } from "./conv_gemm.ts";
import { convDepthwise, isDepthwise } from "./conv_depthwise.ts";

/** Runs one direction on `inputs` (tensors in binding order) into a new output buffer. */
function runDirection(
  direction: ConvDirection,
  backend: Backend,
  spec: OutputSpec,
  inputs: readonly Tensor[],
  geometry: ConvGeometry,
): GpuStorage {
  const gpu = gpuBackend(backend);
  if (spec.dtype !== "float32") {
    throw new TypeError(`ops/backends/webgpu/conv2d.ts: convolutions run on float32, got ${spec.dtype}`);
  }
  const out = gpu.alloc(spec.dtype, sizeOf(spec.shape)) as GpuStorage;
  if (sizeOf(spec.shape) === 0) return out;
  const run = isDepthwise(geometry) ? convDepthwise : convGemm;
  run(gpu, direction, { geometry, inputs: inputs.map(gpuBuffer), out, isF16: inputs[0].dtype === "float16" });
  return out;
}

/**
 * Registers the webgpu forward, backward-data and backward-filter kernels of `op` ("conv1d"
 * or "conv2d"), with `geometry` mapping each op's shapes and attributes onto the kernels' one
 * 2-D geometry. float16 operands are read as f16 by the same kernels (f16_loads.ts).
 */
export function registerWebGpuConvKernels<A>(op: "conv1d" | "conv2d", geometry: ConvGeometryOf<A>): void {
  registerKernel<A>(
    op,
    "webgpu",
    ({ inputs, attrs, outputs: [spec], backend }) => {
      const [x, w] = inputs;
      return [runDirection("forward", backend, spec, inputs, geometry(x.shape, w.shape, spec.shape, attrs))];
    },
  );
  registerKernel<A>(
    `${op}BackwardData`,
    "webgpu",
    ({ inputs, attrs, outputs: [spec], backend }) => {
      const [dy, w] = inputs;
      const g = geometry(spec.shape, w.shape, dy.shape, attrs);
      return [runDirection("backwardData", backend, spec, inputs, g)];
    },
  );
  registerKernel<A>(
    `${op}BackwardFilter`,
    "webgpu",
    ({ inputs, attrs, outputs: [spec], backend }) => {
      const [x, dy] = inputs;
      const g = geometry(x.shape, spec.shape, dy.shape, attrs);
      return [runDirection("backwardFilter", backend, spec, inputs, g)];
    },
  );
}

registerWebGpuConvKernels<Conv2dAttrs>("conv2d", conv2dGeometry);
