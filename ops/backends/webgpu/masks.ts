/**
 * webgpu kernel of `sequenceMask` (ops/masks.ts): element (n, t) is 1 for t < lengths[n],
 * else 0; one invocation per element.
 *
 * Unlike the cpu kernel, a negative length cannot be reported (that needs a read back to the
 * host): it gives a row of zeros, as a length of 0 does.
 */
import { registerKernel } from "../../op_registry.ts";
import type { SequenceMaskAttrs } from "../../masks.ts";
import { sizeOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, wgslMeta, wgslType } from "./backend.ts";

const WORKGROUP = 256;

// Parameter block: [size, maxLen, gridWidth]
function shaderSource(t: string): string {
  return `@group(0) @binding(0) var<storage, read> lengths: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
${wgslMeta(2)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(2u);
  if (i >= m(0u)) { return; }
  let t = i32(i % m(1u));
  out[i] = select(${t}(0), ${t}(1), t < lengths[i / m(1u)]);
}`;
}

registerKernel<SequenceMaskAttrs>("sequenceMask", "webgpu", ({ inputs: [lengths], outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const { shape, dtype } = outputs[0];
  const size = sizeOf(shape);
  const out = gpu.alloc(dtype, size) as GpuStorage;
  if (size === 0) return [out];
  const t = wgslType(dtype);
  const pipeline = gpu.pipeline(`sequenceMask|${t}`, ["read", "write", "uniform"], () => shaderSource(t));
  const groups = gpu.grid(Math.ceil(size / WORKGROUP));
  const meta = Uint32Array.of(size, shape[shape.length - 1], groups[0] * WORKGROUP);
  gpu.dispatch(pipeline, [gpuBuffer(lengths), out.buffer], { meta, workgroups: groups });
  return [out];
});
