/**
 * cuBLASLt (libcublasLt) through Deno FFI: the symbol table and status check of the
 * lightweight GEMM API, whose matmul descriptors allow fused epilogues (bias, ReLU) and
 * bf16/fp16 outputs with f32 accumulation.
 *
 * Not here: a kernel that uses it. matmul.ts calls cuBLAS's strided batched GEMM, which
 * covers every layout the op layer produces; the Lt path is for fused epilogues later.
 */
import { cString, CUDA_LIBRARIES, CudaError, openCudaLibrary } from "./library.ts";

/** The cuBLASLt functions a matmul with heuristically chosen algorithm needs. */
export const cublasLtSymbols = {
  cublasLtGetVersion: { parameters: [], result: "usize" },
  cublasLtGetStatusName: { parameters: ["i32"], result: "pointer" },
  cublasLtGetStatusString: { parameters: ["i32"], result: "pointer" },
  cublasLtCreate: { parameters: ["buffer"], result: "i32" },
  cublasLtDestroy: { parameters: ["pointer"], result: "i32" },
  cublasLtMatmulDescCreate: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  cublasLtMatmulDescDestroy: { parameters: ["pointer"], result: "i32" },
  cublasLtMatmulDescSetAttribute: { parameters: ["pointer", "i32", "buffer", "usize"], result: "i32" },
  cublasLtMatrixLayoutCreate: { parameters: ["buffer", "i32", "u64", "u64", "i64"], result: "i32" },
  cublasLtMatrixLayoutDestroy: { parameters: ["pointer"], result: "i32" },
  cublasLtMatrixLayoutSetAttribute: { parameters: ["pointer", "i32", "buffer", "usize"], result: "i32" },
  cublasLtMatmulPreferenceCreate: { parameters: ["buffer"], result: "i32" },
  cublasLtMatmulPreferenceDestroy: { parameters: ["pointer"], result: "i32" },
  cublasLtMatmulPreferenceSetAttribute: { parameters: ["pointer", "i32", "buffer", "usize"], result: "i32" },
  cublasLtMatmulAlgoGetHeuristic: {
    // handle, desc, Adesc, Bdesc, Cdesc, Ddesc, preference, requested, results*, returned*
    parameters: [
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "i32",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  cublasLtMatmul: {
    // handle, desc, *alpha, A, Adesc, B, Bdesc, *beta, C, Cdesc, D, Ddesc, *algo, workspace, bytes, stream
    parameters: [
      "pointer",
      "pointer",
      "buffer",
      "u64",
      "pointer",
      "u64",
      "pointer",
      "buffer",
      "u64",
      "pointer",
      "u64",
      "pointer",
      "buffer",
      "u64",
      "usize",
      "pointer",
    ],
    result: "i32",
  },
} as const;

/** The loaded cuBLASLt. */
export interface CublasLt {
  readonly api: Deno.DynamicLibrary<typeof cublasLtSymbols>["symbols"];
  /** Path the library loaded from. */
  readonly path: string;
  /** cublasLtGetVersion(): major·10000 + minor·100 + patch. */
  readonly version: number;
  /** Throws `CudaError` for a status other than CUBLAS_STATUS_SUCCESS. */
  check(status: number, call: string): void;
}

let cublasLt: CublasLt | null = null;

/** Loads cuBLASLt (once); throws `CudaLibraryError` listing the paths tried when it is absent. */
export function loadCublasLt(folders?: readonly string[]): CublasLt {
  if (cublasLt && !folders) return cublasLt;
  const lib = openCudaLibrary(CUDA_LIBRARIES.cublasLt, cublasLtSymbols, folders);
  const api = lib.symbols;
  const check = (status: number, call: string): void => {
    if (status === 0) return;
    const name = cString(api.cublasLtGetStatusName(status)) ?? `cublasStatus_t ${status}`;
    const text = cString(api.cublasLtGetStatusString(status));
    throw new CudaError(call, `${call} failed: ${name}${text ? ` (${text})` : ""}`, status);
  };
  const loaded: CublasLt = { api, path: lib.path, version: Number(api.cublasLtGetVersion()), check };
  if (!folders) cublasLt = loaded;
  return loaded;
}
