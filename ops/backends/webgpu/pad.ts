/**
 * webgpu kernel of `pad` (ops/pad.ts): the output is filled with the value, then the part of
 * the input that survives (all of it, or less where amounts are negative) is copied in.
 */
import { registerKernel } from "../../op_registry.ts";
import { type PadAttrs, padCopy } from "../../pad.ts";
import { sizeOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage } from "./backend.ts";
import { fillBuffer, stridedCopy } from "./strided_copy.ts";

registerKernel<PadAttrs>("pad", "webgpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const size = sizeOf(shape);
  const out = backend.alloc(dtype, size) as GpuStorage;
  fillBuffer(gpuBackend(backend), out.buffer, size, dtype, attrs.value);
  const c = padCopy(x.shape, shape, attrs.before);
  stridedCopy(
    backend,
    { buffer: out.buffer, offset: c.outOffset, strides: c.outStrides },
    { buffer: gpuBuffer(x), offset: c.inOffset, strides: c.inStrides },
    c.extent,
  );
  return [out];
});
