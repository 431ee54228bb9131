/**
 * cpu kernel of `dropoutMask` (ops/dropout.ts): element i takes word i % 4 of the Philox4x32-10
 * block i / 4 (counter [i / 4, 0, counter0, counter1]) and is 0 when its top 24 bits are below
 * the threshold, else the scale.
 */
import type { DropoutMaskAttrs } from "../../dropout.ts";
import { registerKernel } from "../../op_registry.ts";
import { philox4x32x10 } from "../../philox.ts";
import { sizeOf } from "../../shape.ts";
import { cpuOutput } from "./backend.ts";
import { wasmDropoutMask } from "./wasm/dropout_wasm.ts";

registerKernel<DropoutMaskAttrs>("dropoutMask", "cpu", ({ attrs, outputs, backend }) => {
  const size = sizeOf(outputs[0].shape);
  const out = cpuOutput(backend, outputs[0].dtype, size);
  const counter = [0, 0, attrs.counter[0], attrs.counter[1]];
  const words = new Uint32Array(4);
  const { threshold, scale } = attrs;
  // Float32 on the heap: whole groups of 16 in WASM SIMD (wasm/dropout_wasm.ts), the rest here.
  const done = wasmDropoutMask(out, attrs.key, attrs.counter, threshold, scale);
  for (let base = done; base < size; base += 4) {
    counter[0] = base / 4;
    philox4x32x10(counter, attrs.key, words);
    const n = Math.min(4, size - base);
    for (let j = 0; j < n; j++) out[base + j] = words[j] >>> 8 < threshold ? 0 : scale;
  }
  return [out];
});
