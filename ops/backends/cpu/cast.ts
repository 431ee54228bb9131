/** cpu kernel of `cast`: typed-array assignment converts (to float16 by round-to-nearest-even). */
import type { CastAttrs } from "../../cast.ts";
import { registerKernel } from "../../op_registry.ts";
import { cpuData, cpuOutput } from "./backend.ts";

registerKernel<CastAttrs>("cast", "cpu", ({ inputs: [x], outputs: [spec], backend }) => {
  const out = cpuOutput(backend, spec.dtype, x.size);
  out.set(cpuData(x));
  return [out];
});
