/**
 * cpu kernels of `slice` and `sliceBackward` (ops/slice.ts): strided copies between the
 * slice (contiguous) and the full tensor, read from or written to at start offsets with
 * strides multiplied by the steps.
 */
import { registerKernel } from "../../op_registry.ts";
import type { SliceAttrs } from "../../slice.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { cpuData, cpuOutput, cpuOverwrittenOutput } from "./backend.ts";
import { stridedCopy } from "./strided_copy.ts";

/** Offset of the slice's first element in the full tensor, and the full tensor's strides scaled by the steps. */
function placement(attrs: SliceAttrs): [number, number[]] {
  const full = stridesOf(attrs.fullShape);
  let offset = 0;
  for (let d = 0; d < full.length; d++) offset += attrs.starts[d] * full[d];
  return [offset, full.map((s, d) => s * attrs.steps[d])];
}

registerKernel<SliceAttrs>("slice", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const out = cpuOverwrittenOutput(backend, outputs[0].dtype, sizeOf(attrs.sliceShape));
  const [offset, strides] = placement(attrs);
  stridedCopy(out, 0, stridesOf(attrs.sliceShape), cpuData(x), offset, strides, attrs.sliceShape);
  return [out];
});

registerKernel<SliceAttrs>("sliceBackward", "cpu", ({ inputs: [g], attrs, outputs, backend }) => {
  const out = cpuOutput(backend, outputs[0].dtype, sizeOf(attrs.fullShape));
  // positions the slice skips get no gradient: alloc hands out zeroed arrays
  const [offset, strides] = placement(attrs);
  stridedCopy(out, offset, strides, cpuData(g), 0, stridesOf(attrs.sliceShape), attrs.sliceShape);
  return [out];
});
