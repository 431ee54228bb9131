/**
 * cpu kernels of `gather` and `gatherBackward` (ops/gather.ts). Both walk the index tensor
 * once, keeping the offset of the matching element of the full tensor outside the gathered
 * axis; an index outside the axis throws a RangeError naming it, before anything is allocated.
 */
import { registerKernel } from "../../op_registry.ts";
import type { GatherAttrs, GatherBackwardAttrs } from "../../gather.ts";
import type { TypedArray } from "../../dtype.ts";
import { type Shape, sizeOf, stridesOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";

/**
 * For each element of `index` (row-major), calls back with the full tensor's flat offset; one
 * function for both directions so they cannot disagree. `scatter` false: out[i] = full[off];
 * true: full[off] += out[i].
 */
function walk(
  index: Int32Array,
  indexShape: Shape,
  fullShape: Shape,
  axis: number,
  full: TypedArray,
  flat: TypedArray,
  scatter: boolean,
): void {
  const rank = indexShape.length;
  const fullStrides = stridesOf(fullShape);
  const axisStride = fullStrides[axis];
  const baseStrides = fullStrides.map((s, d) => (d === axis ? 0 : s));
  const idx = new Int32Array(rank);
  let base = 0;
  for (let i = 0; i < index.length; i++) {
    const off = base + index[i] * axisStride;
    if (scatter) full[off] += flat[i];
    else flat[i] = full[off];
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]++;
      base += baseStrides[ax];
      if (idx[ax] < indexShape[ax]) break;
      base -= baseStrides[ax] * indexShape[ax];
      idx[ax] = 0;
    }
  }
}

/** Throws before anything is allocated when an index is outside the axis. */
function checkRange(index: Int32Array, n: number, axis: number): void {
  for (let i = 0; i < index.length; i++) {
    const k = index[i];
    if (k < 0 || k >= n) {
      throw new RangeError(`gather: index ${k} at position ${i} is outside [0, ${n}) on axis ${axis}`);
    }
  }
}

registerKernel<GatherAttrs>("gather", "cpu", ({ inputs: [x, index], attrs, outputs, backend }) => {
  checkRange(cpuData(index) as Int32Array, x.shape[attrs.axis], attrs.axis);
  const out = cpuOutput(backend, outputs[0].dtype, index.size);
  walk(cpuData(index) as Int32Array, index.shape, x.shape, attrs.axis, cpuData(x), out, false);
  return [out];
});

registerKernel<GatherBackwardAttrs>(
  "gatherBackward",
  "cpu",
  ({ inputs: [g, index], attrs, outputs, backend }) => {
    checkRange(cpuData(index) as Int32Array, attrs.shape[attrs.axis], attrs.axis);
    const out = cpuOutput(backend, outputs[0].dtype, sizeOf(attrs.shape));
    out.fill(0);
    walk(cpuData(index) as Int32Array, index.shape, attrs.shape, attrs.axis, out, cpuData(g), true);
    return [out];
  },
);
