/** cpu kernel of `permute` (ops/permute.ts): a strided copy reading the input's strides in permuted order. */
import { registerKernel } from "../../op_registry.ts";
import type { PermuteAttrs } from "../../permute.ts";
import { stridesOf } from "../../shape.ts";
import { cpuData, cpuOverwrittenOutput } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

registerKernel<PermuteAttrs>("permute", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const out = cpuOverwrittenOutput(backend, dtype, x.size);
  const inStrides = stridesOf(x.shape);
  stridedCopy(out, 0, stridesOf(shape), cpuData(x), 0, attrs.perm.map((a) => inStrides[a]), shape);
  return [out];
});
