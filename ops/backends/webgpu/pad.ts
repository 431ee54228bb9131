/**
 * webgpu kernel of `pad` (ops/pad.ts): the output is filled with the value, then the part of
 * the input that survives (all of it, or less where amounts are negative) is copied in.
 */
import { registerKernel } from "../../op_registry.ts";
import type { PadAttrs } from "../../pad.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage } from "./backend.ts";
import { fillBuffer, stridedCopy } from "./strided_copy.ts";

registerKernel<PadAttrs>("pad", "webgpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const size = sizeOf(shape);
  const out = backend.alloc(dtype, size) as GpuStorage;
  fillBuffer(gpuBackend(backend), out.buffer, size, dtype, attrs.value);
  const inStrides = stridesOf(x.shape), outStrides = stridesOf(shape);
  let inOffset = 0, outOffset = 0;
  const overlap = new Array<number>(x.rank);
  for (let d = 0; d < x.rank; d++) {
    const inStart = Math.max(0, -attrs.before[d]);
    const outStart = Math.max(0, attrs.before[d]);
    overlap[d] = Math.max(0, Math.min(x.shape[d] - inStart, shape[d] - outStart));
    inOffset += inStart * inStrides[d];
    outOffset += outStart * outStrides[d];
  }
  stridedCopy(
    backend,
    { buffer: out.buffer, offset: outOffset, strides: outStrides },
    { buffer: gpuBuffer(x), offset: inOffset, strides: inStrides },
    overlap,
  );
  return [out];
});
