/**
 * webgpu kernels of `slice` and `sliceBackward` (ops/slice.ts): strided copies between the
 * slice (contiguous) and the full tensor, read from or written to at start offsets with
 * strides multiplied by the steps; sliceBackward first fills the full tensor with zeros.
 */
import { registerKernel } from "../../op_registry.ts";
import type { SliceAttrs } from "../../slice.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage } from "./backend.ts";
import { fillBuffer, type StridedBlock, stridedCopy } from "./strided_copy.ts";

/** Where the slice lies in the full tensor: its first element, and the full strides scaled by the steps. */
function placement(buffer: GPUBuffer, attrs: SliceAttrs): StridedBlock {
  const full = stridesOf(attrs.fullShape);
  let offset = 0;
  for (let d = 0; d < full.length; d++) offset += attrs.starts[d] * full[d];
  return { buffer, offset, strides: full.map((s, d) => s * attrs.steps[d]) };
}

registerKernel<SliceAttrs>("slice", "webgpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const out = backend.alloc(outputs[0].dtype, sizeOf(attrs.sliceShape)) as GpuStorage;
  const dst = { buffer: out.buffer, offset: 0, strides: stridesOf(attrs.sliceShape) };
  stridedCopy(backend, dst, placement(gpuBuffer(x), attrs), attrs.sliceShape);
  return [out];
});

registerKernel<SliceAttrs>("sliceBackward", "webgpu", ({ inputs: [g], attrs, outputs, backend }) => {
  const { dtype } = outputs[0];
  const size = sizeOf(attrs.fullShape);
  const out = backend.alloc(dtype, size) as GpuStorage;
  fillBuffer(gpuBackend(backend), out.buffer, size, dtype, 0); // positions the slice skips get no gradient
  const src = { buffer: gpuBuffer(g), offset: 0, strides: stridesOf(attrs.sliceShape) };
  stridedCopy(backend, placement(out.buffer, attrs), src, attrs.sliceShape);
  return [out];
});
