/** cpu kernel of `sequenceMask` (ops/masks.ts): row n is 1 for t < lengths[n], then 0. */
import { registerKernel } from "../../op_registry.ts";
import type { SequenceMaskAttrs } from "../../masks.ts";
import { cpuData, cpuOutput } from "./backend.ts";

registerKernel<SequenceMaskAttrs>("sequenceMask", "cpu", ({ inputs: [lengths], attrs, outputs, backend }) => {
  const lens = cpuData(lengths);
  for (let n = 0; n < lens.length; n++) {
    if (lens[n] < 0) throw new RangeError(`sequenceMask: length ${lens[n]} at position ${n} is negative`);
  }
  const T = attrs.maxLen;
  const out = cpuOutput(backend, outputs[0].dtype, lens.length * T);
  for (let n = 0; n < lens.length; n++) {
    const valid = Math.min(lens[n], T);
    const row = n * T;
    for (let t = 0; t < T; t++) out[row + t] = t < valid ? 1 : 0;
  }
  return [out];
});
