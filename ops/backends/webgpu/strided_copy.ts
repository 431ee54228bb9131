/**
 * The one strided copy behind the webgpu layout kernels (permute, slice and its backward,
 * concat, pad), the GPU twin of ops/backends/cpu/strided_copy.ts:
 * dst[dstOffset + Σ i_k·dstStrides[k]] = src[srcOffset + Σ i_k·srcStrides[k]] for every
 * multi-index i of `shape`, one invocation per element. Words are copied as u32, so one
 * pipeline serves float32 and int32 alike. `fillBuffer` writes one value into a whole buffer
 * (the zeros of sliceBackward, the border of pad).
 *
 * Axes of extent 1 are dropped and neighbouring axes that both sides walk contiguously are
 * merged first (a slice of rows is a 2-axis copy whatever the rank), since every remaining
 * axis costs a division per element.
 *
 * Not here: tiled transposes through workgroup memory (a permute reads the source with a
 * stride; on a CPU adapter that costs little, on a GPU it is a later optimisation), bounds
 * checks (callers compute offsets and strides from validated shapes).
 */
import { gpuBackend, type WebGpuBackend, wgslMeta } from "./backend.ts";
import type { Backend } from "../../backend.ts";
import type { DType } from "../../dtype.ts";
import { collapseAxes } from "./map.ts";

const WORKGROUP = 256;
/** Parameter words before the per-axis arrays: [size, rank, gridWidth, dstOffset, srcOffset]. */
const HEAD = 5;

/**
 * The copy shader for `rank` collapsed axes. The rank is part of the pipeline key, so the
 * index arithmetic is unrolled with constant parameter offsets (as in map.ts), and the
 * outermost coordinate is what remains, without a division.
 */
function copySource(rank: number): string {
  const lines: string[] = [];
  for (let a = rank - 1; a >= 0; a--) {
    const c = a > 0 ? `rest % m(${HEAD + a}u)` : "rest";
    const next = a > 0 ? ` rest = rest / m(${HEAD + a}u);` : "";
    lines.push(
      `{ let c = ${c}; s += c * m(${HEAD + rank + a}u); d += c * m(${HEAD + 2 * rank + a}u);${next} }`,
    );
  }
  return `@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
${wgslMeta(2)}
// Parameter block: [size, rank, gridWidth, dstOffset, srcOffset, shape[rank], srcStrides[rank], dstStrides[rank]]
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(2u);
  if (i >= m(0u)) { return; }
  var s = m(4u);
  var d = m(3u);
  var rest = i;
  ${lines.join("\n  ")}
  dst[d] = src[s];
}`;
}

const FILL_SOURCE = `@group(0) @binding(0) var<storage, read_write> dst: array<u32>;
${wgslMeta(1)}
// Parameter block: [size, value bits, gridWidth]
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(2u);
  if (i < m(0u)) { dst[i] = m(1u); }
}`;

/** The placement of one strided block in a buffer. */
export interface StridedBlock {
  buffer: GPUBuffer;
  offset: number;
  strides: readonly number[];
}

/** Enqueues the copy of the `shape`-sized strided block `src` into the strided block `dst`. */
export function stridedCopy(
  backend: Backend,
  dst: StridedBlock,
  src: StridedBlock,
  shape: readonly number[],
): void {
  const gpu = gpuBackend(backend);
  let size = 1;
  for (const n of shape) size *= n;
  if (size === 0) return;
  const { extents, strides: [srcStrides, dstStrides] } = collapseAxes(shape, [src.strides, dst.strides]);
  const rank = extents.length;
  const pipeline = gpu.pipeline(
    `stridedCopy|rank${rank}`,
    ["read", "write", "uniform"],
    () => copySource(rank),
  );
  const groups = gpu.grid(Math.ceil(size / WORKGROUP));
  const meta = new Uint32Array(HEAD + 3 * rank);
  meta.set([size, rank, groups[0] * WORKGROUP, dst.offset, src.offset]);
  meta.set(extents, HEAD);
  meta.set(srcStrides, HEAD + rank);
  meta.set(dstStrides, HEAD + 2 * rank);
  gpu.dispatch(pipeline, [src.buffer, dst.buffer], { meta, workgroups: groups });
}

/** Enqueues writing `value` (stored as `dtype`) into the first `size` elements of `buffer`. */
export function fillBuffer(
  gpu: WebGpuBackend,
  buffer: GPUBuffer,
  size: number,
  dtype: DType,
  value: number,
): void {
  if (size === 0) return;
  const bits = new Uint32Array(1);
  if (dtype === "int32") new Int32Array(bits.buffer)[0] = value;
  else new Float32Array(bits.buffer)[0] = value;
  const pipeline = gpu.pipeline("fill", ["write", "uniform"], () => FILL_SOURCE);
  const groups = gpu.grid(Math.ceil(size / WORKGROUP));
  gpu.dispatch(pipeline, [buffer], {
    meta: Uint32Array.of(size, bits[0], groups[0] * WORKGROUP),
    workgroups: groups,
  });
}
