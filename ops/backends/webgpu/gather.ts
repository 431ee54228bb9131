/**
 * webgpu kernels of `gather` and `gatherBackward` (ops/gather.ts).
 * gather: one invocation per index element; its multi-index (over the index's shape) with the
 * gathered axis replaced by the index value addresses the full tensor.
 * gatherBackward: one invocation per element of the full tensor, summing the gradient elements
 * whose index points at it along the axis (a gather, not a scatter: no float atomics, which
 * WGSL lacks, and the sum runs in a fixed order, so repeated indices accumulate the same way
 * on every run). Its cost is the full size times the index's extent along the axis.
 *
 * Unlike the cpu kernels, an index outside the axis cannot be reported (that needs a read
 * back to the host): gather gives NaN there (0 for int32) and gatherBackward ignores it.
 *
 * Not here: an index-range check (the cpu backend has one; run a suspect model there).
 */
import { registerKernel } from "../../op_registry.ts";
import type { GatherAttrs, GatherBackwardAttrs } from "../../gather.ts";
import { sizeOf, stridesOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, wgslMeta, wgslType } from "./backend.ts";

const WORKGROUP = 256;
/** Parameter words before the per-axis arrays: [size, rank, gridWidth, axis]. */
const HEAD = 4;

// Parameter block: [size, rank, gridWidth, axis, indexShape[rank], fullShape[rank], fullStrides[rank]]
function gatherSource(t: string): string {
  const missing = t === "f32" ? "bitcast<f32>(0x7fc00000u)" : "0i";
  return `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<${t}>;
${wgslMeta(3)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(2u);
  if (i >= m(0u)) { return; }
  let rank = m(1u);
  let axis = m(3u);
  let k = index[i];
  if (k < 0 || u32(k) >= m(${HEAD}u + rank + axis)) {
    out[i] = ${missing};
    return;
  }
  var off = u32(k) * m(${HEAD}u + 2u * rank + axis);
  var rest = i;
  for (var j = 0u; j < rank; j++) {
    let a = rank - 1u - j;
    let e = m(${HEAD}u + a);
    if (a != axis) { off += (rest % e) * m(${HEAD}u + 2u * rank + a); }
    rest = rest / e;
  }
  out[i] = x[off];
}`;
}

// Parameter block: [size, rank, gridWidth, axis, indexShape[rank], fullShape[rank], indexStrides[rank]]
function gatherBackwardSource(t: string): string {
  return `@group(0) @binding(0) var<storage, read> g: array<${t}>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<${t}>;
${wgslMeta(3)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(2u);
  if (i >= m(0u)) { return; }
  let rank = m(1u);
  let axis = m(3u);
  // Unravel over the full shape; positions outside the index's block get no gradient.
  var base = 0u;
  var slot = 0u;
  var inside = true;
  var rest = i;
  for (var j = 0u; j < rank; j++) {
    let a = rank - 1u - j;
    let c = rest % m(${HEAD}u + rank + a);
    rest = rest / m(${HEAD}u + rank + a);
    if (a == axis) { slot = c; } else {
      inside = inside && c < m(${HEAD}u + a);
      base += c * m(${HEAD}u + 2u * rank + a);
    }
  }
  var acc = ${t}(0);
  if (inside) {
    let n = m(${HEAD}u + axis);
    let stride = m(${HEAD}u + 2u * rank + axis);
    for (var k = 0u; k < n; k++) {
      let at = base + k * stride;
      if (index[at] == i32(slot)) { acc += g[at]; }
    }
  }
  out[i] = acc;
}`;
}

registerKernel<GatherAttrs>("gather", "webgpu", ({ inputs: [x, index], attrs, outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const { dtype } = outputs[0];
  const out = gpu.alloc(dtype, index.size) as GpuStorage;
  if (index.size === 0) return [out];
  const rank = x.rank;
  const t = wgslType(dtype);
  const pipeline = gpu.pipeline(`gather|${t}`, ["read", "read", "write", "uniform"], () => gatherSource(t));
  const groups = gpu.grid(Math.ceil(index.size / WORKGROUP));
  const meta = new Uint32Array(HEAD + 3 * rank);
  meta.set([index.size, rank, groups[0] * WORKGROUP, attrs.axis]);
  meta.set(index.shape, HEAD);
  meta.set(x.shape, HEAD + rank);
  meta.set(stridesOf(x.shape), HEAD + 2 * rank);
  gpu.dispatch(pipeline, [gpuBuffer(x), gpuBuffer(index), out.buffer], { meta, workgroups: groups });
  return [out];
});

registerKernel<GatherBackwardAttrs>(
  "gatherBackward",
  "webgpu",
  ({ inputs: [g, index], attrs, outputs, backend }) => {
    const gpu = gpuBackend(backend);
    const { dtype } = outputs[0];
    const size = sizeOf(attrs.shape);
    const out = gpu.alloc(dtype, size) as GpuStorage;
    if (size === 0) return [out];
    const rank = attrs.shape.length;
    const t = wgslType(dtype);
    const pipeline = gpu.pipeline(
      `gatherBackward|${t}`,
      ["read", "read", "write", "uniform"],
      () => gatherBackwardSource(t),
    );
    const groups = gpu.grid(Math.ceil(size / WORKGROUP));
    const meta = new Uint32Array(HEAD + 3 * rank);
    meta.set([size, rank, groups[0] * WORKGROUP, attrs.axis]);
    meta.set(index.shape, HEAD);
    meta.set(attrs.shape, HEAD + rank);
    meta.set(stridesOf(index.shape), HEAD + 2 * rank);
    gpu.dispatch(pipeline, [gpuBuffer(g), gpuBuffer(index), out.buffer], { meta, workgroups: groups });
    return [out];
  },
);
