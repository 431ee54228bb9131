/**
 * cuBLAS (libcublas) through Deno FFI: a handle bound to the backend's stream and strided
 * batched GEMM, in f32 (optionally with TF32 tensor cores) and with bf16/fp16 operands
 * accumulated in f32 (`cublasGemmStridedBatchedEx`). Every call goes through `check`, which
 * raises a `CudaError` carrying cuBLAS's status name and string.
 *
 * cuBLAS is column-major: the backend's row-major C = A·B is computed as Cᵀ = Bᵀ·Aᵀ, which
 * is the same memory (ops/backends/cuda/kernels/matmul.ts does the swap).
 *
 * Not here: cuBLASLt (cublas_lt.ts), the matmul kernel glue (matmul.ts).
 */
import { cString, CUDA_LIBRARIES, CudaError, openCudaLibrary, outI32 } from "./library.ts";

/** The cuBLAS functions used, by their exported names (cublasCreate is cublasCreate_v2). */
export const cublasSymbols = {
  cublasGetStatusName: { parameters: ["i32"], result: "pointer" },
  cublasGetStatusString: { parameters: ["i32"], result: "pointer" },
  cublasGetProperty: { parameters: ["i32", "buffer"], result: "i32" },
  cublasCreate_v2: { parameters: ["buffer"], result: "i32" },
  cublasDestroy_v2: { parameters: ["pointer"], result: "i32" },
  cublasSetStream_v2: { parameters: ["pointer", "pointer"], result: "i32" },
  cublasSetMathMode: { parameters: ["pointer", "i32"], result: "i32" },
  cublasSetWorkspace_v2: { parameters: ["pointer", "u64", "usize"], result: "i32" },
  cublasSgemmStridedBatched: {
    // handle, transa, transb, m, n, k, *alpha, A, lda, strideA, B, ldb, strideB, *beta, C, ldc, strideC, batch
    parameters: [
      "pointer",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "buffer",
      "u64",
      "i32",
      "i64",
      "u64",
      "i32",
      "i64",
      "buffer",
      "u64",
      "i32",
      "i64",
      "i32",
    ],
    result: "i32",
  },
  cublasGemmStridedBatchedEx: {
    // handle, transa, transb, m, n, k, *alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB,
    // *beta, C, Ctype, ldc, strideC, batch, computeType, algo
    parameters: [
      "pointer",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "buffer",
      "u64",
      "i32",
      "i32",
      "i64",
      "u64",
      "i32",
      "i32",
      "i64",
      "buffer",
      "u64",
      "i32",
      "i32",
      "i64",
      "i32",
      "i32",
      "i32",
    ],
    result: "i32",
  },
} as const;

/** cublasOperation_t */
export const CUBLAS_OP = { n: 0, t: 1 } as const;
/** cublasMath_t: CUBLAS_DEFAULT_MATH, CUBLAS_TF32_TENSOR_OP_MATH. */
export const CUBLAS_MATH = { default: 0, tf32: 3 } as const;
/** cublasComputeType_t: CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32. */
export const CUBLAS_COMPUTE = { f32: 68, f32FastTf32: 77 } as const;
/** cudaDataType: CUDA_R_32F, CUDA_R_16F, CUDA_R_16BF. */
export const CUDA_DATA_TYPE = { f32: 0, f16: 2, bf16: 14 } as const;
/** CUBLAS_GEMM_DEFAULT: let cuBLAS pick the algorithm (tensor cores where the types allow). */
export const CUBLAS_GEMM_DEFAULT = -1;

/** The loaded cuBLAS. */
export interface Cublas {
  readonly api: Deno.DynamicLibrary<typeof cublasSymbols>["symbols"];
  /** Path the library loaded from. */
  readonly path: string;
  /** 1000·major + 10·minor of the library (cublasGetProperty; needs no GPU). */
  readonly version: number;
  /** Throws `CudaError` for a status other than CUBLAS_STATUS_SUCCESS. */
  check(status: number, call: string): void;
}

let cublas: Cublas | null = null;

/** Loads cuBLAS (once); throws `CudaLibraryError` listing the paths tried when it is absent. */
export function loadCublas(folders?: readonly string[]): Cublas {
  if (cublas && !folders) return cublas;
  const lib = openCudaLibrary(CUDA_LIBRARIES.cublas, cublasSymbols, folders);
  const api = lib.symbols;
  const check = (status: number, call: string): void => {
    if (status === 0) return;
    const name = cString(api.cublasGetStatusName(status)) ?? `cublasStatus_t ${status}`;
    const text = cString(api.cublasGetStatusString(status));
    throw new CudaError(call, `${call} failed: ${name}${text ? ` (${text})` : ""}`, status);
  };
  const major = outI32(), minor = outI32();
  check(api.cublasGetProperty(0, major), "cublasGetProperty(MAJOR_VERSION)");
  check(api.cublasGetProperty(1, minor), "cublasGetProperty(MINOR_VERSION)");
  const loaded: Cublas = { api, path: lib.path, version: major[0] * 1000 + minor[0] * 10, check };
  if (!folders) cublas = loaded;
  return loaded;
}
