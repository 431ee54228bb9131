/** webgpu kernel of `concat` (ops/concat.ts): each input is a strided copy into its block of the output. */
import { registerKernel } from "../../op_registry.ts";
import type { ConcatAttrs } from "../../concat.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { gpuBuffer, type GpuStorage } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

registerKernel<ConcatAttrs>("concat", "webgpu", ({ inputs, attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const out = backend.alloc(dtype, sizeOf(shape)) as GpuStorage;
  const outStrides = stridesOf(shape);
  let offset = 0;
  for (const t of inputs) {
    stridedCopy(
      backend,
      { buffer: out.buffer, offset: offset * outStrides[attrs.axis], strides: outStrides },
      { buffer: gpuBuffer(t), offset: 0, strides: stridesOf(t.shape) },
      t.shape,
    );
    offset += t.shape[attrs.axis];
  }
  return [out];
});
