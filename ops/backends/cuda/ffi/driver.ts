/**
 * The CUDA driver API (libcuda.so.1, installed with NVIDIA's driver) through Deno FFI: devices,
 * the primary context, memory, streams, events, modules and kernel launches. Every call goes
 * through `check`, which turns a CUresult into a `CudaError` naming the call, the status name
 * and the driver's own description ("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of
 * memory)").
 *
 * The runtime library (libcudart) is not used: cuBLAS and cuDNN take the driver's streams and
 * device pointers, which are the runtime's as well once the primary context is current.
 *
 * Types: CUdeviceptr is "u64"; handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction)
 * are "pointer"; out-parameters are one-slot typed arrays passed as "buffer".
 *
 * Not here: which library file loads (library.ts), the allocator and backend (backend.ts).
 */
import {
  cString,
  CUDA_LIBRARIES,
  CudaError,
  openCudaLibrary,
  type OpenedLibrary,
  outU64,
} from "./library.ts";

/** The driver API functions the backend calls, by their exported (versioned) names. */
export const driverSymbols = {
  cuInit: { parameters: ["u32"], result: "i32" },
  cuDriverGetVersion: { parameters: ["buffer"], result: "i32" },
  cuGetErrorString: { parameters: ["i32", "buffer"], result: "i32" },
  cuGetErrorName: { parameters: ["i32", "buffer"], result: "i32" },
  cuDeviceGetCount: { parameters: ["buffer"], result: "i32" },
  cuDeviceGet: { parameters: ["buffer", "i32"], result: "i32" },
  cuDeviceGetName: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  cuDeviceGetAttribute: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  cuDeviceTotalMem_v2: { parameters: ["buffer", "i32"], result: "i32" },
  cuDevicePrimaryCtxRetain: { parameters: ["buffer", "i32"], result: "i32" },
  cuDevicePrimaryCtxRelease_v2: { parameters: ["i32"], result: "i32" },
  cuCtxSetCurrent: { parameters: ["pointer"], result: "i32" },
  cuCtxSynchronize: { parameters: [], result: "i32" },
  cuMemGetInfo_v2: { parameters: ["buffer", "buffer"], result: "i32" },
  cuMemAlloc_v2: { parameters: ["buffer", "usize"], result: "i32" },
  cuMemFree_v2: { parameters: ["u64"], result: "i32" },
  cuMemAllocHost_v2: { parameters: ["buffer", "usize"], result: "i32" },
  cuMemFreeHost: { parameters: ["pointer"], result: "i32" },
  cuMemcpyHtoDAsync_v2: { parameters: ["u64", "buffer", "usize", "pointer"], result: "i32" },
  cuMemcpyDtoHAsync_v2: { parameters: ["pointer", "u64", "usize", "pointer"], result: "i32" },
  cuMemcpyDtoDAsync_v2: { parameters: ["u64", "u64", "usize", "pointer"], result: "i32" },
  cuMemsetD32Async: { parameters: ["u64", "u32", "usize", "pointer"], result: "i32" },
  cuStreamCreate: { parameters: ["buffer", "u32"], result: "i32" },
  cuStreamDestroy_v2: { parameters: ["pointer"], result: "i32" },
  cuStreamSynchronize: { parameters: ["pointer"], result: "i32" },
  cuEventCreate: { parameters: ["buffer", "u32"], result: "i32" },
  cuEventDestroy_v2: { parameters: ["pointer"], result: "i32" },
  cuEventRecord: { parameters: ["pointer", "pointer"], result: "i32" },
  cuEventQuery: { parameters: ["pointer"], result: "i32" },
  cuEventSynchronize: { parameters: ["pointer"], result: "i32" },
  cuEventElapsedTime: { parameters: ["buffer", "pointer", "pointer"], result: "i32" },
  cuModuleLoadData: { parameters: ["buffer", "buffer"], result: "i32" },
  cuModuleUnload: { parameters: ["pointer"], result: "i32" },
  cuModuleGetFunction: { parameters: ["buffer", "pointer", "buffer"], result: "i32" },
  cuLaunchKernel: {
    parameters: ["pointer", "u32", "u32", "u32", "u32", "u32", "u32", "u32", "pointer", "buffer", "pointer"],
    result: "i32",
  },
} as const;

/** The bound driver functions. */
export type DriverApi = Deno.DynamicLibrary<typeof driverSymbols>["symbols"];

/** CUDA_SUCCESS */
export const CUDA_SUCCESS = 0;
/** CUDA_ERROR_NOT_READY: an event or stream query whose work has not finished. */
export const CUDA_ERROR_NOT_READY = 600;
/** CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR / MULTIPROCESSOR_COUNT. */
export const DEVICE_ATTRIBUTE = { computeMajor: 75, computeMinor: 76, multiprocessorCount: 16 } as const;
/** CU_EVENT_DISABLE_TIMING: events used only for ordering are cheaper without timestamps. */
export const CU_EVENT_DISABLE_TIMING = 2;
/** CU_STREAM_NON_BLOCKING: the compute stream does not synchronise with the legacy default stream. */
export const CU_STREAM_NON_BLOCKING = 1;

/** The loaded driver library and its status check. */
export interface Driver {
  readonly api: DriverApi;
  /** Path the library loaded from. */
  readonly path: string;
  /** Throws `CudaError` for a CUresult other than CUDA_SUCCESS. */
  check(status: number, call: string): void;
  /** "CUDA_ERROR_X (description)" for a status. */
  describe(status: number): string;
}

let driver: Driver | null = null;

/** Loads libcuda (once); throws `CudaLibraryError` listing the paths tried when it is absent. */
export function loadDriver(folders?: readonly string[]): Driver {
  if (driver && !folders) return driver;
  const lib: OpenedLibrary<typeof driverSymbols> = openCudaLibrary(
    CUDA_LIBRARIES.driver,
    driverSymbols,
    folders,
  );
  const api = lib.symbols;
  const describe = (status: number): string => {
    const slot = outU64();
    const name = api.cuGetErrorName(status, slot) === CUDA_SUCCESS
      ? cString(Deno.UnsafePointer.create(slot[0]))
      : null;
    const text = api.cuGetErrorString(status, slot) === CUDA_SUCCESS
      ? cString(Deno.UnsafePointer.create(slot[0]))
      : null;
    return `${name ?? `CUresult ${status}`}${text ? ` (${text})` : ""}`;
  };
  const loaded: Driver = {
    api,
    path: lib.path,
    describe,
    check(status: number, call: string): void {
      if (status !== CUDA_SUCCESS) throw new CudaError(call, `${call} failed: ${describe(status)}`, status);
    },
  };
  if (!folders) driver = loaded;
  return loaded;
}

/** A CUDA version number (1000·major + 10·minor) as "major.minor". */
export function formatCudaVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

/**
 * Throws when the driver supports an older CUDA major version than a library was built for
 * (code from NVRTC 13 does not load on a CUDA 12 driver): the message names both versions.
 */
export function checkDriverVersion(driverVersion: number, library: string, libraryVersion: number): void {
  if (Math.floor(driverVersion / 1000) < Math.floor(libraryVersion / 1000)) {
    throw new CudaError(
      library,
      `The NVIDIA driver supports CUDA ${formatCudaVersion(driverVersion)} but ${library} is from CUDA ` +
        `${formatCudaVersion(libraryVersion)}: update the driver, or point DENO_CTC_CUDA_LIBS at ` +
        `CUDA ${Math.floor(driverVersion / 1000)}.x libraries`,
    );
  }
}
