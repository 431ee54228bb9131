/**
 * The cuda backend's entry point. Importing this module registers its kernels and loads no
 * library; `initCuda()` loads libcuda, initialises the driver, picks a device
 * ($DENO_CTC_CUDA_DEVICE, default 0), checks that the driver is new enough for NVRTC, makes the
 * primary context current and registers the backend under "cuda". Every failure is a
 * sentence: "libcuda not found: tried ...", "cuInit failed: CUDA_ERROR_NO_DEVICE (...)", or the
 * two versions that do not match.
 *
 * Not here: several devices in one process (one process per GPU, as Horovod runs them).
 */
import { envGet } from "../../env.ts";
import { addBackend, getBackend } from "../../backend_registry.ts";
import { CudaBackend, type CudaDeviceInfo } from "./backend.ts";
import type { KernelBuilder } from "./compile.ts";
import { checkDriverVersion, DEVICE_ATTRIBUTE, loadDriver } from "./ffi/driver.ts";
import { outI32, outU64, pointerOut } from "./ffi/library.ts";
import { loadNvrtc } from "./ffi/nvrtc.ts";
import "./kernels/mod.ts";

export {
  argPtr,
  CudaBackend,
  type CudaDeviceInfo,
  type CudaMemoryStats,
  type CudaPrecision,
  cudaSizeClass,
  CudaStorage,
  type KernelArg,
} from "./backend.ts";
export { CudaError, CudaLibraryError } from "./ffi/library.ts";
export { type KernelBuilder, KernelCompiler, type KernelCompilerStats } from "./compile.ts";
export { BackoffLossScaler, type BackoffLossScalerOptions } from "./loss_scaler.ts";

/** Options of `initCuda`. */
export interface InitCudaOptions {
  /** Device ordinal (default $DENO_CTC_CUDA_DEVICE, else 0). */
  device?: number;
  /** Folders to load libcuda from instead of the standard search (tests). */
  driverFolders?: readonly string[];
  /** Do not print the warning when no device is found. */
  quiet?: boolean;
  /** Builds kernel images instead of NVRTC (tests run the kernels on a host emulation of the driver). */
  compiler?: KernelBuilder;
}

let initialised: CudaBackend | null = null;
let lastFailure: string | null = null;

/**
 * Opens the driver and the device and registers the "cuda" backend. Throws a `CudaError`
 * saying what failed; `initCuda()` (the conformance suite's entry) resolves false instead.
 */
export function openCudaDevice(options: InitCudaOptions = {}): CudaBackend {
  const driver = loadDriver(options.driverFolders);
  const { api, check } = driver;
  check(api.cuInit(0), "cuInit");
  const version = outI32(), count = outI32(), value = outI32();
  check(api.cuDriverGetVersion(version), "cuDriverGetVersion");
  check(api.cuDeviceGetCount(count), "cuDeviceGetCount");
  const envDevice = envGet("DENO_CTC_CUDA_DEVICE");
  const ordinal = options.device ?? (envDevice ? Number(envDevice) : 0);
  if (!(Number.isInteger(ordinal) && ordinal >= 0 && ordinal < count[0])) {
    throw new RangeError(
      `cuda: device ${envDevice ?? ordinal} (DENO_CTC_CUDA_DEVICE) does not exist: the driver reports ${
        count[0]
      } device(s)`,
    );
  }
  const nvrtc = options.compiler ? null : loadNvrtc();
  if (nvrtc) checkDriverVersion(version[0], `libnvrtc (${nvrtc.path})`, nvrtc.version);
  const dev = outI32();
  check(api.cuDeviceGet(dev, ordinal), "cuDeviceGet");
  const attr = (a: number): number => {
    check(api.cuDeviceGetAttribute(value, a, dev[0]), `cuDeviceGetAttribute(${a})`);
    return value[0];
  };
  const nameBuf = new Uint8Array(256);
  check(api.cuDeviceGetName(nameBuf, nameBuf.length, dev[0]), "cuDeviceGetName");
  const total = outU64();
  check(api.cuDeviceTotalMem_v2(total, dev[0]), "cuDeviceTotalMem_v2");
  const info: CudaDeviceInfo = {
    name: new TextDecoder().decode(nameBuf.subarray(0, nameBuf.indexOf(0))),
    ordinal,
    arch: attr(DEVICE_ATTRIBUTE.computeMajor) * 10 + attr(DEVICE_ATTRIBUTE.computeMinor),
    multiprocessors: attr(DEVICE_ATTRIBUTE.multiprocessorCount),
    totalBytes: Number(total[0]),
    driverVersion: version[0],
  };
  if (nvrtc && !nvrtc.supportedArchs.includes(info.arch)) {
    throw new RangeError(
      `cuda: ${info.name} is sm_${info.arch} but NVRTC ${
        nvrtc.version / 1000
      } (${nvrtc.path}) compiles only for ` +
        `${nvrtc.supportedArchs.map((a) => `sm_${a}`).join(", ")}`,
    );
  }
  const ctx = outU64();
  check(api.cuDevicePrimaryCtxRetain(ctx, dev[0]), "cuDevicePrimaryCtxRetain");
  check(api.cuCtxSetCurrent(pointerOut(ctx)), "cuCtxSetCurrent");
  return new CudaBackend(driver, info, pointerOut(ctx), { compiler: options.compiler });
}

/**
 * Initialises the cuda backend and registers it. Resolves true when it is ready (also on
 * repeated calls), false (with a warning saying why) when there is no usable device.
 *
 * @example
 * ```ts
 * if (await initCuda()) {
 *   const x = tensor([1, -2, 3], [3], { backend: "cuda" });
 *   console.log(await relu(x).data()); // Float32Array [1, 0, 3]
 * }
 * ```
 */
export function initCuda(options: InitCudaOptions = {}): Promise<boolean> {
  if (initialised && !initialised.isDisposed) return Promise.resolve(true);
  try {
    initialised = openCudaDevice(options);
    addBackend(initialised);
    return Promise.resolve(true);
  } catch (e) {
    lastFailure = (e as Error).message;
    if (!options.quiet) console.warn(`cuda backend unavailable: ${lastFailure}`);
    return Promise.resolve(false);
  }
}

/** Initialises the backend without a warning: null when it is ready, else why not (`listBackends`). */
export async function probeCuda(): Promise<string | null> {
  return await initCuda({ quiet: true }) ? null : lastFailure;
}

/** The registered cuda backend, or null before a successful `initCuda()`. */
export function cudaBackendInstance(): CudaBackend | null {
  return initialised && !initialised.isDisposed && getBackend(initialised.name) === initialised
    ? initialised
    : null;
}
