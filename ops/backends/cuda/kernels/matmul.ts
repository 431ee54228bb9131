/**
 * cuda kernel of `matmul`: cuBLAS strided batched GEMM (`cublasGemmStridedBatchedEx`) on the
 * backend's stream. cuBLAS is column-major, so the row-major C = op(A)·op(B) is computed as
 * Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands are passed swapped with their own transposes, which reads
 * the same memory. A batch operand whose batch shape is all ones gets stride 0 (broadcast);
 * other partial broadcasts run one GEMM per output batch.
 *
 * Precision (`CudaBackend.precision`): "f32" computes in f32, with TF32 tensor cores when
 * `allowTf32` (PyTorch's default for convolutions, opt-in for matmul there); "bf16"/"fp16"
 * convert both operands on the device (convert.ts) and accumulate in f32 into an f32 output.
 *
 * Not here: cuBLASLt epilogues (bias, activation fused into the GEMM).
 */
import type { MatmulAttrs } from "../../../matmul.ts";
import { matmulDims } from "../../../matmul.ts";
import { registerKernel } from "../../../op_registry.ts";
import { sizeOf, stridesOf } from "../../../shape.ts";
import { type CudaBackend, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { convertToHalf } from "./convert.ts";
import { CUBLAS_COMPUTE, CUBLAS_GEMM_DEFAULT, CUBLAS_OP, CUDA_DATA_TYPE, loadCublas } from "../ffi/cublas.ts";
import { checkDriverVersion } from "../ffi/driver.ts";
import { outU64, pointerOut } from "../ffi/library.ts";

const FILE = "ops/backends/cuda/kernels/matmul.ts";

const handles = new WeakMap<CudaBackend, Deno.PointerValue>();

/** The backend's cuBLAS handle, bound to its stream (created on first use). */
export function cublasHandle(cuda: CudaBackend): Deno.PointerValue {
  let h = handles.get(cuda);
  if (h !== undefined) return h;
  const cublas = loadCublas();
  const { api, check } = cublas;
  checkDriverVersion(cuda.device.driverVersion, `libcublas (${cublas.path})`, cublas.version);
  const slot = outU64();
  check(api.cublasCreate_v2(slot), "cublasCreate_v2");
  h = pointerOut(slot);
  check(api.cublasSetStream_v2(h, cuda.stream), "cublasSetStream_v2");
  handles.set(cuda, h);
  const handle = h;
  cuda.onDispose(() => api.cublasDestroy_v2(handle));
  return h;
}

/**
 * One row-major f32 GEMM on the backend's stream, with the cpu's `gemm` arguments (offsets in
 * elements): C = alpha·op(A)·op(B) + beta·C with op(A) m×k and op(B) k×n. TF32 per
 * `allowTf32`. For kernels that chain GEMMs of their own (the RNN time steps).
 */
export function deviceGemm(
  cuda: CudaBackend,
  transA: boolean,
  transB: boolean,
  dims: { m: number; n: number; k: number },
  alpha: number,
  a: { ptr: bigint; offset?: number; ld: number },
  b: { ptr: bigint; offset?: number; ld: number },
  beta: number,
  c: { ptr: bigint; offset?: number; ld: number },
): void {
  const { m, n, k } = dims;
  if (m === 0 || n === 0) return;
  const { api, check } = loadCublas();
  const compute = cuda.allowTf32 ? CUBLAS_COMPUTE.f32FastTf32 : CUBLAS_COMPUTE.f32;
  // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ over the same memory and lds.
  check(
    api.cublasGemmStridedBatchedEx(
      cublasHandle(cuda),
      transB ? CUBLAS_OP.t : CUBLAS_OP.n,
      transA ? CUBLAS_OP.t : CUBLAS_OP.n,
      n,
      m,
      k,
      new Float32Array([alpha]),
      b.ptr + BigInt(b.offset ?? 0) * 4n,
      CUDA_DATA_TYPE.f32,
      b.ld,
      0n,
      a.ptr + BigInt(a.offset ?? 0) * 4n,
      CUDA_DATA_TYPE.f32,
      a.ld,
      0n,
      new Float32Array([beta]),
      c.ptr + BigInt(c.offset ?? 0) * 4n,
      CUDA_DATA_TYPE.f32,
      c.ld,
      0n,
      1,
      compute,
      CUBLAS_GEMM_DEFAULT,
    ),
    `cublasGemmStridedBatchedEx(${m}x${k} · ${k}x${n})`,
  );
}

/** Element offset of each output batch in an operand with batch shape `own` broadcast to `batch`. */
function batchOffsets(own: readonly number[], batch: readonly number[], matrix: number): number[] {
  const padded = [...Array(batch.length - own.length).fill(1), ...own];
  const ownStrides = stridesOf(padded).map((s, i) => (padded[i] === 1 ? 0 : s * matrix));
  const n = sizeOf(batch);
  const out = new Array<number>(n);
  for (let b = 0; b < n; b++) {
    let rest = b, off = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      off += (rest % batch[d]) * ownStrides[d];
      rest = Math.floor(rest / batch[d]);
    }
    out[b] = off;
  }
  return out;
}

registerKernel<MatmulAttrs>("matmul", "cuda", ({ inputs: [a, b], attrs, backend }) => {
  const cuda = cudaBackend(backend);
  if (a.dtype !== "float32") throw new TypeError(`${FILE}: matmul on cuda needs float32, got ${a.dtype}`);
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const nBatch = sizeOf(batch);
  const out = cuda.alloc("float32", nBatch * m * n) as CudaStorage;
  if (nBatch * m * n === 0) return [out];
  const { api, check } = loadCublas();
  const handle = cublasHandle(cuda);
  const half = cuda.precision === "f32" ? null : cuda.precision;
  const aStore = half ? convertToHalf(cuda, cudaStorage(a), a.size, half) : cudaStorage(a);
  const bStore = half ? convertToHalf(cuda, cudaStorage(b), b.size, half) : cudaStorage(b);
  try {
    const elementBytes = half ? 2n : 4n;
    const type = half === "bf16"
      ? CUDA_DATA_TYPE.bf16
      : half === "fp16"
      ? CUDA_DATA_TYPE.f16
      : CUDA_DATA_TYPE.f32;
    const compute = !half && cuda.allowTf32 ? CUBLAS_COMPUTE.f32FastTf32 : CUBLAS_COMPUTE.f32;
    const alpha = new Float32Array([1]), beta = new Float32Array([0]);
    // Column-major view: first operand op(B)ᵀ (n × k), second op(A)ᵀ (k × m), result n × m.
    const opB = attrs.transB ? CUBLAS_OP.t : CUBLAS_OP.n, ldb = attrs.transB ? k : n;
    const opA = attrs.transA ? CUBLAS_OP.t : CUBLAS_OP.n, lda = attrs.transA ? m : k;
    const aOffsets = batchOffsets(a.shape.slice(0, -2), batch, m * k);
    const bOffsets = batchOffsets(b.shape.slice(0, -2), batch, k * n);
    const uniform = (offs: number[]) =>
      offs.length < 2 || offs.every((o, i) => o === i * (offs[1] - offs[0]));
    const gemm = (
      aOff: number,
      bOff: number,
      cOff: number,
      count: number,
      strideA: number,
      strideB: number,
    ) =>
      check(
        api.cublasGemmStridedBatchedEx(
          handle,
          opB,
          opA,
          n,
          m,
          k,
          alpha,
          bStore.ptr + BigInt(bOff) * elementBytes,
          type,
          ldb,
          BigInt(strideB),
          aStore.ptr + BigInt(aOff) * elementBytes,
          type,
          lda,
          BigInt(strideA),
          beta,
          out.ptr + BigInt(cOff) * 4n,
          CUDA_DATA_TYPE.f32,
          n,
          BigInt(m * n),
          count,
          compute,
          CUBLAS_GEMM_DEFAULT,
        ),
        `cublasGemmStridedBatchedEx(${m}x${k} · ${k}x${n}, batch ${count}, ${cuda.precision})`,
      );
    if (uniform(aOffsets) && uniform(bOffsets)) {
      const step = (offs: number[]) => (offs.length < 2 ? 0 : offs[1] - offs[0]);
      gemm(0, 0, 0, nBatch, step(aOffsets), step(bOffsets));
    } else {
      for (let i = 0; i < nBatch; i++) gemm(aOffsets[i], bOffsets[i], i * m * n, 1, 0, 0);
    }
  } finally {
    if (half) {
      cuda.free(aStore);
      cuda.free(bStore);
    }
  }
  return [out];
});
