/**
 * webgpu kernel of `cast` between f32 and f16 (and a copy for the same dtype): one invocation
 * per element. float16 storage is packed two per word, so an invocation converting to f16
 * writes one f16 of an `array<f16>`, which WGSL allows without atomics.
 */
import type { CastAttrs } from "../../cast.ts";
import { registerKernel } from "../../op_registry.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, wgslMeta, wgslType } from "./backend.ts";

const WORKGROUP = 256;

function shaderSource(from: string, to: string): string {
  const enable = from === "f16" || to === "f16" ? "enable f16;\n" : "";
  return `${enable}@group(0) @binding(0) var<storage, read> x: array<${from}>;
@group(0) @binding(1) var<storage, read_write> y: array<${to}>;
${wgslMeta(2)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.x + g.y * nw.x * ${WORKGROUP}u;
  if (i < m(0u)) { y[i] = ${to}(x[i]); }
}`;
}

registerKernel<CastAttrs>("cast", "webgpu", ({ inputs: [x], outputs: [spec], backend }) => {
  const gpu = gpuBackend(backend);
  const out = gpu.alloc(spec.dtype, x.size) as GpuStorage;
  const from = wgslType(x.dtype), to = wgslType(spec.dtype);
  const pipeline = gpu.pipeline(
    `cast|${from}|${to}`,
    ["read", "write", "uniform"],
    () => shaderSource(from, to),
  );
  gpu.dispatch(pipeline, [gpuBuffer(x), out.buffer], {
    meta: new Uint32Array([x.size]),
    workgroups: gpu.grid(Math.ceil(x.size / WORKGROUP)),
  });
  return [out];
});
