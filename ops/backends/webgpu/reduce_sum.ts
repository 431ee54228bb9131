/**
 * webgpu kernel of `sum`: the reduction shader of ./reduction.ts with one summing phase, over
 * any set of axes (kept and reduced axes may alternate), split over several workgroups per
 * output when a long reduction has few outputs (the sum of a whole tensor).
 *
 * Accumulation is in the storage type (f32 or i32), unlike the cpu kernel's float64, so large
 * float32 sums differ from the cpu in the last bits (the tree order keeps the error ~log n).
 *
 * Not here: fusing the reduction with the elementwise op that produced its input.
 */
import { registerKernel } from "../../op_registry.ts";
import type { ReduceAttrs } from "../../reduce_sum.ts";
import { gpuBackend } from "./backend.ts";
import { type ReductionSpec, runReduction } from "./reduction.ts";

const SUM: ReductionSpec = {
  key: "sum",
  nInputs: 1,
  phases: [{ name: "total", combine: "sum", term: "in0[i]" }],
  value: "total",
  perElement: false,
  splittable: true,
};

registerKernel<ReduceAttrs>(
  "sum",
  "webgpu",
  (
    { inputs, attrs, outputs, backend },
  ) => [runReduction(gpuBackend(backend), SUM, inputs, attrs.axes, outputs[0])],
);
