/**
 * cuDNN 9 (libcudnn.so.9) through Deno FFI: handles, tensor/filter/convolution descriptors,
 * convolution forward, backward-data and backward-filter, and the measured algorithm search
 * (cudnnFind*AlgorithmEx). Every call goes through `check`, which raises a `CudaError` with
 * cuDNN's own status string.
 *
 * libcudnn.so.9 is the small dispatcher of the cuDNN 9 wheel; it opens libcudnn_cnn and the
 * engine libraries from its own folder when a convolution first runs.
 *
 * Not here: the convolution glue and its algorithm cache (conv.ts), cuDNN's RNN API.
 */
import { cString, CUDA_LIBRARIES, CudaError, openCudaLibrary } from "./library.ts";

// One convolution call: handle, *alpha, desc, ptr, desc, ptr, convDesc, algo, ws, wsBytes, *beta, desc, ptr.
const CONV_CALL = {
  parameters: [
    "pointer",
    "buffer",
    "pointer",
    "u64",
    "pointer",
    "u64",
    "pointer",
    "i32",
    "u64",
    "usize",
    "buffer",
    "pointer",
    "u64",
  ],
  result: "i32",
} as const;
// One algorithm search: handle, desc, ptr, desc, ptr, convDesc, desc, ptr, requested, *returned, *perf, ws, wsBytes.
const FIND_CALL = {
  parameters: [
    "pointer",
    "pointer",
    "u64",
    "pointer",
    "u64",
    "pointer",
    "pointer",
    "u64",
    "i32",
    "buffer",
    "buffer",
    "u64",
    "usize",
  ],
  result: "i32",
} as const;

/** The cuDNN functions used. */
export const cudnnSymbols = {
  cudnnGetVersion: { parameters: [], result: "usize" },
  cudnnGetCudartVersion: { parameters: [], result: "usize" },
  cudnnGetErrorString: { parameters: ["i32"], result: "pointer" },
  cudnnCreate: { parameters: ["buffer"], result: "i32" },
  cudnnDestroy: { parameters: ["pointer"], result: "i32" },
  cudnnSetStream: { parameters: ["pointer", "pointer"], result: "i32" },
  cudnnCreateTensorDescriptor: { parameters: ["buffer"], result: "i32" },
  cudnnSetTensorNdDescriptor: { parameters: ["pointer", "i32", "i32", "buffer", "buffer"], result: "i32" },
  cudnnDestroyTensorDescriptor: { parameters: ["pointer"], result: "i32" },
  cudnnCreateFilterDescriptor: { parameters: ["buffer"], result: "i32" },
  cudnnSetFilterNdDescriptor: { parameters: ["pointer", "i32", "i32", "i32", "buffer"], result: "i32" },
  cudnnDestroyFilterDescriptor: { parameters: ["pointer"], result: "i32" },
  cudnnCreateConvolutionDescriptor: { parameters: ["buffer"], result: "i32" },
  cudnnSetConvolutionNdDescriptor: {
    parameters: ["pointer", "i32", "buffer", "buffer", "buffer", "i32", "i32"],
    result: "i32",
  },
  cudnnSetConvolutionGroupCount: { parameters: ["pointer", "i32"], result: "i32" },
  cudnnSetConvolutionMathType: { parameters: ["pointer", "i32"], result: "i32" },
  cudnnDestroyConvolutionDescriptor: { parameters: ["pointer"], result: "i32" },
  cudnnFindConvolutionForwardAlgorithmEx: FIND_CALL,
  cudnnFindConvolutionBackwardDataAlgorithmEx: FIND_CALL,
  cudnnFindConvolutionBackwardFilterAlgorithmEx: FIND_CALL,
  cudnnConvolutionForward: CONV_CALL,
  cudnnConvolutionBackwardData: CONV_CALL,
  cudnnConvolutionBackwardFilter: CONV_CALL,
} as const;

/** cudnnDataType_t: CUDNN_DATA_FLOAT, CUDNN_DATA_HALF, CUDNN_DATA_BFLOAT16. */
export const CUDNN_DATA = { f32: 0, f16: 2, bf16: 9 } as const;
/** CUDNN_TENSOR_NCHW: filters as [Cout, Cin/groups, kH, kW], PyTorch's layout. */
export const CUDNN_TENSOR_NCHW = 0;
/** CUDNN_CROSS_CORRELATION: what deep-learning frameworks call convolution (no kernel flip). */
export const CUDNN_CROSS_CORRELATION = 1;
/** cudnnMathType_t: FMA only (exact f32), or tensor cores with down-conversion (TF32, bf16, fp16). */
export const CUDNN_MATH = { default: 0, tensorOp: 1, tensorOpAllowConversion: 2, fma: 3 } as const;
/** sizeof(cudnnConvolution*AlgoPerf_t): algo, status, time (f32), memory (size_t at 16), determinism, mathType, reserved[3]. */
export const CUDNN_ALGO_PERF_BYTES = 48;

/** One result of an algorithm search. */
export interface CudnnAlgoPerf {
  readonly algo: number;
  readonly status: number;
  readonly timeMs: number;
  readonly workspaceBytes: number;
}

/** Decodes `count` cudnnConvolution*AlgoPerf_t records. */
export function decodeAlgoPerf(bytes: Uint8Array, count: number): CudnnAlgoPerf[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CudnnAlgoPerf[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * CUDNN_ALGO_PERF_BYTES;
    out.push({
      algo: v.getInt32(o, true),
      status: v.getInt32(o + 4, true),
      timeMs: v.getFloat32(o + 8, true),
      workspaceBytes: Number(v.getBigUint64(o + 16, true)),
    });
  }
  return out;
}

/** The loaded cuDNN. */
export interface Cudnn {
  readonly api: Deno.DynamicLibrary<typeof cudnnSymbols>["symbols"];
  /** Path the library loaded from. */
  readonly path: string;
  /** cudnnGetVersion(): major·10000 + minor·100 + patch (9.x). */
  readonly version: number;
  /** CUDA runtime version cuDNN was built against (1000·major + 10·minor). */
  readonly cudartVersion: number;
  /** Throws `CudaError` for a status other than CUDNN_STATUS_SUCCESS. */
  check(status: number, call: string): void;
}

let cudnn: Cudnn | null = null;

/** The cuDNN 9 libraries the dispatcher opens for every call (version queries included). */
const CUDNN_SUB_LIBRARIES = ["libcudnn_graph.so.9"];

/**
 * The dispatcher libcudnn.so.9 prints "Invalid handle" and exits the process when a call
 * finds its sub-library missing, so check for it first and raise a readable error instead.
 */
function requireSubLibraries(path: string): void {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return; // found by soname: the loader resolves the sub-libraries the same way
  const folder = path.slice(0, slash);
  for (const name of CUDNN_SUB_LIBRARIES) {
    try {
      Deno.statSync(`${folder}/${name}`);
    } catch {
      throw new CudaError(
        "libcudnn",
        `${path} loaded but ${folder}/${name} is missing: cuDNN 9 needs its whole lib/ folder (the nvidia-cudnn wheel's)`,
      );
    }
  }
}

/** Loads cuDNN (once); throws `CudaLibraryError` listing the paths tried when it is absent. */
export function loadCudnn(folders?: readonly string[]): Cudnn {
  if (cudnn && !folders) return cudnn;
  const lib = openCudaLibrary(CUDA_LIBRARIES.cudnn, cudnnSymbols, folders);
  requireSubLibraries(lib.path);
  const api = lib.symbols;
  const check = (status: number, call: string): void => {
    if (status === 0) return;
    const text = cString(api.cudnnGetErrorString(status)) ?? `cudnnStatus_t ${status}`;
    throw new CudaError(call, `${call} failed: ${text}`, status);
  };
  const loaded: Cudnn = {
    api,
    path: lib.path,
    version: Number(api.cudnnGetVersion()),
    cudartVersion: Number(api.cudnnGetCudartVersion()),
    check,
  };
  if (!folders) cudnn = loaded;
  return loaded;
}
