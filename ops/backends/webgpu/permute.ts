/** webgpu kernel of `permute` (ops/permute.ts): a strided copy reading the input's strides in permuted order. */
import { registerKernel } from "../../op_registry.ts";
import type { PermuteAttrs } from "../../permute.ts";
import { stridesOf } from "../../shape.ts";
import { gpuBuffer, type GpuStorage } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

registerKernel<PermuteAttrs>("permute", "webgpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const out = backend.alloc(dtype, x.size) as GpuStorage;
  const inStrides = stridesOf(x.shape);
  stridedCopy(
    backend,
    { buffer: out.buffer, offset: 0, strides: stridesOf(shape) },
    { buffer: gpuBuffer(x), offset: 0, strides: attrs.perm.map((a) => inStrides[a]) },
    shape,
  );
  return [out];
});
