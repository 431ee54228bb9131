/**
 * cpu kernel of `pad` (ops/pad.ts): the output is filled with the value, then the part of
 * the input that survives (all of it, or less where amounts are negative) is copied in.
 */
import { registerKernel } from "../../op_registry.ts";
import { type PadAttrs, padCopy } from "../../pad.ts";
import { sizeOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

registerKernel<PadAttrs>("pad", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const out = cpuOutput(backend, dtype, sizeOf(shape));
  if (attrs.value !== 0) out.fill(attrs.value); // alloc hands out zeroed arrays
  const c = padCopy(x.shape, shape, attrs.before);
  stridedCopy(out, c.outOffset, c.outStrides, cpuData(x), c.inOffset, c.inStrides, c.extent);
  return [out];
});
