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
 * A long reduction into few outputs (the sum of a whole tensor) is split into parts of ~16K
 * elements, one workgroup each, whose partial sums a second dispatch adds up.
 *
 * Not here: fusing the reduction with the elementwise op that produced its input.
 */
import { registerKernel } from "../../op_registry.ts";
import type { ReduceAttrs } from "../../reduce_sum.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, type WebGpuBackend, wgslMeta, wgslType } from "./backend.ts";

const WORKGROUP = 256;
/** Below this many reduced elements per output, one invocation does a whole output. */
const SHORT = 64;
/** Reductions into fewer outputs than this are split into parts of about PART elements... */
const SPLIT_BELOW_OUTPUTS = 64;
const PART = 16384;
/** ...but at most this many parts per output. */
const MAX_PARTS = 256;

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
  // Parameter block: [nOut, nRed, nKeptAxes, nRedAxes, gridWidth, parts, chunk, 0,
  //                   keptExt[], keptStride[], redExt[], redStride[]]
  const head = `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
${wgslMeta(2)}
fn redOffset(r: u32) -> u32 {
  let nk = m(2u);
  let nr = m(3u);
  // One run of reduced axes is the common case: no division per element.
  if (nr == 1u) { return r * m(8u + 2u * nk + 1u); }
  ${unravel("r", "nr", "m(8u + 2u * nk + d)", "m(8u + 2u * nk + nr + d)")}
  return off_r;
}
fn keptOffset(o: u32) -> u32 {
  let nk = m(2u);
  if (nk == 1u) { return o * m(9u); }
  ${unravel("o", "nk", "m(8u + d)", "m(8u + nk + d)")}
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
  // Workgroup g sums part g % parts (elements [p·chunk, (p+1)·chunk)) of output g / parts.
  let g = wid.x + wid.y * m(4u);
  let o = g / m(5u);
  let r0 = (g % m(5u)) * m(6u);
  let r1 = min(r0 + m(6u), m(1u));
  // No early return: every invocation must reach the barriers.
  let valid = o < m(0u);
  var acc = ${t}(0);
  if (valid) {
    let base = keptOffset(o);
    for (var r = r0 + lid; r < r1; r += ${WORKGROUP}u) { acc += x[base + redOffset(r)]; }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (valid && lid == 0u) { out[g] = part[0]; }
}`;
}

/** One dispatch of a sum shader over `buffers` = [input, output]. */
function dispatchSum(
  gpu: WebGpuBackend,
  pipeline: GPUComputePipeline,
  buffers: GPUBuffer[],
  o: {
    nOut: number;
    nRed: number;
    kept: { e: number; s: number }[];
    red: { e: number; s: number }[];
    perWorkgroup: boolean;
    parts?: number;
    chunk?: number;
  },
): void {
  const parts = o.parts ?? 1;
  const groups = gpu.grid(o.perWorkgroup ? o.nOut * parts : Math.ceil(o.nOut / WORKGROUP));
  const meta = new Uint32Array(8 + 2 * (o.kept.length + o.red.length));
  meta.set([
    o.nOut,
    o.nRed,
    o.kept.length,
    o.red.length,
    o.perWorkgroup ? groups[0] : groups[0] * WORKGROUP,
    parts,
    o.chunk ?? o.nRed,
  ]);
  let p = 8;
  for (const a of o.kept) meta[p++] = a.e;
  for (const a of o.kept) meta[p++] = a.s;
  for (const a of o.red) meta[p++] = a.e;
  for (const a of o.red) meta[p++] = a.s;
  gpu.dispatch(pipeline, buffers, { meta, workgroups: groups });
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
  const nRedSafe = x.size === 0 ? 0 : nRed;
  // A long reduction into few outputs is split over several workgroups per output (the sum
  // over a whole tensor would otherwise run on one workgroup), then the parts are summed.
  const parts = perWorkgroup && nOut < SPLIT_BELOW_OUTPUTS ? Math.min(MAX_PARTS, Math.ceil(nRed / PART)) : 1;
  if (parts <= 1) {
    dispatchSum(gpu, pipeline, [gpuBuffer(x), out.buffer], { nOut, nRed: nRedSafe, kept, red, perWorkgroup });
    return [out];
  }
  using partial = gpu.scratch(dtype, nOut * parts);
  const chunk = Math.ceil(nRed / parts);
  dispatchSum(gpu, pipeline, [gpuBuffer(x), partial.buffer], {
    nOut,
    nRed: nRedSafe,
    kept,
    red,
    perWorkgroup,
    parts,
    chunk,
  });
  // partial is [nOut, parts]: sum its rows.
  const wg = gpu.pipeline(`sum|${t}|wg`, ["read", "write", "uniform"], () => shaderSource(t, true));
  dispatchSum(gpu, wg, [partial.buffer, out.buffer], {
    nOut,
    nRed: parts,
    kept: [{ e: nOut, s: parts }],
    red: [{ e: parts, s: 1 }],
    perWorkgroup: true,
  });
  return [out];
});
