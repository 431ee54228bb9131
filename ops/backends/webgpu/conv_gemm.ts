/**
 * The three directions of a grouped 2-D convolution as implicit GEMMs on webgpu: the operands
 * are read straight from x, w and dy through index maps, no im2col buffer is materialised.
 * Per group g (the grid's z):
 *
 * | direction       | C [M, N]               | A [M, K]               | B [K, N]                  |
 * | --------------- | ---------------------- | ---------------------- | ------------------------- |
 * | forward         | y [coutG, (n, oh, ow)] | w [coutG, (c, i, j)]   | x̂ [(c, i, j), (n, oh, ow)] |
 * | backward-data   | dx [cinG, (n, ih, iw)] | wᵀ [cinG, (m, i, j)]   | dŷ [(m, i, j), (n, ih, iw)] |
 * | backward-filter | dw [coutG, (c, i, j)]  | dy [coutG, (n, oh, ow)] | x̂ [(n, oh, ow), (c, i, j)] |
 *
 * x̂ is x at (n, g·cinG + c, oh·sh + i·dh − pt, ow·sw + j·dw − pl), zero outside; dŷ is dy at
 * (n, g·coutG + m, (ih + pt − i·dh)/sh, (iw + pl − j·dw)/sw) where those divide exactly and
 * fall inside, zero elsewhere. Each index is a sum of a part that depends on B's column only
 * and a part that depends on K only, so the column part (`colInfo`) is computed once per
 * column and each load adds the K part: the three directions share one GEMM skeleton and
 * differ only in four small WGSL functions (`colInfo`, `aAt`, `bAt`, `store`).
 *
 * Two skeletons, chosen as ops/backends/webgpu/matmul.ts chooses its kernels:
 * - "tiled" (GPUs): 16×16 invocations compute a 64×64 block of C, each a 4×4 register block;
 *   K advances by 16 with A and B slices staged in workgroup memory (each invocation loads a
 *   fixed B column, so its `colInfo` is hoisted out of the K loop);
 * - "register" (CPU adapters such as llvmpipe, where workgroup memory and barriers cost more
 *   than they save): each invocation computes 4 rows × 4 consecutive columns of C straight
 *   from global memory, walking K with three counters instead of divisions.
 * Column blocks go along the grid's x; beyond its limit they continue in extra z slices.
 * `setConvGemmKernel` overrides the choice (tests run both on any adapter).
 *
 * Every output element is one invocation's sum in a fixed order, so results (the weight
 * gradient's sum over the batch included) are deterministic. Nothing reads back to the host.
 *
 * Not here: depthwise convolutions (conv_depthwise.ts); split-K for weight gradients of long
 * batches; splitting strided backward-data by stride phase (it tests every tap and loads a
 * zero for those that miss an output); a table of K offsets to spare the tiled loads their
 * divisions; f16.
 */
import { withF16Inputs } from "./f16_loads.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import type { ConvGeometry } from "../../conv_geometry.ts";
import { convMeta, convParamsWgsl, type GemmExtents, uniformParam } from "./conv_params.ts";

/** Which convolution the GEMM computes. */
export type ConvDirection = "forward" | "backwardData" | "backwardFilter";

/** GEMM skeleton: "tiled" (workgroup memory), "register" (none), or "auto" by adapter kind. */
export type ConvGemmKernel = "auto" | "tiled" | "register";

let kernelChoice: ConvGemmKernel = "auto";

/** Forces the GEMM skeleton of the webgpu convolutions (tests, benches); returns the previous choice. */
export function setConvGemmKernel(kernel: ConvGemmKernel): ConvGemmKernel {
  const previous = kernelChoice;
  kernelChoice = kernel;
  return previous;
}

let gridLimit: number | null = null;

/**
 * @internal Caps the column blocks per grid row below the device's limit, so tests reach the
 * z-slice path with small shapes; null restores the device's limit. Returns the previous cap.
 */
export function setConvGridLimit(limit: number | null): number | null {
  const previous = gridLimit;
  gridLimit = limit;
  return previous;
}

const TILE = 64; // tiled: C block per workgroup (16×16 invocations × 4×4)
const TK = 16; // tiled: K step staged in workgroup memory
const REG_BLOCK = 32; // register: C block per workgroup (8×8 invocations × 4×4)

/** M, N and K of `direction` for geometry `g` (K split as (K0, K1, K2), see the file comment). */
export function gemmExtents(direction: ConvDirection, g: ConvGeometry): Omit<GemmExtents, "zSplit"> {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  const taps = g.kh * g.kw;
  switch (direction) {
    case "forward":
      return { m: coutG, n: g.n * g.hOut * g.wOut, k: cinG * taps, k1: g.kh, k2: g.kw };
    case "backwardData":
      return { m: cinG, n: g.n * g.h * g.w, k: coutG * taps, k1: g.kh, k2: g.kw };
    case "backwardFilter":
      return { m: coutG, n: cinG * taps, k: g.n * g.hOut * g.wOut, k1: g.hOut, k2: g.wOut };
  }
}

/** Buffer names of a direction in binding order: inputs (read-only), then the output. */
function bufferNames(direction: ConvDirection, hasBias: boolean): { inputs: string[]; output: string } {
  switch (direction) {
    case "forward":
      return { inputs: hasBias ? ["x", "wt", "bias"] : ["x", "wt"], output: "y" };
    case "backwardData":
      return { inputs: ["dy", "wt"], output: "dx" };
    case "backwardFilter":
      return { inputs: ["x", "dy"], output: "dw" };
  }
}

/**
 * The four index-map functions of `direction`: `colInfo(g, col)` (B's column part),
 * `aAt(g, row, k, kv)`, `bAt(kv, c)` (zero outside the input) and `store(g, row, col, v)`;
 * kv is k split as (K0, K1, K2).
 */
function directionWgsl(direction: ConvDirection, hasBias: boolean, isUnitStride: boolean): string {
  if (direction === "forward") {
    // kv = (c, i, j); column = (n, oh, ow).
    return `struct Col { base: i32, ih: i32, iw: i32 }
fn colInfo(g: u32, col: u32) -> Col {
  let P = G.hOut * G.wOut;
  let n = col / P;
  let p = col % P;
  let ih = i32((p / G.wOut) * G.sh) - i32(G.pt);
  let iw = i32((p % G.wOut) * G.sw) - i32(G.pl);
  return Col(i32((n * G.cin + g * G.cinG) * G.h * G.w) + ih * i32(G.w) + iw, ih, iw);
}
fn aAt(g: u32, row: u32, k: u32, kv: vec3<u32>) -> f32 { return wt[(g * G.coutG + row) * G.K + k]; }
fn bAt(kv: vec3<u32>, c: Col) -> f32 {
  let ih = c.ih + i32(kv.y * G.dh);
  let iw = c.iw + i32(kv.z * G.dw);
  if (u32(ih) >= G.h || u32(iw) >= G.w) { return 0.0; }
  return x[u32(c.base + i32((kv.x * G.h + kv.y * G.dh) * G.w + kv.z * G.dw))];
}
fn store(g: u32, row: u32, col: u32, v: f32) {
  let P = G.hOut * G.wOut;
  let oc = g * G.coutG + row;
  y[((col / P) * G.cout + oc) * P + col % P] = v${hasBias ? " + bias[oc]" : ""};
}`;
  }
  if (direction === "backwardFilter") {
    // kv = (n, oh, ow); column = (c, i, j).
    return `struct Col { base: i32, ih: i32, iw: i32 }
fn colInfo(g: u32, col: u32) -> Col {
  let taps = G.kh * G.kw;
  let r = col % taps;
  let ih = i32((r / G.kw) * G.dh) - i32(G.pt);
  let iw = i32((r % G.kw) * G.dw) - i32(G.pl);
  return Col(i32((g * G.cinG + col / taps) * G.h * G.w) + ih * i32(G.w) + iw, ih, iw);
}
fn aAt(g: u32, row: u32, k: u32, kv: vec3<u32>) -> f32 {
  return dy[((kv.x * G.cout + g * G.coutG + row) * G.hOut + kv.y) * G.wOut + kv.z];
}
fn bAt(kv: vec3<u32>, c: Col) -> f32 {
  let ih = c.ih + i32(kv.y * G.sh);
  let iw = c.iw + i32(kv.z * G.sw);
  if (u32(ih) >= G.h || u32(iw) >= G.w) { return 0.0; }
  return x[u32(c.base + i32((kv.x * G.cin * G.h + kv.y * G.sh) * G.w + kv.z * G.sw))];
}
fn store(g: u32, row: u32, col: u32, v: f32) { dw[(g * G.coutG + row) * G.N + col] = v; }`;
  }
  // backwardData: kv = (m, i, j); column = (n, ih, iw). With stride > 1 only taps whose
  // (ih + pt − i·dh) is a multiple of the stride reach an output row.
  const strided = isUnitStride ? "" : `
  if (oh < 0 || ow < 0 || u32(oh) % G.sh != 0u || u32(ow) % G.sw != 0u) { return 0.0; }
  oh = oh / i32(G.sh);
  ow = ow / i32(G.sw);`;
  return `struct Col { base: u32, oh: i32, ow: i32 }
fn colInfo(g: u32, col: u32) -> Col {
  let plane = G.h * G.w;
  let q = col % plane;
  return Col(((col / plane) * G.cout + g * G.coutG) * G.hOut * G.wOut, i32(q / G.w + G.pt), i32(q % G.w + G.pl));
}
fn aAt(g: u32, row: u32, k: u32, kv: vec3<u32>) -> f32 {
  return wt[(((g * G.coutG + kv.x) * G.cinG + row) * G.kh + kv.y) * G.kw + kv.z];
}
fn bAt(kv: vec3<u32>, c: Col) -> f32 {
  var oh = c.oh - i32(kv.y * G.dh);
  var ow = c.ow - i32(kv.z * G.dw);${strided}
  if (u32(oh) >= G.hOut || u32(ow) >= G.wOut) { return 0.0; }
  return dy[c.base + (kv.x * G.hOut + u32(oh)) * G.wOut + u32(ow)];
}
fn store(g: u32, row: u32, col: u32, v: f32) {
  let plane = G.h * G.w;
  dx[((col / plane) * G.cin + g * G.cinG + row) * plane + col % plane] = v;
}`;
}

function bindingsWgsl(direction: ConvDirection, hasBias: boolean): string {
  const { inputs, output } = bufferNames(direction, hasBias);
  return [
    ...inputs.map((name, i) => `@group(0) @binding(${i}) var<storage, read> ${name}: array<f32>;`),
    `@group(0) @binding(${inputs.length}) var<storage, read_write> ${output}: array<f32>;`,
    convParamsWgsl(inputs.length + 1),
  ].join("\n");
}

const SPLIT_K = `fn splitK(k: u32) -> vec3<u32> {
  let q = k / G.K2;
  return vec3<u32>(q / G.K1, q % G.K1, k % G.K2);
}`;

const R = [0, 1, 2, 3];

const BUILTINS = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>`;
// z = group · zSplit + slice; a slice continues the column blocks of the one before it.
const GROUP_AND_COLUMN_BLOCK = `let g = wid.z / G.zSplit;
  let colBlock = (wid.z % G.zSplit) * nwg.x + wid.x;`;

/** The tiled skeleton (workgroup memory; GPUs). */
function tiledSource(direction: ConvDirection, hasBias: boolean, isUnitStride: boolean): string {
  const acc = R.flatMap((i) => R.map((j) => `var c${i}${j} = 0.0;`)).join(" ");
  const aLoads = R.map((i) => `let a${i} = As[kb + ty + ${16 * i}u];`).join(" ");
  const bLoads = R.map((j) => `let b${j} = Bs[kb + tx + ${16 * j}u];`).join(" ");
  const fmas = R.flatMap((i) => R.map((j) => `c${i}${j} = fma(a${i}, b${j}, c${i}${j});`)).join(" ");
  const stores = R.flatMap((i) =>
    R.map((j) =>
      `if (row0 + ty + ${16 * i}u < G.M && col0 + tx + ${16 * j}u < G.N) ` +
      `{ store(g, row0 + ty + ${16 * i}u, col0 + tx + ${16 * j}u, c${i}${j}); }`
    )
  ).join("\n  ");
  return `${bindingsWgsl(direction, hasBias)}
${directionWgsl(direction, hasBias, isUnitStride)}
${SPLIT_K}
var<workgroup> As: array<f32, ${TK * TILE}>;
var<workgroup> Bs: array<f32, ${TK * TILE}>;

@compute @workgroup_size(16, 16)
fn main(${BUILTINS}) {
  loadGeo();
  ${GROUP_AND_COLUMN_BLOCK}
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  let row0 = wid.y * ${TILE}u;
  let col0 = colBlock * ${TILE}u;
  // This invocation stages A rows t/16 + 16·l at k offset t%16, and B column t%64 at k
  // offsets t/64 + 4·l (l = 0..3): B's column part is fixed for the whole K loop.
  let bCol = col0 + t % 64u;
  let bInfo = colInfo(g, min(bCol, G.N - 1u));
  ${acc}
  let nK = ${uniformParam("K")}; // the loop around the barriers must be uniform
  for (var k0 = 0u; k0 < nK; k0 += ${TK}u) {
    for (var l = 0u; l < 4u; l++) {
      let ra = row0 + t / 16u + 16u * l;
      let ka = k0 + t % 16u;
      var va = 0.0;
      if (ra < G.M && ka < G.K) { va = aAt(g, ra, ka, splitK(ka)); }
      As[(t % 16u) * 64u + t / 16u + 16u * l] = va;
      let kb = k0 + t / 64u + 4u * l;
      var vb = 0.0;
      if (bCol < G.N && kb < G.K) { vb = bAt(splitK(kb), bInfo); }
      Bs[(t / 64u + 4u * l) * 64u + t % 64u] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      let kb = kk * 64u;
      ${aLoads}
      ${bLoads}
      ${fmas}
    }
    workgroupBarrier();
  }
  ${stores}
}`;
}

/** The register skeleton (no workgroup memory; CPU adapters). */
function registerSource(direction: ConvDirection, hasBias: boolean, isUnitStride: boolean): string {
  const acc = R.flatMap((i) => R.map((j) => `var c${i}${j} = 0.0;`)).join(" ");
  const fmas = R.flatMap((i) => R.map((j) => `c${i}${j} = fma(a${i}, b${j}, c${i}${j});`)).join(" ");
  const stores = R.flatMap((i) =>
    R.map((j) =>
      `if (row + ${i}u < G.M && col + ${j}u < G.N) { store(g, row + ${i}u, col + ${j}u, c${i}${j}); }`
    )
  ).join("\n  ");
  return `${bindingsWgsl(direction, hasBias)}
${directionWgsl(direction, hasBias, isUnitStride)}

@compute @workgroup_size(8, 8)
fn main(${BUILTINS}) {
  loadGeo();
  ${GROUP_AND_COLUMN_BLOCK}
  let row = (wid.y * 8u + lid.y) * 4u;
  let col = (colBlock * 8u + lid.x) * 4u;
  if (row >= G.M || col >= G.N) { return; }
  // Rows and columns past the edge read clamped (valid) addresses and are not stored.
  ${R.map((i) => `let r${i} = min(row + ${i}u, G.M - 1u);`).join(" ")}
  ${R.map((j) => `let col${j} = colInfo(g, min(col + ${j}u, G.N - 1u));`).join(" ")}
  ${acc}
  var kv = vec3<u32>(0u, 0u, 0u);
  for (var k = 0u; k < G.K; k++) {
    ${R.map((i) => `let a${i} = aAt(g, r${i}, k, kv);`).join(" ")}
    ${R.map((j) => `let b${j} = bAt(kv, col${j});`).join(" ")}
    ${fmas}
    kv.z += 1u;
    if (kv.z == G.K2) {
      kv.z = 0u;
      kv.y += 1u;
      if (kv.y == G.K1) { kv.y = 0u; kv.x += 1u; }
    }
  }
  ${stores}
}`;
}

/**
 * Encodes `direction` of the convolution with geometry `g` as one implicit-GEMM dispatch:
 * `inputs` are the buffers in binding order (forward: x, w[, b]; backward-data: dy, w;
 * backward-filter: x, dy), `out` the zero-free output buffer it overwrites entirely. With
 * `isF16` the operands (not the bias) are f16 buffers, read into the same f32 arithmetic.
 */
export function convGemm(
  gpu: WebGpuBackend,
  direction: ConvDirection,
  options: { geometry: ConvGeometry; inputs: readonly GPUBuffer[]; out: GpuStorage; isF16?: boolean },
): void {
  const g = options.geometry;
  const hasBias = direction === "forward" && options.inputs.length === 3;
  const isF16 = options.isF16 ?? false;
  const isUnitStride = g.strideH === 1 && g.strideW === 1;
  const choice = kernelChoice === "auto" ? (gpu.isCpuAdapter ? "register" : "tiled") : kernelChoice;
  // Only backward-data reads differently with a stride; the other keys ignore it.
  const strideKey = direction === "backwardData" ? (isUnitStride ? "|unit" : "|strided") : "";
  const key = `conv|gemm|${direction}|${choice}${hasBias ? "|bias" : ""}${strideKey}${isF16 ? "|f16" : ""}`;
  const { inputs } = bufferNames(direction, hasBias);
  const pipeline = gpu.pipeline(
    key,
    [...Array(inputs.length).fill("read"), "write", "uniform"],
    () => {
      const source = choice === "tiled"
        ? tiledSource(direction, hasBias, isUnitStride)
        : registerSource(direction, hasBias, isUnitStride);
      // float16 operands: the same kernel with f16 loads (the bias stays f32).
      return isF16 ? withF16Inputs(source, inputs.filter((n) => n !== "bias")) : source;
    },
  );
  const ext = gemmExtents(direction, g);
  const block = choice === "tiled" ? TILE : REG_BLOCK;
  // Column blocks beyond the per-dimension limit continue in further z slices of each group.
  const colBlocks = Math.ceil(ext.n / block);
  const zSplit = Math.ceil(colBlocks / (gridLimit ?? gpu.device.limits.maxComputeWorkgroupsPerDimension));
  gpu.dispatch(pipeline, [...options.inputs, options.out.buffer], {
    meta: convMeta(g, { ...ext, zSplit }),
    workgroups: [Math.ceil(colBlocks / zSplit), Math.ceil(ext.m / block), g.groups * zSplit],
  });
}
