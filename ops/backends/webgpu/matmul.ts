/**
 * webgpu kernel of `matmul`: C[z] = op(A[z])·op(B[z]) for every batch index z, with op a
 * transpose when the attribute asks for it and batch axes broadcast (stride 0).
 *
 * Tiling: a workgroup of 16×16 invocations computes a 64×64 block of C; each invocation holds
 * a 4×4 register block (rows ty + 16·i, columns tx + 16·j, interleaved so neighbouring
 * invocations touch neighbouring addresses). K advances in steps of 16: the workgroup copies a
 * 64×16 slice of op(A) and a 16×64 slice of op(B) into workgroup memory (each invocation
 * loads 4 + 4 elements, in the order that is contiguous for the operand's layout), then every
 * invocation does 16 rank-1 updates of its block from there. The inner block is unrolled when
 * the shader is generated. Edges are guarded, so any M, N, K works.
 *
 * On CPU adapters (llvmpipe, SwiftShader), where workgroup memory and barriers cost more than
 * they save, a register-blocked kernel without workgroup memory is used instead when the
 * layout allows vec4 loads (about 3× faster there: bench/webgpu_bench.ts, BENCHMARKS.md):
 * - A·B or Aᵀ·B with N % 4 = 0: each invocation owns 4 rows × 8 columns of C and reads B as
 *   vec4 rows (Aᵀ·B is the weight gradient of a linear layer);
 * - A·Bᵀ with K % 4 = 0 (linear layers): each invocation owns 4 × 4 outputs and reads A and B
 *   as vec4 along K, finishing each output with a horizontal add.
 * `WebGpuBackend.matmulKernel` ("auto", "tiled", "register") overrides the choice.
 *
 * float16 operands (mixed precision) are loaded as f16 and converted to f32 on load, so the
 * products accumulate in f32 and C is f32 (ops/gemm_dtype.ts); the vec4 loads are then 8 bytes.
 *
 * Not here: vec4 loads in the tiled kernel, double buffering, split-K for long K with small M·N.
 */
import { registerKernel } from "../../op_registry.ts";
import { type MatmulAttrs, matmulDims } from "../../matmul.ts";
import { broadcastStrides, sizeOf } from "../../shape.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, wgslMeta, wgslType } from "./backend.ts";

const FILE = "ops/backends/webgpu/matmul.ts";
const TILE = 64;
const TK = 16;
const R = 4; // register block per invocation: R × R

/** `enable f16;` when the operands are f16 (the accumulator and C are f32 then). */
function enableF16(inT: string): string {
  return inT === "f16" ? "enable f16;\n" : "";
}

function shaderSource(t: string, inT: string, transA: boolean, transB: boolean): string {
  // Parameter block: [M, N, K, batchRank, batchShape[rank], aBatchStride[rank], bBatchStride[rank]]
  const idx = [...Array(R).keys()];
  const accDecl = idx.flatMap((i) => idx.map((j) => `var c${i}${j} = ${t}(0);`)).join(" ");
  const aLoads = idx.map((i) => `let a${i} = As[kb + ty + ${16 * i}u];`).join(" ");
  const bLoads = idx.map((j) => `let b${j} = Bs[kb + tx + ${16 * j}u];`).join(" ");
  const fmas = idx.flatMap((i) => idx.map((j) => `c${i}${j} += a${i} * b${j};`)).join(" ");
  const stores = idx.flatMap((i) =>
    idx.map((j) =>
      `if (r${i} < M && col0 + tx + ${16 * j}u < N) { c[offC + r${i} * N + col0 + tx + ${
        16 * j
      }u] = c${i}${j}; }`
    )
  ).join("\n    ");
  // Which element of the tile invocation-load `e` fetches, chosen so that consecutive e read
  // consecutive addresses of the operand as stored.
  const aTile = transA ? "let kk = e / 64u; let mm = e % 64u;" : "let mm = e / 16u; let kk = e % 16u;";
  const aAddr = transA ? "gk * M + gm" : "gm * K + gk";
  const bTile = transB ? "let nn = e / 16u; let kk = e % 16u;" : "let kk = e / 64u; let nn = e % 64u;";
  const bAddr = transB ? "gn * K + gk" : "gk * N + gn";
  return `${enableF16(inT)}@group(0) @binding(0) var<storage, read> a: array<${inT}>;
@group(0) @binding(1) var<storage, read> b: array<${inT}>;
@group(0) @binding(2) var<storage, read_write> c: array<${t}>;
${wgslMeta(3)}
var<workgroup> As: array<${t}, ${TK * TILE}>;
var<workgroup> Bs: array<${t}, ${TK * TILE}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = m(0u);
  let N = m(1u);
  let K = m(2u);
  let rank = m(3u);
  let z = wid.z;
  var offA = 0u;
  var offB = 0u;
  var rest = z;
  for (var k = 0u; k < rank; k++) {
    let d = rank - 1u - k;
    let e = m(4u + d);
    let q = rest % e;
    rest = rest / e;
    offA += q * m(4u + rank + d);
    offB += q * m(4u + 2u * rank + d);
  }
  let offC = z * M * N;
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  ${accDecl}
  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
    for (var l = 0u; l < 4u; l++) {
      let e = t + l * 256u;
      {
        ${aTile}
        let gm = row0 + mm;
        let gk = k0 + kk;
        var v = ${t}(0);
        if (gm < M && gk < K) { v = ${t}(a[offA + ${aAddr}]); }
        As[kk * 64u + mm] = v;
      }
      {
        ${bTile}
        let gn = col0 + nn;
        let gk = k0 + kk;
        var v = ${t}(0);
        if (gn < N && gk < K) { v = ${t}(b[offB + ${bAddr}]); }
        Bs[kk * 64u + nn] = v;
      }
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
  ${idx.map((i) => `let r${i} = row0 + ty + ${16 * i}u;`).join(" ")}
  ${stores}
}`;
}

/** Register-blocked kernel for A·B (vec4 along N) or A·Bᵀ (vec4 along K); see the file comment. */
function registerSource(t: string, inT: string, transA: boolean, transB: boolean): string {
  const rows = [0, 1, 2, 3];
  const cols = transB ? [0, 1, 2, 3] : [0, 1];
  const acc = rows.flatMap((i) => cols.map((j) => `var c${i}_${j} = vec4<${t}>();`)).join(" ");
  const fma = rows.flatMap((i) => cols.map((j) => `c${i}_${j} += a${i} * b${j};`)).join(" ");
  const head = `${enableF16(inT)}@group(0) @binding(0) var<storage, read> a: array<${
    transB ? `vec4<${inT}>` : inT
  }>;
@group(0) @binding(1) var<storage, read> b: array<vec4<${inT}>>;
@group(0) @binding(2) var<storage, read_write> c: array<${transB ? t : `vec4<${t}>`}>;
${wgslMeta(3)}
fn batchOffsets(z: u32) -> vec2<u32> {
  let rank = m(3u);
  var off = vec2<u32>(0u, 0u);
  var rest = z;
  for (var k = 0u; k < rank; k++) {
    let d = rank - 1u - k;
    let e = m(4u + d);
    let q = rest % e;
    rest = rest / e;
    off += q * vec2<u32>(m(4u + rank + d), m(4u + 2u * rank + d));
  }
  return off;
}`;
  // Out-of-range rows/columns read a clamped (valid) address and are not stored.
  if (!transB) {
    return `${head}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let M = m(0u); let n4 = m(1u) / 4u; let K = m(2u);
  let row = g.y * 4u; let c4 = g.x * 2u;
  if (c4 >= n4 || row >= M) { return; }
  let off = batchOffsets(g.z);
  let offC = g.z * M * n4;
  ${
      rows.map((i) =>
        transA
          ? `let ar${i} = off.x + min(row + ${i}u, M - 1u);` // A is [K, M]: row i of op(A) is column i
          : `let ar${i} = off.x + min(row + ${i}u, M - 1u) * K;`
      ).join(" ")
    }
  let bc1 = min(c4 + 1u, n4 - 1u);
  let offB = off.y / 4u;
  ${acc}
  for (var k = 0u; k < K; k++) {
    let kb = offB + k * n4;
    ${rows.map((i) => `let a${i} = ${t}(a[ar${i} + ${transA ? "k * M" : "k"}]);`).join(" ")}
    let b0 = vec4<${t}>(b[kb + c4]);
    let b1 = vec4<${t}>(b[kb + bc1]);
    ${fma}
  }
  ${
      rows.flatMap((i) =>
        cols.map((j) =>
          `if (row + ${i}u < M && c4 + ${j}u < n4) { c[offC + (row + ${i}u) * n4 + c4 + ${j}u] = c${i}_${j}; }`
        )
      ).join("\n  ")
    }
}`;
  }
  return `${head}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let M = m(0u); let N = m(1u); let k4 = m(2u) / 4u;
  let row = g.y * 4u; let col = g.x * 4u;
  if (col >= N || row >= M) { return; }
  let off = batchOffsets(g.z) / 4u;
  let offC = g.z * M * N;
  ${rows.map((i) => `let ar${i} = off.x + min(row + ${i}u, M - 1u) * k4;`).join(" ")}
  ${cols.map((j) => `let bc${j} = off.y + min(col + ${j}u, N - 1u) * k4;`).join(" ")}
  ${acc}
  for (var k = 0u; k < k4; k++) {
    ${rows.map((i) => `let a${i} = vec4<${t}>(a[ar${i} + k]);`).join(" ")}
    ${cols.map((j) => `let b${j} = vec4<${t}>(b[bc${j} + k]);`).join(" ")}
    ${fma}
  }
  ${
    rows.flatMap((i) =>
      cols.map((j) =>
        `if (row + ${i}u < M && col + ${j}u < N) { let s = c${i}_${j}; c[offC + (row + ${i}u) * N + col + ${j}u] = s.x + s.y + s.z + s.w; }`
      )
    ).join("\n  ")
  }
}`;
}

registerKernel<MatmulAttrs>("matmul", "webgpu", ({ inputs: [a, b], attrs, outputs, backend }) => {
  const gpu = gpuBackend(backend);
  const { dtype, shape } = outputs[0];
  const size = sizeOf(shape);
  const out = gpu.alloc(dtype, size) as GpuStorage;
  if (size === 0) return [out];
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const nBatch = sizeOf(batch);
  const t = wgslType(dtype), inT = wgslType(a.dtype);
  const layout = `${attrs.transA ? "T" : "N"}${attrs.transB ? "T" : "N"}`;
  const choice = gpu.matmulKernel === "auto" ? (gpu.isCpuAdapter ? "register" : "tiled") : gpu.matmulKernel;
  const register = choice === "register" &&
    ((layout === "NN" || layout === "TN") && n % 4 === 0 || layout === "NT" && k % 4 === 0);
  const pipeline = register
    ? gpu.pipeline(
      `matmul|${inT}|${t}|${layout}|register`,
      ["read", "read", "write", "uniform"],
      () => registerSource(t, inT, attrs.transA, attrs.transB),
    )
    : gpu.pipeline(
      `matmul|${inT}|${t}|${layout}`,
      ["read", "read", "write", "uniform"],
      () => shaderSource(t, inT, attrs.transA, attrs.transB),
    );
  const rank = batch.length;
  const meta = new Uint32Array(4 + 3 * rank);
  meta.set([m, n, k, rank]);
  meta.set(batch, 4);
  const aStrides = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k);
  const bStrides = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n);
  meta.set(aStrides, 4 + rank);
  meta.set(bStrides, 4 + 2 * rank);
  const limit = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  if (nBatch > limit) {
    throw new RangeError(`${FILE}: ${nBatch} batch matrices exceed the ${limit} workgroups of one dispatch`);
  }
  const workgroups: [number, number, number] = !register
    ? [Math.ceil(n / TILE), Math.ceil(m / TILE), nBatch]
    : attrs.transB
    ? [Math.ceil(n / 32), Math.ceil(m / 32), nBatch] // 8×8 invocations of 4×4
    : [Math.ceil(n / 64), Math.ceil(m / 32), nBatch]; // 8×8 invocations of 4×(2·vec4)
  gpu.dispatch(pipeline, [gpuBuffer(a), gpuBuffer(b), out.buffer], { meta, workgroups });
  return [out];
});
