/**
 * webgpu kernels of depthwise convolutions: one input channel per group (groups = Cin) and a
 * small channel multiplier Cout/groups, as in QuartzNet, where the implicit GEMM of
 * conv_gemm.ts would have M = Cout/groups ≈ 1 and waste most of its register block.
 * x [N, Cin, H, W], w [Cout, 1, KH, KW], y [N, Cout, Hout, Wout]; output channel oc reads
 * input channel ⌊oc / (Cout/groups)⌋.
 *
 * - forward: each invocation computes 4 consecutive outputs of one row (a vec4), looping over
 *   the taps; out-of-range taps read a clamped address and are masked.
 * - backward-data: each invocation computes 4 consecutive dx of one row, gathering over the
 *   multiplier's output channels and the taps that reach them (with a stride, only taps whose
 *   offset divides exactly; the unit-stride shader skips that test).
 * - backward-filter: one workgroup of 64 per (output channel, kernel row, 4 consecutive taps);
 *   its invocations stride over the batch and output positions, then combine their partial
 *   sums by a fixed tree in workgroup memory, so the sum over the batch is deterministic.
 *
 * Not here: staging input rows in workgroup memory for GPUs (the taps' overlapping reads are
 * left to the caches), the GEMM path for larger multipliers (conv_gemm.ts).
 */
import { withF16Inputs } from "./f16_loads.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import type { ConvGeometry } from "../../conv_geometry.ts";
import { convMeta, convParamsWgsl, uniformParam } from "./conv_params.ts";
import type { ConvDirection } from "./conv_gemm.ts";

const WORKGROUP = 64;

/** Whether `g` runs on the depthwise kernels: one input channel per group, multiplier below 8 (as on the cpu). */
export function isDepthwise(g: ConvGeometry): boolean {
  return g.cin === g.groups && g.cout / g.groups < 8;
}

// Flat invocation index over a grid folded into x and y (gpu.grid).
const FLAT_ID = `let id = (wid.y * nwg.x + wid.x) * ${WORKGROUP}u + lid.x;`;
const BUILTINS = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>`;
const LANES = "vec4<i32>(0, 1, 2, 3)";

function forwardSource(hasBias: boolean): string {
  const inputs = hasBias ? ["x", "wt", "bias"] : ["x", "wt"];
  return `${inputs.map((n, i) => `@group(0) @binding(${i}) var<storage, read> ${n}: array<f32>;`).join("\n")}
@group(0) @binding(${inputs.length}) var<storage, read_write> y: array<f32>;
${convParamsWgsl(inputs.length + 1)}

@compute @workgroup_size(${WORKGROUP})
fn main(${BUILTINS}) {
  loadGeo();
  ${FLAT_ID}
  let quads = (G.wOut + 3u) / 4u;
  if (id >= G.n * G.cout * G.hOut * quads) { return; }
  let ow0 = (id % quads) * 4u;
  let row = id / quads; // (n·cout + oc)·hOut + oh
  let oh = row % G.hOut;
  let nc = row / G.hOut;
  let oc = nc % G.cout;
  let xPlane = ((nc / G.cout) * G.cin + oc / G.coutG) * G.h * G.w;
  let lastCol = vec4<u32>(G.w - 1u);
  var acc = vec4<f32>(0.0);
  for (var i = 0u; i < G.kh; i++) {
    let ih = i32(oh * G.sh + i * G.dh) - i32(G.pt);
    if (u32(ih) >= G.h) { continue; }
    let xRow = xPlane + u32(ih) * G.w;
    let wRow = (oc * G.kh + i) * G.kw;
    for (var j = 0u; j < G.kw; j++) {
      let iw = vec4<i32>(i32(ow0 * G.sw + j * G.dw) - i32(G.pl)) + ${LANES} * i32(G.sw);
      let q = min(vec4<u32>(iw), lastCol);
      let v = vec4<f32>(x[xRow + q.x], x[xRow + q.y], x[xRow + q.z], x[xRow + q.w]);
      acc += wt[wRow + j] * select(vec4<f32>(0.0), v, vec4<u32>(iw) < vec4<u32>(G.w));
    }
  }
  let b = ${hasBias ? "bias[oc]" : "0.0"};
  let dst = row * G.wOut + ow0;
  for (var t = 0u; t < 4u; t++) {
    if (ow0 + t < G.wOut) { y[dst + t] = acc[t] + b; }
  }
}`;
}

function backwardDataSource(isUnitStride: boolean): string {
  // oh·sh = ih + pt − i·dh must divide exactly (and likewise along W) when the stride is > 1.
  const rowTest = isUnitStride ? `let oh = ohN;` : `if (ohN < 0 || u32(ohN) % G.sh != 0u) { continue; }
      let oh = ohN / i32(G.sh);`;
  const colMap = isUnitStride
    ? `let ow = owN;
        let ok = vec4<u32>(ow) < vec4<u32>(G.wOut);`
    : `let sw = vec4<i32>(i32(G.sw));
        let ow = owN / sw;
        let ok = (owN >= vec4<i32>(0)) & (owN % sw == vec4<i32>(0)) & (vec4<u32>(ow) < vec4<u32>(G.wOut));`;
  return `@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
${convParamsWgsl(3)}

@compute @workgroup_size(${WORKGROUP})
fn main(${BUILTINS}) {
  loadGeo();
  ${FLAT_ID}
  let quads = (G.w + 3u) / 4u;
  if (id >= G.n * G.cin * G.h * quads) { return; }
  let iw0 = (id % quads) * 4u;
  let row = id / quads; // (n·cin + ic)·h + ih
  let ih = row % G.h;
  let nc = row / G.h;
  let ic = nc % G.cin;
  let n = nc / G.cin;
  let lastCol = vec4<u32>(G.wOut - 1u);
  var acc = vec4<f32>(0.0);
  for (var mo = 0u; mo < G.coutG; mo++) {
    let oc = ic * G.coutG + mo;
    let dyPlane = (n * G.cout + oc) * G.hOut * G.wOut;
    for (var i = 0u; i < G.kh; i++) {
      let ohN = i32(ih + G.pt) - i32(i * G.dh);
      ${rowTest}
      if (u32(oh) >= G.hOut) { continue; }
      let dyRow = dyPlane + u32(oh) * G.wOut;
      let wRow = (oc * G.kh + i) * G.kw;
      for (var j = 0u; j < G.kw; j++) {
        let owN = vec4<i32>(i32(iw0 + G.pl) - i32(j * G.dw)) + ${LANES};
        ${colMap}
        let q = min(vec4<u32>(ow), lastCol);
        let v = vec4<f32>(dy[dyRow + q.x], dy[dyRow + q.y], dy[dyRow + q.z], dy[dyRow + q.w]);
        acc += wt[wRow + j] * select(vec4<f32>(0.0), v, ok);
      }
    }
  }
  let dst = row * G.w + iw0;
  for (var t = 0u; t < 4u; t++) {
    if (iw0 + t < G.w) { dx[dst + t] = acc[t]; }
  }
}`;
}

function backwardFilterSource(): string {
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
${convParamsWgsl(3)}
var<workgroup> partial: array<vec4<f32>, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(${BUILTINS}) {
  loadGeo();
  // The workgroup index and the count it is tested against are uniform (read from the
  // uniform block, not G), as the barriers below require.
  let group = wid.y * nwg.x + wid.x;
  let quadsK = (${uniformParam("kw")} + 3u) / 4u;
  if (group >= ${uniformParam("cout")} * ${uniformParam("kh")} * quadsK) { return; }
  let j0 = (group % quadsK) * 4u;
  let r = group / quadsK; // oc·kh + i
  let i = r % G.kh;
  let oc = r / G.kh;
  let ic = oc / G.coutG;
  let lastCol = vec4<u32>(G.w - 1u);
  let positions = G.n * G.hOut * G.wOut;
  var acc = vec4<f32>(0.0);
  for (var p = lid.x; p < positions; p += ${WORKGROUP}u) {
    let ow = p % G.wOut;
    let q = p / G.wOut;
    let oh = q % G.hOut;
    let n = q / G.hOut;
    let ih = i32(oh * G.sh + i * G.dh) - i32(G.pt);
    if (u32(ih) >= G.h) { continue; }
    let d = dy[((n * G.cout + oc) * G.hOut + oh) * G.wOut + ow];
    let xRow = ((n * G.cin + ic) * G.h + u32(ih)) * G.w;
    let iw = vec4<i32>(i32(ow * G.sw + j0 * G.dw) - i32(G.pl)) + ${LANES} * i32(G.dw);
    let c = min(vec4<u32>(iw), lastCol);
    let v = vec4<f32>(x[xRow + c.x], x[xRow + c.y], x[xRow + c.z], x[xRow + c.w]);
    acc += d * select(vec4<f32>(0.0), v, vec4<u32>(iw) < vec4<u32>(G.w));
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s / 2u) {
    if (lid.x < s) { partial[lid.x] += partial[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let sums = partial[0];
    for (var t = 0u; t < 4u; t++) {
      if (j0 + t < G.kw) { dw[r * G.kw + j0 + t] = sums[t]; }
    }
  }
}`;
}

/**
 * Encodes `direction` of a depthwise convolution (`isDepthwise(g)`) as one dispatch; `inputs`
 * in binding order as for `convGemm` (forward: x, w[, b]; backward-data: dy, w;
 * backward-filter: x, dy). The output is overwritten entirely. With `isF16` the operands (not
 * the bias) are f16 buffers.
 */
export function convDepthwise(
  gpu: WebGpuBackend,
  direction: ConvDirection,
  options: { geometry: ConvGeometry; inputs: readonly GPUBuffer[]; out: GpuStorage; isF16?: boolean },
): void {
  const g = options.geometry;
  const hasBias = direction === "forward" && options.inputs.length === 3;
  const isF16 = options.isF16 ?? false;
  // float16 operands: the same kernels with f16 loads of the operands (the bias stays f32).
  const f16 = (names: string[], source: () => string) => () =>
    isF16 ? withF16Inputs(source(), names) : source();
  const f16Key = isF16 ? "|f16" : "";
  const isUnitStride = g.strideH === 1 && g.strideW === 1;
  const buffers = [...options.inputs, options.out.buffer];
  const bindings = [...options.inputs.map(() => "read" as const), "write" as const, "uniform" as const];
  const meta = convMeta(g);
  if (direction === "forward") {
    const pipeline = gpu.pipeline(
      `conv|depthwise|forward${hasBias ? "|bias" : ""}${f16Key}`,
      bindings,
      f16(["x", "wt"], () => forwardSource(hasBias)),
    );
    const invocations = g.n * g.cout * g.hOut * Math.ceil(g.wOut / 4);
    gpu.dispatch(pipeline, buffers, { meta, workgroups: gpu.grid(Math.ceil(invocations / WORKGROUP)) });
  } else if (direction === "backwardData") {
    const pipeline = gpu.pipeline(
      `conv|depthwise|backwardData|${isUnitStride ? "unit" : "strided"}${f16Key}`,
      bindings,
      f16(["dy", "wt"], () => backwardDataSource(isUnitStride)),
    );
    const invocations = g.n * g.cin * g.h * Math.ceil(g.w / 4);
    gpu.dispatch(pipeline, buffers, { meta, workgroups: gpu.grid(Math.ceil(invocations / WORKGROUP)) });
  } else {
    const pipeline = gpu.pipeline(
      `conv|depthwise|backwardFilter${f16Key}`,
      bindings,
      f16(["x", "dy"], backwardFilterSource),
    );
    gpu.dispatch(pipeline, buffers, { meta, workgroups: gpu.grid(g.cout * g.kh * Math.ceil(g.kw / 4)) });
  }
}
