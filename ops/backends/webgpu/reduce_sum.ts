/**
 * webgpu kernel of `sum`. The input's axes are first collapsed into alternating runs of kept
 * and reduced axes (so summing [B, T, C] over B and T is one reduced axis of B·T elements
 * with stride C). Then either
 * - one workgroup per output element: its 256 invocations stride over the reduced elements
 *   and combine their partial sums by a tree reduction in workgroup memory (long reductions), or
 * - one invocation per output element looping over the reduced elements (short reductions,
 *   such as the last axis of a [N, 8] tensor, where a workgroup each would idle; and column
 *   sums with at least 256 outputs, where neighbouring invocations read neighbouring addresses).
 *
 * Accumulation is in the storage type (f32 or i32), unlike the cpu kernel's float64, so large
 * float32 sums differ from the cpu in the last bits (the tree order keeps the error ~log n).
 *
 * Not here: a second pass that splits one very long reduction over several workgroups.
 */
import { registerKernel } from "../../engine.ts";
import type { ReduceAttrs } from "../../reduce_sum.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, wgslMeta, wgslType } from "./backend.ts";

const WORKGROUP = 256;
/** Below this many reduced elements per output, one invocation does a whole output. */
const SHORT = 64;

/** Runs of kept and reduced axes: extents and input strides, outermost first. */
function collapse(shape: readonly number[], axes: readonly number[]) {
  const strides = stridesOf(shape);
  const kept: { e: number; s: number }[] = [];
  const red: { e: number; s: number }[] = [];
  let prev: "kept" | "red" | null = null;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const kind = axes.includes(i) ? "red" : "kept";
    const list = kind === "red" ? red : kept;
    // Adjacent axes of one kind in a contiguous tensor are one axis of the product extent.
    if (prev === kind) {
      const last = list[list.length - 1];
      last.e *= shape[i];
      last.s = strides[i];
    } else list.push({ e: shape[i], s: strides[i] });
    prev = kind;
  }
  return { kept, red };
}

/** WGSL computing `off_<name>`: flat index `name` unravelled over `count` axes, dotted with strides. */
function unravel(name: string, count: string, extent: string, stride: string): string {
  return `var off_${name} = 0u;
  var rest = ${name};
  for (var k = 0u; k < ${count}; k++) {
    let d = ${count} - 1u - k;
    let e = ${extent};
    off_${name} += (rest % e) * ${stride};
    rest = rest / e;
  }`;
}

function shaderSource(t: string, perWorkgroup: boolean): string {
  // Parameter block: [nOut, nRed, nKeptAxes, nRedAxes, gridWidth, keptExt[], keptStride[], redExt[], redStride[]]
  const head = `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
${wgslMeta(2)}
fn redOffset(r: u32) -> u32 {
  let nk = m(2u);
  let nr = m(3u);
  // One run of reduced axes is the common case: no division per element.
  if (nr == 1u) { return r * m(5u + 2u * nk + 1u); }
  ${unravel("r", "nr", "m(5u + 2u * nk + d)", "m(5u + 2u * nk + nr + d)")}
  return off_r;
}
fn keptOffset(o: u32) -> u32 {
  let nk = m(2u);
  if (nk == 1u) { return o * m(6u); }
  ${unravel("o", "nk", "m(5u + d)", "m(5u + nk + d)")}
  return off_o;
}`;
  if (!perWorkgroup) {
    return `${head}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x + gid.y * m(4u);
  if (o >= m(0u)) { return; }
  let base = keptOffset(o);
  var acc = ${t}(0);
  for (var r = 0u; r < m(1u); r++) { acc += x[base + redOffset(r)]; }
  out[o] = acc;
}`;
  }
  return `${head}
var<workgroup> part: array<${t}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * m(4u);
  // No early return: every invocation must reach the barriers.
  let valid = o < m(0u);
  var acc = ${t}(0);
  if (valid) {
    let base = keptOffset(o);
    for (var r = lid; r < m(1u); r += ${WORKGROUP}u) { acc += x[base + redOffset(r)]; }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (valid && lid == 0u) { out[o] = part[0]; }
}`;
}

registerKernel<ReduceAttrs>("sum", "webgpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const { dtype, shape } = outputs[0];
  const nOut = sizeOf(shape);
  const out = gpu.alloc(dtype, nOut) as GpuStorage;
  if (nOut === 0) return [out];
  const { kept, red } = collapse(x.shape, attrs.axes);
  const nRed = x.size / nOut;
  // Column sums ([R, C] over R: the bias gradient) keep the innermost axis: one invocation per
  // output then reads consecutive addresses across invocations, which beats a workgroup each.
  const innerKept = kept.length > 0 && kept[kept.length - 1].s === 1;
  const perWorkgroup = nRed >= SHORT && !(innerKept && nOut >= WORKGROUP);
  const t = wgslType(dtype);
  const pipeline = gpu.pipeline(
    `sum|${t}|${perWorkgroup ? "wg" : "thread"}`,
    ["read", "write", "uniform"],
    () => shaderSource(t, perWorkgroup),
  );
  const groups = gpu.grid(perWorkgroup ? nOut : Math.ceil(nOut / WORKGROUP));
  const meta = new Uint32Array(5 + 2 * (kept.length + red.length));
  meta[0] = nOut;
  meta[1] = x.size === 0 ? 0 : nRed;
  meta[2] = kept.length;
  meta[3] = red.length;
  meta[4] = perWorkgroup ? groups[0] : groups[0] * WORKGROUP;
  let p = 5;
  for (const a of kept) meta[p++] = a.e;
  for (const a of kept) meta[p++] = a.s;
  for (const a of red) meta[p++] = a.e;
  for (const a of red) meta[p++] = a.s;
  gpu.dispatch(pipeline, [gpuBuffer(x), out.buffer], { meta, workgroups: groups });
  return [out];
});
