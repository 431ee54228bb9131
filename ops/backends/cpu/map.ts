/**
 * cpu kernel of `map` (every elementwise op): the expression is rendered to TypeScript and
 * compiled once per (table key, inputs, broadcast or not, which inputs are scalars, dtypes); the
 * loop is then plain, monomorphic typed-array code. Broadcast inputs are read through zero strides.
 * Float32 work on the WASM heap goes to the SIMD kernels generated from the same table
 * (wasm/map_wasm.ts) unless the TypeScript path is selected (wasm/kernel_path.ts).
 */
import { registerKernel } from "../../op_registry.ts";
import type { MapAttrs } from "../../elementwise.ts";
import { renderExpr } from "../../expr.ts";
import { broadcastStrides, shapesEqual } from "../../shape.ts";
import type { TypedArray } from "../../dtype.ts";
import { type CpuBackend, cpuData, cpuOverwrittenOutput } from "./backend.ts";
import { wasmMap } from "./wasm/map_wasm.ts";

type Compiled = (
  out: TypedArray,
  ins: TypedArray[],
  strides: number[][],
  shape: number[],
  a: number,
  b: number,
) => void;
const cache = new Map<string, Compiled>();

/**
 * `scalars[i]`: input i holds one value (contiguous layout only); it is read once, before the
 * loop, so the loop body is the bare expression over typed-array loads.
 */
function compile(attrs: MapAttrs, contiguous: boolean, scalars: boolean[], dtypes: string): Compiled {
  // One function per dtype combination as well: a loop that has seen Float32Array, Float64Array
  // and Int32Array loads turns polymorphic and runs several times slower for all of them.
  const key = `${attrs.key}|${attrs.vars.join(",")}|${contiguous}|${scalars.map(Number).join("")}|${dtypes}`;
  let fn = cache.get(key);
  if (fn) return fn;
  const n = attrs.vars.length;
  const name = (v: string): string => (v === "a" || v === "b" ? v : `v${attrs.vars.indexOf(v)}`);
  const body = renderExpr(attrs.expr, "ts", name);
  const decl = attrs.vars.map((_, i) => `const in${i} = ins[${i}];`).join("\n");
  let src: string;
  if (contiguous) {
    // Every input has the output's shape or is a scalar (stride 0 everywhere).
    const hoisted = attrs.vars.map((_, i) => scalars[i] ? `const v${i} = in${i}[0];` : "").join("\n");
    const loads = attrs.vars.map((_, i) => scalars[i] ? "" : `const v${i} = in${i}[i];`).join("\n");
    src =
      `${decl}\n${hoisted}\nconst len = out.length;\nfor (let i = 0; i < len; i++) {\n${loads}\nout[i] = ${body};\n}`;
  } else {
    // Walk the output in rows of the innermost axis; per-input offsets advance by strides.
    const offs = attrs.vars.map((_, i) =>
      `let o${i} = 0; const st${i} = strides[${i}]; const si${i} = st${i}[rank - 1];`
    ).join("\n");
    const loads = attrs.vars.map((_, i) => `const v${i} = in${i}[o${i} + j * si${i}];`).join("\n");
    const steps = attrs.vars.map((_, i) => `o${i} += st${i}[ax];`).join(" ");
    const unwinds = attrs.vars.map((_, i) => `o${i} -= st${i}[ax] * shape[ax];`).join(" ");
    src = `${decl}
const rank = shape.length; const inner = shape[rank - 1]; const len = out.length;
${offs}
const idx = new Int32Array(rank);
for (let base = 0; base < len; base += inner) {
  for (let j = 0; j < inner; j++) {
${loads}
    out[base + j] = ${body};
  }
  for (let ax = rank - 2; ax >= 0; ax--) {
    idx[ax]++; ${steps}
    if (idx[ax] < shape[ax]) break;
    ${unwinds} idx[ax] = 0;
  }
}`;
  }
  if (n === 0) throw new Error("map needs at least one input");
  fn = new Function("out", "ins", "strides", "shape", "a", "b", src) as Compiled;
  cache.set(key, fn);
  return fn;
}

registerKernel<MapAttrs>("map", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const { shape, dtype } = outputs[0];
  // A bare variable of the output's shape and dtype (add's and mulAdd's gradients pass g on):
  // share its array, as reshape does, instead of copying it.
  if (attrs.expr.k === "var") {
    const source = inputs[attrs.vars.indexOf(attrs.expr.name)];
    if (source && source.dtype === dtype && shapesEqual(source.shape, shape)) {
      return [(backend as CpuBackend).retain(source.storage)];
    }
  }
  let size = 1;
  for (const d of shape) size *= d;
  const out = cpuOverwrittenOutput(backend, dtype, size);
  if (size === 0) return [out];
  const data = inputs.map(cpuData);
  if (wasmMap(attrs, inputs, data, out, shape)) return [out];
  const contiguous = inputs.every((t) => t.size === 1 || shapesEqual(t.shape, shape));
  const dtypes = `${dtype}<-${inputs.map((t) => t.dtype).join(",")}`;
  const fn = compile(
    attrs,
    contiguous,
    contiguous ? inputs.map((t) => t.size === 1 && size !== 1) : [],
    dtypes,
  );
  const strides = contiguous ? [] : inputs.map((t) => broadcastStrides(t.shape, shape));
  const outShape = shape.length === 0 ? [1] : [...shape];
  fn(
    out,
    data,
    strides.length ? strides.map((s) => (s.length ? s : [0])) : [],
    outShape,
    attrs.a,
    attrs.b,
  );
  return [out];
});
