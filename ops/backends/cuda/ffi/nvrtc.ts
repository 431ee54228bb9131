/**
 * NVRTC (libnvrtc), CUDA's run-time compiler, through Deno FFI: CUDA C source to a cubin for
 * one GPU architecture. NVRTC needs no GPU and no driver, so kernels are compiled (and the
 * compile is tested) on any machine that has the library.
 *
 * Every call goes through one status check that raises a `CudaError` with NVRTC's own string;
 * a failed compile carries the program log, which names the kernel and the line.
 *
 * Not here: the cache of compiled kernels (compile.ts), loading a cubin (driver.ts).
 */
import {
  cString,
  cStringArg,
  CUDA_LIBRARIES,
  CudaError,
  openCudaLibrary,
  outI32,
  outU64,
} from "./library.ts";

/** The NVRTC functions used. */
export const nvrtcSymbols = {
  nvrtcGetErrorString: { parameters: ["i32"], result: "pointer" },
  nvrtcVersion: { parameters: ["buffer", "buffer"], result: "i32" },
  nvrtcGetNumSupportedArchs: { parameters: ["buffer"], result: "i32" },
  nvrtcGetSupportedArchs: { parameters: ["buffer"], result: "i32" },
  nvrtcCreateProgram: {
    parameters: ["buffer", "buffer", "buffer", "i32", "pointer", "pointer"],
    result: "i32",
  },
  nvrtcCompileProgram: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  nvrtcGetProgramLogSize: { parameters: ["pointer", "buffer"], result: "i32" },
  nvrtcGetProgramLog: { parameters: ["pointer", "buffer"], result: "i32" },
  nvrtcGetCUBINSize: { parameters: ["pointer", "buffer"], result: "i32" },
  nvrtcGetCUBIN: { parameters: ["pointer", "buffer"], result: "i32" },
  nvrtcDestroyProgram: { parameters: ["buffer"], result: "i32" },
} as const;

/** NVRTC_ERROR_COMPILATION: the source did not compile (the log says why). */
export const NVRTC_ERROR_COMPILATION = 6;

/** The loaded NVRTC. */
export interface Nvrtc {
  readonly api: Deno.DynamicLibrary<typeof nvrtcSymbols>["symbols"];
  /** Path the library loaded from. */
  readonly path: string;
  /** 1000·major + 10·minor, as the driver reports CUDA versions. */
  readonly version: number;
  /** Architectures this NVRTC can compile for (80 for sm_80, ...). */
  readonly supportedArchs: readonly number[];
  /** Throws `CudaError` for a status other than NVRTC_SUCCESS. */
  check(status: number, call: string): void;
}

let nvrtc: Nvrtc | null = null;

/** Loads NVRTC (once); throws `CudaLibraryError` listing the paths tried when it is absent. */
export function loadNvrtc(folders?: readonly string[]): Nvrtc {
  if (nvrtc && !folders) return nvrtc;
  const lib = openCudaLibrary(CUDA_LIBRARIES.nvrtc, nvrtcSymbols, folders);
  preloadBuiltins(lib.path);
  const api = lib.symbols;
  const check = (status: number, call: string): void => {
    if (status !== 0) {
      const text = cString(api.nvrtcGetErrorString(status)) ?? `nvrtcResult ${status}`;
      throw new CudaError(call, `${call} failed: ${text}`, status);
    }
  };
  const major = outI32(), minor = outI32(), count = outI32();
  check(api.nvrtcVersion(major, minor), "nvrtcVersion");
  check(api.nvrtcGetNumSupportedArchs(count), "nvrtcGetNumSupportedArchs");
  const archs = new Int32Array(count[0]);
  if (archs.length > 0) check(api.nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs");
  const loaded: Nvrtc = {
    api,
    path: lib.path,
    version: major[0] * 1000 + minor[0] * 10,
    supportedArchs: [...archs],
    check,
  };
  if (!folders) nvrtc = loaded;
  return loaded;
}

/**
 * NVRTC opens libnvrtc-builtins.so.<major>.<minor> by soname at its first compile, and pip
 * wheels do not put their folder on the loader's path: load it from libnvrtc's own folder
 * first, so that the soname is already resolved (PyTorch does the same).
 */
function preloadBuiltins(nvrtcPath: string): void {
  const slash = nvrtcPath.lastIndexOf("/");
  if (slash < 0) return; // found by soname: the loader's path holds the builtins too
  const folder = nvrtcPath.slice(0, slash);
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(folder)].map((e) => e.name).filter((n) =>
      /^libnvrtc-builtins\.so\.\d+\.\d+$/.test(n)
    );
  } catch {
    return;
  }
  for (const name of names) {
    try {
      Deno.dlopen(`${folder}/${name}`, {}); // kept open for the life of the process
    } catch {
      // the compile reports NVRTC's own message if the builtins are really missing
    }
  }
}

/** Options of `compileCubin`. */
export interface CompileCubinOptions {
  /** Extra NVRTC options ("-DNAME=1", "--use_fast_math"). */
  options?: readonly string[];
  /** Name the log uses for the source ("map_add.cu"). */
  fileName?: string;
}

/**
 * Compiles CUDA C `source` to a cubin for `sm_<arch>` (80 for A100, 90 for H100/H200).
 * Kernels must be `extern "C"` so their names are not mangled. Throws a `CudaError` whose
 * message holds NVRTC's log when the source does not compile.
 */
export function compileCubin(source: string, arch: number, options: CompileCubinOptions = {}): Uint8Array {
  const { api, check, supportedArchs } = loadNvrtc();
  if (supportedArchs.length > 0 && !supportedArchs.includes(arch)) {
    throw new CudaError(
      "nvrtcCompileProgram",
      `NVRTC cannot compile for sm_${arch}: it supports ${supportedArchs.map((a) => `sm_${a}`).join(", ")}`,
    );
  }
  const fileName = options.fileName ?? "kernel.cu";
  const slot = outU64();
  check(
    api.nvrtcCreateProgram(slot, cStringArg(source), cStringArg(fileName), 0, null, null),
    "nvrtcCreateProgram",
  );
  const prog = Deno.UnsafePointer.create(slot[0]);
  try {
    const opts = [`--gpu-architecture=sm_${arch}`, "--std=c++17", ...(options.options ?? [])].map(cStringArg);
    const optPtrs = new BigUint64Array(opts.length);
    opts.forEach((o, i) => (optPtrs[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(o)))));
    const status = api.nvrtcCompileProgram(prog, opts.length, optPtrs);
    if (status !== 0) {
      const log = programLog(prog);
      const text = cString(api.nvrtcGetErrorString(status));
      throw new CudaError(
        "nvrtcCompileProgram",
        `nvrtcCompileProgram failed for ${fileName} (sm_${arch}): ${text}\n${log}`,
        status,
      );
    }
    const size = outU64();
    check(api.nvrtcGetCUBINSize(prog, size), "nvrtcGetCUBINSize");
    const cubin = new Uint8Array(Number(size[0]));
    check(api.nvrtcGetCUBIN(prog, cubin), "nvrtcGetCUBIN");
    return cubin;
  } finally {
    const p = new BigUint64Array([slot[0]]);
    api.nvrtcDestroyProgram(p);
  }
}

function programLog(prog: Deno.PointerValue): string {
  const { api } = loadNvrtc();
  const size = outU64();
  if (api.nvrtcGetProgramLogSize(prog, size) !== 0 || size[0] === 0n) return "";
  const buf = new Uint8Array(Number(size[0]));
  if (api.nvrtcGetProgramLog(prog, buf) !== 0) return "";
  return new TextDecoder().decode(buf.subarray(0, buf.indexOf(0) < 0 ? buf.length : buf.indexOf(0)));
}
