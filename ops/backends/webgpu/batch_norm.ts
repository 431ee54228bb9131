/**
 * webgpu kernels of batchNorm and batchNormBackward (ops/batch_norm.ts), with the cpu kernels'
 * semantics (ops/backends/cpu/batch_norm.ts). x is read as [N, C, S] (S = product of the axes
 * after C); with lengths, sample n's valid positions are the first clamp(len, 0, T)·inner of
 * its S, T = shape[2], inner = product of the axes after 2. The lengths tensor is read on the
 * device: nothing here reads back to the host.
 *
 * Each op is two dispatches:
 * - statistics / sums: one workgroup per channel; its invocations stride over the channel's
 *   valid positions of every sample (contiguous runs) and combine partial sums by a tree
 *   reduction (workgroup_reduce.ts). The batch statistics are two-pass (the mean, then the
 *   squared deviations from it), as in the cpu kernel, so a large mean does not cancel the
 *   variance away. In training the same workgroup updates running_mean / running_var in place
 *   (momentum, unbiased variance), writing into the buffers of those inputs.
 * - elementwise: one invocation per element applies the per-channel affine map (forward) or
 *   the gradient formula (backward).
 *
 * Accumulation is f32 (the cpu kernel's is float64). With lengths that leave at most one valid
 * value per channel the cpu kernel throws; here that check would need a read-back, so the
 * statistics come out NaN or infinite instead.
 *
 * On llvmpipe a shader invocation ends after 65535 loop iterations in total; the statistics
 * run 2·Σ_n ceil(valid_n / 256) of them per invocation, so up to about 8M valid positions per
 * channel (N·T·F) work there.
 *
 * Not here: splitting a channel over several workgroups (a GPU with few channels and long
 * sequences idles), fusing the statistics with the producer of x, Welford's single pass, vec4 loads.
 */
import { registerKernel } from "../../op_registry.ts";
import { type BatchNormAttrs, type BatchNormBackwardAttrs, batchNormSlots } from "../../batch_norm.ts";
import type { Tensor } from "../../tensor.ts";
import {
  type BindingKind,
  gpuBackend,
  gpuBuffer,
  type GpuStorage,
  type WebGpuBackend,
  wgslMeta,
} from "./backend.ts";
import { wgslWorkgroupReduce } from "./workgroup_reduce.ts";

const WORKGROUP = 256;

/** Layout of x shared by all four shaders: [N, C, S] with S = T·inner. */
interface Dims {
  n: number;
  c: number;
  s: number;
  t: number;
  inner: number;
}

function dimsOf(x: Tensor): Dims {
  const n = x.shape[0], c = x.shape[1];
  const s = n * c === 0 ? 0 : x.size / (n * c);
  const t = x.rank >= 3 ? x.shape[2] : 1;
  return { n, c, s, t, inner: t === 0 ? 0 : s / t };
}

/** One binding of a generated shader: its WGSL name, element type and kind. */
interface Binding {
  name: string;
  type: "f32" | "i32";
  kind: BindingKind;
}

function declare(bindings: readonly Binding[]): string {
  return bindings.map((b, i) =>
    `@group(0) @binding(${i}) var<storage, ${
      b.kind === "read" ? "read" : "read_write"
    }> ${b.name}: array<${b.type}>;`
  ).join("\n") + `\n${wgslMeta(bindings.length)}`;
}

// Parameter block of every shader: [N, C, S, T, inner, gridWidth, momentum (f32 bits), eps (f32 bits)].
function meta(d: Dims, gridWidth: number, momentum = 0, eps = 0): Uint32Array {
  const m = new Uint32Array(8);
  m.set([d.n, d.c, d.s, d.t, d.inner, gridWidth]);
  new Float32Array(m.buffer, 24, 2).set([momentum, eps]);
  return m;
}

/** WGSL helpers reading the parameter block and the valid positions of sample i. */
function common(hasLengths: boolean): string {
  const valid = hasLengths ? `u32(clamp(lengths[i], 0, i32(m(3u)))) * m(4u)` : `m(2u)`;
  return `fn n_() -> u32 { return m(0u); }
fn c_() -> u32 { return m(1u); }
fn s_() -> u32 { return m(2u); }
fn valid_of(i: u32) -> u32 { return ${valid}; }`;
}

function pipelineOf(
  gpu: WebGpuBackend,
  key: string,
  bindings: readonly Binding[],
  body: string,
): GPUComputePipeline {
  return gpu.pipeline(
    key,
    [...bindings.map((b) => b.kind), "uniform"],
    () => `${declare(bindings)}\n${body}`,
  );
}

/** Per-channel statistics (training: batch, with the running update; eval: running). */
function statsShader(training: boolean, hasRunning: boolean, hasLengths: boolean): string {
  const head = `${common(hasLengths)}
${wgslWorkgroupReduce(WORKGROUP)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x + wid.y * m(5u);
  if (ch >= c_()) { return; } // uniform: the whole workgroup leaves
  let eps = bitcast<f32>(m(7u));`;
  if (!training) {
    return `${head}
  if (lid == 0u) {
    mean_out[ch] = running_mean[ch];
    inv_std_out[ch] = 1.0 / sqrt(running_var[ch] + eps);
  }
}`;
  }
  const update = hasRunning
    ? `let mom = bitcast<f32>(m(6u));
    running_mean[ch] = (1.0 - mom) * running_mean[ch] + mom * mean;
    running_var[ch] = (1.0 - mom) * running_var[ch] + mom * (sq / (count - 1.0));`
    : "";
  return `${head}
  var acc = 0.0;
  var total = 0u;
  for (var i = 0u; i < n_(); i++) {
    let v = valid_of(i);
    total += v;
    let base = (i * c_() + ch) * s_();
    for (var p = lid; p < v; p += ${WORKGROUP}u) { acc += x[base + p]; }
  }
  let count = f32(total);
  let mean = wg_sum(acc, lid) / count;
  var dev = 0.0;
  for (var i = 0u; i < n_(); i++) {
    let v = valid_of(i);
    let base = (i * c_() + ch) * s_();
    for (var p = lid; p < v; p += ${WORKGROUP}u) {
      let d = x[base + p] - mean;
      dev += d * d;
    }
  }
  let sq = wg_sum(dev, lid);
  if (lid == 0u) {
    mean_out[ch] = mean;
    inv_std_out[ch] = 1.0 / sqrt(sq / count + eps);
    ${update}
  }
}`;
}

function normaliseShader(hasWeight: boolean, hasBias: boolean): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(5u);
  let s = m(2u);
  if (i >= m(0u) * m(1u) * s) { return; }
  let ch = (i / s) % m(1u);
  let scale = ${hasWeight ? "weight[ch] * " : ""}inv_std[ch];
  let shift = ${hasBias ? "bias[ch]" : "0.0"} - mean[ch] * scale;
  y[i] = x[i] * scale + shift;
}`;
}

registerKernel<BatchNormAttrs>("batchNorm", "webgpu", ({ inputs, attrs, outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const x = inputs[0];
  const slots = batchNormSlots(attrs);
  const d = dimsOf(x);
  const y = gpu.alloc(outputs[0].dtype, x.size) as GpuStorage;
  const meanOut = gpu.alloc(outputs[1].dtype, d.c) as GpuStorage;
  const invStdOut = gpu.alloc(outputs[2].dtype, d.c) as GpuStorage;
  if (d.c === 0) return [y, meanOut, invStdOut];
  const hasRunning = slots.runningMean >= 0;
  const hasLengths = slots.lengths >= 0;
  const statsBindings: Binding[] = [{ name: "x", type: "f32", kind: "read" }];
  const statsBuffers = [gpuBuffer(x)];
  if (hasLengths) {
    statsBindings.push({ name: "lengths", type: "i32", kind: "read" });
    statsBuffers.push(gpuBuffer(inputs[slots.lengths]));
  }
  if (hasRunning) {
    // The running statistics are updated in place: their own buffers are bound read-write.
    const kind: BindingKind = attrs.training ? "write" : "read";
    statsBindings.push({ name: "running_mean", type: "f32", kind }, {
      name: "running_var",
      type: "f32",
      kind,
    });
    statsBuffers.push(gpuBuffer(inputs[slots.runningMean]), gpuBuffer(inputs[slots.runningVar]));
  }
  statsBindings.push({ name: "mean_out", type: "f32", kind: "write" }, {
    name: "inv_std_out",
    type: "f32",
    kind: "write",
  });
  statsBuffers.push(meanOut.buffer, invStdOut.buffer);
  const channels = gpu.grid(d.c);
  gpu.dispatch(
    pipelineOf(
      gpu,
      `batchNorm|stats|${attrs.training ? "train" : "eval"}|${hasRunning}|${hasLengths}`,
      statsBindings,
      statsShader(attrs.training, hasRunning, hasLengths),
    ),
    statsBuffers,
    { meta: meta(d, channels[0], attrs.momentum, attrs.eps), workgroups: channels },
  );
  if (x.size === 0) return [y, meanOut, invStdOut];
  const normBindings: Binding[] = [
    { name: "x", type: "f32", kind: "read" },
    { name: "mean", type: "f32", kind: "read" },
    { name: "inv_std", type: "f32", kind: "read" },
  ];
  const normBuffers = [gpuBuffer(x), meanOut.buffer, invStdOut.buffer];
  if (slots.weight >= 0) {
    normBindings.push({ name: "weight", type: "f32", kind: "read" });
    normBuffers.push(gpuBuffer(inputs[slots.weight]));
  }
  if (slots.bias >= 0) {
    normBindings.push({ name: "bias", type: "f32", kind: "read" });
    normBuffers.push(gpuBuffer(inputs[slots.bias]));
  }
  normBindings.push({ name: "y", type: "f32", kind: "write" });
  normBuffers.push(y.buffer);
  const elements = gpu.grid(Math.ceil(x.size / WORKGROUP));
  gpu.dispatch(
    pipelineOf(
      gpu,
      `batchNorm|normalise|${slots.weight >= 0}|${slots.bias >= 0}`,
      normBindings,
      normaliseShader(slots.weight >= 0, slots.bias >= 0),
    ),
    normBuffers,
    { meta: meta(d, elements[0] * WORKGROUP), workgroups: elements },
  );
  return [y, meanOut, invStdOut];
});

/**
 * Per-channel sums of the backward pass over EVERY position (padded outputs depend on the
 * statistics too): dBias = Σdy, dWeight = x̂·Σdy·x̂; and the two coefficients of dx.
 */
function backwardSumsShader(training: boolean, hasLengths: boolean): string {
  return `${common(hasLengths)}
${wgslWorkgroupReduce(WORKGROUP)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x + wid.y * m(5u);
  if (ch >= c_()) { return; } // uniform: the whole workgroup leaves
  let mu = mean[ch];
  var acc = vec2<f32>(0.0, 0.0);
  var total = 0u;
  for (var i = 0u; i < n_(); i++) {
    total += valid_of(i);
    let base = (i * c_() + ch) * s_();
    for (var p = lid; p < s_(); p += ${WORKGROUP}u) {
      let g = dy[base + p];
      acc += vec2<f32>(g, g * (x[base + p] - mu));
    }
  }
  let sums = wg_sum2(acc, lid);
  if (lid == 0u) {
    let inv_std_c = inv_std[ch];
    let sum_dy_xhat = sums.y * inv_std_c;
    d_bias[ch] = sums.x;
    d_weight[ch] = sum_dy_xhat;
    let count = f32(total);
    // dx = g·(dy - a - (x - mean)·b) on valid positions, g·dy elsewhere (b = a = 0 in eval).
    coef[ch] = ${training ? "sums.x / count" : "0.0"};
    coef[c_() + ch] = ${training ? "sum_dy_xhat / count * inv_std_c" : "0.0"};
  }
}`;
}

function backwardDxShader(hasWeight: boolean, hasLengths: boolean): string {
  return `${common(hasLengths)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * m(5u);
  let s = s_();
  let cs = c_() * s;
  if (i >= n_() * cs) { return; }
  let ch = (i / s) % c_();
  let g = ${hasWeight ? "weight[ch] * " : ""}inv_std[ch];
  let dyi = dy[i];
  if (i % s < valid_of(i / cs)) {
    dx[i] = g * (dyi - coef[ch] - (x[i] - mean[ch]) * coef[c_() + ch]);
  } else {
    dx[i] = g * dyi;
  }
}`;
}

registerKernel<BatchNormBackwardAttrs>(
  "batchNormBackward",
  "webgpu",
  ({ inputs, attrs, outputs, backend }) => {
    const gpu = gpuBackend(backend);
    const [dy, x, mean, invStd] = inputs;
    let k = 4;
    const weight = attrs.hasWeight ? inputs[k++] : null;
    const lengths = attrs.hasLengths ? inputs[k++] : null;
    const d = dimsOf(x);
    const dx = gpu.alloc(outputs[0].dtype, x.size) as GpuStorage;
    const dWeight = gpu.alloc(outputs[1].dtype, d.c) as GpuStorage;
    const dBias = gpu.alloc(outputs[2].dtype, d.c) as GpuStorage;
    if (d.c === 0) return [dx, dWeight, dBias];
    using coef = gpu.scratch("float32", 2 * d.c);
    const sumBindings: Binding[] = [
      { name: "dy", type: "f32", kind: "read" },
      { name: "x", type: "f32", kind: "read" },
      { name: "mean", type: "f32", kind: "read" },
      { name: "inv_std", type: "f32", kind: "read" },
    ];
    const sumBuffers = [gpuBuffer(dy), gpuBuffer(x), gpuBuffer(mean), gpuBuffer(invStd)];
    if (lengths) {
      sumBindings.push({ name: "lengths", type: "i32", kind: "read" });
      sumBuffers.push(gpuBuffer(lengths));
    }
    sumBindings.push(
      { name: "d_weight", type: "f32", kind: "write" },
      { name: "d_bias", type: "f32", kind: "write" },
      { name: "coef", type: "f32", kind: "write" },
    );
    sumBuffers.push(dWeight.buffer, dBias.buffer, coef.buffer);
    const channels = gpu.grid(d.c);
    gpu.dispatch(
      pipelineOf(
        gpu,
        `batchNormBackward|sums|${attrs.training}|${attrs.hasLengths}`,
        sumBindings,
        backwardSumsShader(attrs.training, attrs.hasLengths),
      ),
      sumBuffers,
      { meta: meta(d, channels[0]), workgroups: channels },
    );
    if (x.size === 0) return [dx, dWeight, dBias];
    const dxBindings: Binding[] = [
      { name: "dy", type: "f32", kind: "read" },
      { name: "x", type: "f32", kind: "read" },
      { name: "mean", type: "f32", kind: "read" },
      { name: "inv_std", type: "f32", kind: "read" },
      { name: "coef", type: "f32", kind: "read" },
    ];
    const dxBuffers = [gpuBuffer(dy), gpuBuffer(x), gpuBuffer(mean), gpuBuffer(invStd), coef.buffer];
    if (weight) {
      dxBindings.push({ name: "weight", type: "f32", kind: "read" });
      dxBuffers.push(gpuBuffer(weight));
    }
    if (lengths) {
      dxBindings.push({ name: "lengths", type: "i32", kind: "read" });
      dxBuffers.push(gpuBuffer(lengths));
    }
    dxBindings.push({ name: "dx", type: "f32", kind: "write" });
    dxBuffers.push(dx.buffer);
    const elements = gpu.grid(Math.ceil(x.size / WORKGROUP));
    gpu.dispatch(
      pipelineOf(
        gpu,
        `batchNormBackward|dx|${attrs.hasWeight}|${attrs.hasLengths}`,
        dxBindings,
        backwardDxShader(attrs.hasWeight, attrs.hasLengths),
      ),
      dxBuffers,
      { meta: meta(d, elements[0] * WORKGROUP), workgroups: elements },
    );
    return [dx, dWeight, dBias];
  },
);
