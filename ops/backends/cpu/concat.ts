/** cpu kernel of `concat` (ops/concat.ts): each input is a strided copy into its block of the output. */
import { registerKernel } from "../../op_registry.ts";
import type { ConcatAttrs } from "../../concat.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { cpuData, cpuOverwrittenOutput } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

registerKernel<ConcatAttrs>("concat", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const out = cpuOverwrittenOutput(backend, dtype, sizeOf(shape));
  const outStrides = stridesOf(shape);
  let offset = 0;
  for (const t of inputs) {
    stridedCopy(out, offset * outStrides[attrs.axis], outStrides, cpuData(t), 0, stridesOf(t.shape), t.shape);
    offset += t.shape[attrs.axis];
  }
  return [out];
});
