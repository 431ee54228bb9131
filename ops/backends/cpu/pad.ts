/**
 * cpu kernel of `pad` (ops/pad.ts): the output is filled with the value, then the part of
 * the input that survives (all of it, or less where amounts are negative) is copied in.
 */
import { registerKernel } from "../../op_registry.ts";
import type { PadAttrs } from "../../pad.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

registerKernel<PadAttrs>("pad", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  const out = cpuOutput(backend, dtype, sizeOf(shape));
  if (attrs.value !== 0) out.fill(attrs.value); // alloc hands out zeroed arrays
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
  stridedCopy(out, outOffset, outStrides, cpuData(x), inOffset, inStrides, overlap);
  return [out];
});
