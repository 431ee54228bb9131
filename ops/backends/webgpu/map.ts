/**
 * webgpu kernel of `map` (every elementwise op): the table's expression is rendered to WGSL
 * with renderExpr and compiled into a compute shader, once per (table key, variables, input
 * dtypes, output dtype, access pattern of each input). One invocation computes one output
 * element.
 *
 * Access patterns: "full" (the input has the output's shape: read at i), "one" (a single
 * element: read at 0) and "strided" (broadcast: the output index is unravelled with the output
 * shape and dotted with the input's broadcast strides, both passed in the parameter block).
 *
 * Arithmetic is f32 whatever the storage type; int32 inputs (masks, indices) are converted on
 * load and an int32 output is truncated toward zero on store, as the cpu kernel does. Values
 * beyond 2^24 therefore lose precision in int32 maps, which only carry masks and small indices.
 *
 * Not here: fusion of several maps into one shader, vectorised (vec4) loads, and NaN
 * propagation through max/min (relu): WGSL lets implementations assume no NaN, so a NaN input
 * may come out as a number here where the cpu kernel returns NaN.
 */
import { registerKernel } from "../../op_registry.ts";
import type { MapAttrs } from "../../elementwise.ts";
import { renderExpr } from "../../expr.ts";
import { broadcastStrides, shapesEqual, sizeOf } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, wgslMeta, wgslType } from "./backend.ts";

const FILE = "ops/backends/webgpu/map.ts";
const WORKGROUP = 256;

type Access = "full" | "one" | "strided";

// Where JavaScript's Math (the cpu kernel) and WGSL's builtins differ, the shader calls these:
// WGSL's pow is exp2(y·log2(x)): undefined for a negative base and NaN for 0^0; tanh may
// overflow to NaN for large |x|.
const HELPERS = `fn js_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x >= 0.0 || y != trunc(y)) { return pow(x, y); }
  let r = pow(-x, y);
  return select(r, -r, (abs(y) % 2.0) == 1.0);
}
fn js_tanh(x: f32) -> f32 { return select(tanh(x), sign(x), abs(x) > 15.0); }`;

function shaderSource(
  attrs: MapAttrs,
  access: readonly Access[],
  inTypes: readonly string[],
  outType: string,
  rank: number,
): string {
  const n = attrs.vars.length;
  const name = (v: string): string => {
    if (v === "a" || v === "b") return `p_${v}`;
    const i = attrs.vars.indexOf(v);
    if (i < 0) throw new Error(`${FILE}: expression of "${attrs.key}" reads "${v}", which is not an input`);
    return `v${i}`;
  };
  const body = renderExpr(attrs.expr, "wgsl", name)
    .replace(/\bpow\(/g, "js_pow(")
    .replace(/\btanh\(/g, "js_tanh(");
  const decls = attrs.vars.map((_, i) =>
    `@group(0) @binding(${i}) var<storage, read> in${i}: array<${inTypes[i]}>;`
  ).join("\n");
  // Parameter block: [size, rank, a bits, b bits, gridWidth, shape[rank], strides of input 0[rank], ...]
  // The rank is part of the kernel key, so the index arithmetic is unrolled with constant
  // parameter offsets; the outermost index is what remains, without a division.
  const stridedInputs = access.flatMap((a, i) => (a === "strided" ? [i] : []));
  const unravel: string[] = [];
  if (stridedInputs.length > 0) {
    unravel.push(stridedInputs.map((i) => `var o${i} = 0u;`).join(" "), "var rest = i;");
    for (let d = rank - 1; d >= 0; d--) {
      const c = d > 0 ? `rest % m(${5 + d}u)` : "rest";
      const adds = stridedInputs.map((i) => `o${i} += c * m(${5 + rank * (i + 1) + d}u);`).join(" ");
      unravel.push(`{ let c = ${c}; ${adds}${d > 0 ? ` rest = rest / m(${5 + d}u);` : ""} }`);
    }
  }
  const loads = access.map((a, i) => {
    const at = a === "full" ? "i" : a === "one" ? "0u" : `o${i}`;
    return `let v${i} = f32(in${i}[${at}]);`;
  }).join("\n  ");
  const store = outType === "i32" ? `i32(${body})` : body;
  return `${HELPERS}
${decls}
@group(0) @binding(${n}) var<storage, read_write> out: array<${outType}>;
${wgslMeta(n + 1)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(4u);
  if (i >= m(0u)) { return; }
  let p_a = bitcast<f32>(m(2u));
  let p_b = bitcast<f32>(m(3u));
  ${unravel.join("\n  ")}
  ${loads}
  out[i] = ${store};
}`;
}

/**
 * Merges neighbouring output axes that every input walks contiguously (or not at all), so that
 * [B, T, C] + [C] is indexed as [B·T, C]: each remaining axis costs a division per element.
 */
export function collapseAxes(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { extents: number[]; strides: number[][] } {
  const extents: number[] = [];
  const out: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const r = extents.length - 1;
    // Axis r (outer) and d (inner) merge when, for every input, stride_r = stride_d · extent_d.
    if (r >= 0 && strides.every((st, i) => out[i][r] === st[d] * shape[d])) {
      extents[r] *= shape[d];
      strides.forEach((st, i) => (out[i][r] = st[d]));
    } else {
      extents.push(shape[d]);
      strides.forEach((st, i) => out[i].push(st[d]));
    }
  }
  return { extents, strides: out };
}

function accessOf(t: Tensor, shape: readonly number[]): Access {
  if (t.size === 1) return "one";
  return shapesEqual(t.shape, shape) ? "full" : "strided";
}

registerKernel<MapAttrs>("map", "webgpu", ({ inputs, attrs, outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const { shape, dtype } = outputs[0];
  const size = sizeOf(shape);
  const out = gpu.alloc(dtype, size) as GpuStorage;
  if (size === 0) return [out];
  if (inputs.length === 0) throw new Error(`${FILE}: map "${attrs.key}" needs at least one input`);
  const access = inputs.map((t) => accessOf(t, shape));
  const inTypes = inputs.map((t) => wgslType(t.dtype));
  const outType = wgslType(dtype);
  const { extents, strides } = collapseAxes(shape, inputs.map((t) => broadcastStrides(t.shape, shape)));
  const rank = extents.length;
  const strided = access.includes("strided");
  const key = `map|${attrs.key}|${attrs.vars.join(",")}|${inTypes.join(",")}>${outType}|${access.join(",")}` +
    (strided ? `|rank${rank}` : "");
  const pipeline = gpu.pipeline(
    key,
    [...inputs.map(() => "read" as const), "write", "uniform"],
    () => shaderSource(attrs, access, inTypes, outType, rank),
  );
  const groups = gpu.grid(Math.ceil(size / WORKGROUP));
  const meta = new Uint32Array(5 + rank * (inputs.length + 1));
  const f = new Float32Array(meta.buffer, 8, 2);
  meta[0] = size;
  meta[1] = rank;
  f[0] = attrs.a;
  f[1] = attrs.b;
  meta[4] = groups[0] * WORKGROUP;
  meta.set(extents, 5);
  strides.forEach((st, i) => {
    if (access[i] === "strided") meta.set(st, 5 + rank * (i + 1));
  });
  gpu.dispatch(pipeline, [...inputs.map(gpuBuffer), out.buffer], { meta, workgroups: groups });
  return [out];
});
