/**
 * The one reduction shader behind the webgpu reduce kernels (sum, max, logsumexp, softmax,
 * logSoftmax and the softmax backward ops), generated from a `ReductionSpec`: a list of
 * phases, each folding a WGSL term over the reduced elements of one output into a named
 * scalar (max, then Σ exp(x - max) for softmax), and what is written at the end: one value
 * per output (reductions), or one value per reduced element (softmax and its backward, whose
 * "outputs" are the lines along the axis).
 *
 * The input's axes are first collapsed into alternating runs of kept and reduced axes (so
 * summing [B, T, C] over B and T is one reduced axis of B·T elements with stride C; softmax
 * along axis a of [outer, n, inner] is kept [outer, inner] and reduced [n]). Then either
 * - one workgroup per output: its 256 invocations stride over the reduced elements and combine
 *   their partial results by a tree reduction in workgroup memory (long reductions), or
 * - one invocation per output looping over the reduced elements (short reductions, such as
 *   softmax over a vocabulary of 29, where a workgroup each would idle; and column reductions
 *   with at least 256 outputs, where neighbouring invocations read neighbouring addresses).
 * Specs marked `splittable` (one phase, one value per output: sum, max) may also split a long
 * reduction into few outputs over several workgroups per output, whose partial results a
 * second dispatch of the same spec combines.
 *
 * Accumulation is in the storage type (f32 or i32), unlike the cpu kernels' float64, so long
 * float32 sums differ from the cpu in the last bits (the tree order keeps the error ~log n).
 *
 * Not here: fusing a reduction with the elementwise op that produced its input; splitting the
 * two-phase reductions (logsumexp of a whole tensor runs on one workgroup).
 */
import { sizeOf, stridesOf } from "../../shape.ts";
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import {
  type BindingKind,
  gpuBuffer,
  type GpuStorage,
  type WebGpuBackend,
  wgslMeta,
  wgslType,
} from "./backend.ts";

const WORKGROUP = 256;
/** Below this many reduced elements per output, one invocation does a whole output. */
const SHORT = 64;
/** Reductions into fewer outputs than this are split into parts of about PART elements... */
const SPLIT_BELOW_OUTPUTS = 64;
const PART = 16384;
/** ...but at most this many parts per output. */
const MAX_PARTS = 256;

/** WGSL helpers every reduction shader may use (f32 storage). */
const F32_HELPERS = `// Functions, not consts: naga cannot evaluate bitcast in a constant expression.
fn negInf() -> f32 { return bitcast<f32>(0xff800000u); }
fn posInf() -> f32 { return bitcast<f32>(0x7f800000u); }
// Bit tests rather than comparisons: WGSL lets compilers assume no NaN in x != x.
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }`;

/** One pass over the reduced elements of an output. */
export interface ReductionPhase {
  /** WGSL name of the phase's result, visible to later phases and to the written value. */
  readonly name: string;
  /** How terms combine: "sum", or "max" (NaN propagates, as in the cpu kernel and PyTorch). */
  readonly combine: "sum" | "max";
  /** WGSL expression of one element's term; reads inputs `in0`, `in1`, ... at the element offset `i`. */
  readonly term: string;
  /** WGSL statements run once the result is known (e.g. `let shift = ...;`). */
  readonly then?: string;
}

/** A reduction kernel: its phases and what it writes. */
export interface ReductionSpec {
  /** Pipeline key (with the storage type, unique per spec). */
  readonly key: string;
  /** Number of inputs, all shaped like the first. */
  readonly nInputs: number;
  readonly phases: readonly ReductionPhase[];
  /** WGSL value written at the output index (per output) or at offset `i` (per element). */
  readonly value: string;
  /** One value per reduced element (softmax family) rather than one per output. */
  readonly perElement: boolean;
  /** A long reduction may be split into parts combined by a second dispatch of the same spec. */
  readonly splittable: boolean;
}

/** One run of axes after collapsing: extent and input stride. */
interface Run {
  e: number;
  s: number;
}

/** Runs of kept and reduced axes: extents and input strides, outermost first. */
function collapse(shape: readonly number[], axes: readonly number[]): { kept: Run[]; red: Run[] } {
  const strides = stridesOf(shape);
  const kept: Run[] = [];
  const red: Run[] = [];
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

function combineFn(t: string): string {
  const isNan = t === "f32" ? " || isNan(b)" : "";
  return `fn comb_sum(a: ${t}, b: ${t}) -> ${t} { return a + b; }
fn comb_max(a: ${t}, b: ${t}) -> ${t} { return select(a, b, b > a${isNan}); }`;
}

function identity(combine: "sum" | "max", t: string): string {
  if (combine === "sum") return `${t}(0)`;
  return t === "f32" ? "negInf()" : "bitcast<i32>(0x80000000u)";
}

function shaderSource(spec: ReductionSpec, t: string, perWorkgroup: boolean): string {
  // Parameter block: [nOut, nRed, nKeptAxes, nRedAxes, gridWidth, parts, chunk, 0,
  //                   keptExt[], keptStride[], redExt[], redStride[]]
  const inputs = Array.from(
    { length: spec.nInputs },
    (_, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<${t}>;`,
  ).join("\n");
  const head = `${t === "f32" ? F32_HELPERS : ""}
${inputs}
@group(0) @binding(${spec.nInputs}) var<storage, read_write> out: array<${t}>;
${wgslMeta(spec.nInputs + 1)}
${combineFn(t)}
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
    const phases = spec.phases.map((p, k) =>
      `var acc${k} = ${identity(p.combine, t)};
  for (var r = 0u; r < m(1u); r++) {
    let i = base + redOffset(r);
    acc${k} = comb_${p.combine}(acc${k}, ${p.term});
  }
  let ${p.name} = acc${k};
  ${p.then ?? ""}`
    ).join("\n  ");
    const write = spec.perElement
      ? `for (var r = 0u; r < m(1u); r++) {
    let i = base + redOffset(r);
    out[i] = ${spec.value};
  }`
      : `out[o] = ${spec.value};`;
    return `${head}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x + gid.y * m(4u);
  if (o >= m(0u)) { return; }
  let base = keptOffset(o);
  ${phases}
  ${write}
}`;
  }
  const phases = spec.phases.map((p, k) =>
    `var acc${k} = ${identity(p.combine, t)};
  if (valid) {
    for (var r = r0 + lid; r < r1; r += ${WORKGROUP}u) {
      let i = base + redOffset(r);
      acc${k} = comb_${p.combine}(acc${k}, ${p.term});
    }
  }
  part[lid] = acc${k};
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] = comb_${p.combine}(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  let ${p.name} = part[0];
  // Every invocation has read the result before the next phase writes part again.
  workgroupBarrier();
  ${p.then ?? ""}`
  ).join("\n  ");
  const write = spec.perElement
    ? `if (valid) {
    for (var r = r0 + lid; r < r1; r += ${WORKGROUP}u) {
      let i = base + redOffset(r);
      out[i] = ${spec.value};
    }
  }`
    : `if (valid && lid == 0u) { out[g] = ${spec.value}; }`;
  return `${head}
var<workgroup> part: array<${t}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // Workgroup g reduces part g % parts (elements [p·chunk, (p+1)·chunk)) of output g / parts.
  let g = wid.x + wid.y * m(4u);
  let o = g / m(5u);
  let r0 = (g % m(5u)) * m(6u);
  let r1 = min(r0 + m(6u), m(1u));
  // No early return: every invocation must reach the barriers.
  let valid = o < m(0u);
  let base = keptOffset(o);
  ${phases}
  ${write}
}`;
}

/** One dispatch of `spec` over `inputs` into `out`. */
function dispatchOnce(
  gpu: WebGpuBackend,
  spec: ReductionSpec,
  t: string,
  buffers: GPUBuffer[],
  o: {
    nOut: number;
    nRed: number;
    kept: Run[];
    red: Run[];
    perWorkgroup: boolean;
    parts?: number;
    chunk?: number;
  },
): void {
  const bindings: BindingKind[] = [...buffers.slice(0, -1).map(() => "read" as const), "write", "uniform"];
  const pipeline = gpu.pipeline(
    `${spec.key}|${t}|${o.perWorkgroup ? "wg" : "thread"}`,
    bindings,
    () => shaderSource(spec, t, o.perWorkgroup),
  );
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

/**
 * Runs `spec` over `inputs` (all of `inputs[0]`'s shape) reducing `axes`, and returns the new
 * output buffer: `nOut` elements per output, or the inputs' size for per-element specs.
 */
export function runReduction(
  gpu: WebGpuBackend,
  spec: ReductionSpec,
  inputs: readonly Tensor[],
  axes: readonly number[],
  output: { dtype: DType; shape: readonly number[] },
): GpuStorage {
  const x = inputs[0];
  const size = sizeOf(output.shape);
  const out = gpu.alloc(output.dtype, size) as GpuStorage;
  // Per-element specs have one "output" per line along the reduced axes.
  const nOut = !spec.perElement ? size : x.size === 0 ? 0 : x.size / sizeOfAxes(x.shape, axes);
  if (nOut === 0 || size === 0) return out;
  const t = wgslType(output.dtype);
  const { kept, red } = collapse(x.shape, axes);
  const nRed = x.size === 0 ? 0 : x.size / nOut;
  // Column reductions ([R, C] over R: the bias gradient) keep the innermost axis: one
  // invocation per output then reads consecutive addresses across invocations.
  const innerKept = kept.length > 0 && kept[kept.length - 1].s === 1;
  const perWorkgroup = nRed >= SHORT && !(innerKept && nOut >= WORKGROUP);
  const buffers = [...inputs.map(gpuBuffer)];
  // A long reduction into few outputs is split over several workgroups per output (the sum
  // over a whole tensor would otherwise run on one workgroup), then the parts are combined.
  const parts = spec.splittable && perWorkgroup && nOut < SPLIT_BELOW_OUTPUTS
    ? Math.min(MAX_PARTS, Math.ceil(nRed / PART))
    : 1;
  if (parts <= 1) {
    dispatchOnce(gpu, spec, t, [...buffers, out.buffer], { nOut, nRed, kept, red, perWorkgroup });
    return out;
  }
  using partial = gpu.scratch(output.dtype, nOut * parts);
  const chunk = Math.ceil(nRed / parts);
  dispatchOnce(gpu, spec, t, [...buffers, partial.buffer], {
    nOut,
    nRed,
    kept,
    red,
    perWorkgroup,
    parts,
    chunk,
  });
  // partial is [nOut, parts]: reduce its rows.
  dispatchOnce(gpu, spec, t, [partial.buffer, out.buffer], {
    nOut,
    nRed: parts,
    kept: [{ e: nOut, s: parts }],
    red: [{ e: parts, s: 1 }],
    perWorkgroup: true,
  });
  return out;
}

function sizeOfAxes(shape: readonly number[], axes: readonly number[]): number {
  let n = 1;
  for (const a of axes) n *= shape[a];
  return n;
}
