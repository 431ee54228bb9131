/**
 * webgpu kernel of `dropoutMask` (ops/dropout.ts): one invocation per Philox4x32-10 block of
 * four elements (counter [block, 0, counter0, counter1]); element 4·block + j takes word j and
 * is 0 when its top 24 bits are below the threshold, else the scale. Integer rounds and an
 * integer comparison, so the mask is bit-identical to the cpu kernel's.
 */
import type { DropoutMaskAttrs } from "../../dropout.ts";
import { registerKernel } from "../../op_registry.ts";
import { sizeOf } from "../../shape.ts";
import { gpuBackend, type GpuStorage, wgslMeta } from "./backend.ts";
import { PHILOX_WGSL } from "./philox.ts";

const WORKGROUP = 256;

// Parameter block: [size, gridWidth, key0, key1, counter0, counter1, threshold, scale bits]
const SOURCE = `${PHILOX_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
${wgslMeta(1)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let block = gid.x + gid.y * m(1u);
  let base = block * 4u;
  if (base >= m(0u)) { return; }
  let w = philox(vec4<u32>(block, 0u, m(4u), m(5u)), vec2<u32>(m(2u), m(3u)));
  let scale = bitcast<f32>(m(7u));
  let n = min(4u, m(0u) - base);
  for (var j = 0u; j < n; j++) {
    out[base + j] = select(scale, 0.0, (w[j] >> 8u) < m(6u));
  }
}`;

registerKernel<DropoutMaskAttrs>("dropoutMask", "webgpu", ({ attrs, outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const size = sizeOf(outputs[0].shape);
  const out = gpu.alloc(outputs[0].dtype, size) as GpuStorage;
  if (size === 0) return [out];
  const pipeline = gpu.pipeline("dropoutMask", ["write", "uniform"], () => SOURCE);
  const groups = gpu.grid(Math.ceil(size / 4 / WORKGROUP));
  const meta = new Uint32Array(8);
  meta.set([size, groups[0] * WORKGROUP, attrs.key[0], attrs.key[1], attrs.counter[0], attrs.counter[1]]);
  meta[6] = attrs.threshold;
  new Float32Array(meta.buffer, 28, 1)[0] = attrs.scale;
  gpu.dispatch(pipeline, [out.buffer], { meta, workgroups: groups });
  return [out];
});
