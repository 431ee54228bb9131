/**
 * cpu kernel of `sum`. Each input element is added into its output slot, found by walking
 * the input with the output's strides (0 along reduced axes); accumulation is in float64.
 * Float32 sums on the WASM heap run in SIMD (wasm/sum_wasm.ts).
 */
import { registerKernel } from "../../op_registry.ts";
import type { ReduceAttrs } from "../../reduce_sum.ts";
import { reducedShape } from "../../reduce_sum.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { wasmSum } from "./wasm/sum_wasm.ts";

registerKernel<ReduceAttrs>("sum", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const src = cpuData(x);
  const out = cpuOutput(backend, outputs[0].dtype, sizeOf(outputs[0].shape));
  if (wasmSum(src, x.shape, attrs.axes, out)) return [out];
  const acc = new Float64Array(out.length);
  const shape = x.shape.length ? x.shape : [1];
  const keptStrides = stridesOf(reducedShape(shape, attrs.axes, true));
  const ostr = shape.map((_, i) => (attrs.axes.includes(i) ? 0 : keptStrides[i]));
  const rank = shape.length;
  const inner = shape[rank - 1];
  const innerStride = ostr[rank - 1];
  const idx = new Int32Array(rank);
  let o = 0;
  for (let base = 0; base < src.length; base += inner) {
    if (innerStride === 0) {
      let s = 0;
      for (let j = 0; j < inner; j++) s += src[base + j];
      acc[o] += s;
    } else {
      for (let j = 0; j < inner; j++) acc[o + j] += src[base + j];
    }
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      o += ostr[ax];
      if (idx[ax] < shape[ax]) break;
      o -= ostr[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
  out.set(acc);
  return [out];
});
