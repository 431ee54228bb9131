/**
 * Finding and opening NVIDIA's shared libraries (libcuda, libnvrtc, libcublas, libcublasLt,
 * libcudnn) for the cuda backend, and the one error type every binding raises.
 *
 * Search order, first hit wins:
 * 1. $DENO_CTC_CUDA_LIBS: folders or library files, separated by ":" (a file is tried only for
 *    the library whose soname prefix it carries);
 * 2. the layout of NVIDIA's pip wheels, `site-packages/nvidia/<lib>/lib` (CUDA 12 wheels:
 *    nvidia/cublas/lib, nvidia/cudnn/lib, ...; CUDA 13 wheels share nvidia/cu13/lib), under
 *    $VIRTUAL_ENV, $CONDA_PREFIX, ~/.local, /usr/local and /usr, and under this checkout's
 *    .tools/cuda/ (where .ci/setup unpacks the NVRTC wheel);
 * 3. the system: /usr/local/nvidia/lib64 (containers), /usr/local/cuda/lib64, Debian's
 *    multiarch folder, /usr/lib64, then the bare soname for the dynamic loader to resolve.
 *
 * A library found nowhere raises `CudaLibraryError` listing every path tried (with dlopen's
 * reason) and the variable that overrides the search, as ops/backends/cpu/blas.ts does.
 *
 * Not here: the symbol tables (one file per library beside this one), devices and contexts.
 */
import { envGet } from "../../../env.ts";

const FILE = "ops/backends/cuda/ffi/library.ts";

/** Environment variable that points the search at folders or files. */
export const CUDA_LIBS_VARIABLE = "DENO_CTC_CUDA_LIBS";

/** A library the cuda backend opens: its name in messages and the sonames to look for, newest first. */
export interface CudaLibrarySpec {
  /** Short name used in messages ("libcublas"). */
  readonly name: string;
  /** Sonames, newest major version first ("libcublas.so.13", "libcublas.so.12"). */
  readonly sonames: readonly string[];
  /** Where the library usually comes from, for the not-found message. */
  readonly origin?: string;
}

/** The libraries the backend uses. libcuda ships with the driver, never in a wheel. */
export const CUDA_LIBRARIES = {
  driver: {
    name: "libcuda",
    sonames: ["libcuda.so.1"],
    origin: "libcuda.so.1 is installed with NVIDIA's driver (in containers, by the NVIDIA container toolkit)",
  },
  nvrtc: { name: "libnvrtc", sonames: ["libnvrtc.so.13", "libnvrtc.so.12"] },
  cublas: { name: "libcublas", sonames: ["libcublas.so.13", "libcublas.so.12"] },
  cublasLt: { name: "libcublasLt", sonames: ["libcublasLt.so.13", "libcublasLt.so.12"] },
  cudnn: { name: "libcudnn", sonames: ["libcudnn.so.9"] },
} as const satisfies Record<string, CudaLibrarySpec>;

/** An error from a CUDA library call or from loading a library; `call` names the function. */
export class CudaError extends Error {
  /** The library function that failed ("cuMemAlloc_v2"), or the library that did not load. */
  readonly call: string;
  /** The numeric status the call returned, when there was one. */
  readonly status?: number;

  /** An error for `call`; the message should carry the library's own status string. */
  constructor(call: string, message: string, status?: number) {
    super(message);
    this.name = "CudaError";
    this.call = call;
    this.status = status;
  }
}

/** A library that could not be opened from any candidate path. */
export class CudaLibraryError extends CudaError {
  /** Every path tried, with the loader's reason. */
  readonly tried: readonly string[];

  /** An error for library `spec` after trying `tried`. */
  constructor(spec: CudaLibrarySpec, tried: readonly string[]) {
    super(
      spec.name,
      `${spec.sonames.join(" or ")} not found: tried ${tried.join("; ")}. ${
        spec.origin ?? `It comes in NVIDIA's pip wheels (a torch venv's site-packages/nvidia/*/lib)`
      }; set ${CUDA_LIBS_VARIABLE} to the folder holding it (colon-separated folders or files).`,
    );
    this.name = "CudaLibraryError";
    this.tried = tried;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** `<root>/lib/python3.*\/{site,dist}-packages` folders (and `<root>` itself when it is one). */
function sitePackagesUnder(root: string): string[] {
  const out: string[] = [];
  if (/(site|dist)-packages\/?$/.test(root)) out.push(root);
  for (const lib of ["lib", "lib64"]) {
    for (const py of listDir(`${root}/${lib}`).filter((n) => n.startsWith("python3"))) {
      for (const kind of ["site-packages", "dist-packages"]) {
        if (isDirectory(`${root}/${lib}/${py}/${kind}`)) out.push(`${root}/${lib}/${py}/${kind}`);
      }
    }
  }
  if (isDirectory(`${root}/lib/python3/dist-packages`)) out.push(`${root}/lib/python3/dist-packages`);
  return out;
}

/** Folders `<prefix>/nvidia/<lib>/lib` of NVIDIA's pip wheels under `prefix`. */
export function wheelLibFolders(prefix: string): string[] {
  return listDir(`${prefix}/nvidia`).map((n) => `${prefix}/nvidia/${n}/lib`).filter(isDirectory);
}

/** Where this checkout's .ci/setup unpacks wheels (.tools/cuda/nvidia/<lib>/lib). */
function checkoutToolsFolder(): string {
  return new URL("../../../../.tools/cuda", import.meta.url).pathname;
}

/**
 * The folders searched for a library, in order, before the bare soname: the override
 * variable's entries, pip wheel folders, and the system's library folders.
 */
export function searchFolders(env: string | undefined = envGet(CUDA_LIBS_VARIABLE)): string[] {
  const fromEnv = (env ?? "").split(":").filter((s) => s.length > 0);
  const home = envGet("HOME");
  const roots = [
    envGet("VIRTUAL_ENV"),
    envGet("CONDA_PREFIX"),
    home && `${home}/.local`,
    "/usr/local",
    "/usr",
  ]
    .filter((r): r is string => !!r);
  const wheels = [
    ...roots.flatMap(sitePackagesUnder).flatMap(wheelLibFolders),
    ...wheelLibFolders(checkoutToolsFolder()),
  ];
  const system = [
    "/usr/local/nvidia/lib64",
    "/usr/local/cuda/lib64",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib/wsl/lib",
  ];
  return [...new Set([...fromEnv, ...wheels, ...system])];
}

/** Candidate paths for `spec`: each soname in each folder that exists, then the bare sonames. */
export function candidatePaths(
  spec: CudaLibrarySpec,
  folders: readonly string[] = searchFolders(),
): string[] {
  const out: string[] = [];
  for (const entry of folders) {
    const base = entry.split("/").pop() ?? "";
    if (!isDirectory(entry)) {
      // A file named in the variable: only for the library it is (libcublasLt is not libcublas).
      if (spec.sonames.some((s) => base === s || base.startsWith(`${s}.`))) out.push(entry);
      continue;
    }
    for (const soname of spec.sonames) {
      try {
        Deno.statSync(`${entry}/${soname}`);
        out.push(`${entry}/${soname}`);
      } catch {
        // not in this folder
      }
    }
  }
  return [...new Set([...out, ...spec.sonames])];
}

/** An opened library: its symbols, the path that loaded, and `close`. */
export interface OpenedLibrary<S extends Deno.ForeignLibraryInterface> {
  /** Bound functions. */
  readonly symbols: Deno.DynamicLibrary<S>["symbols"];
  /** Path or soname that loaded. */
  readonly path: string;
  /** Unloads the library. */
  close(): void;
}

/**
 * Opens the first candidate of `spec` that loads with every non-optional symbol of `symbols`;
 * throws `CudaLibraryError` naming each path tried and why it failed.
 */
export function openCudaLibrary<S extends Deno.ForeignLibraryInterface>(
  spec: CudaLibrarySpec,
  symbols: S,
  folders?: readonly string[],
): OpenedLibrary<S> {
  const tried: string[] = [];
  for (const path of candidatePaths(spec, folders)) {
    try {
      const dl = Deno.dlopen(path, symbols);
      return { symbols: dl.symbols, path, close: () => dl.close() };
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) {
        throw new CudaError(spec.name, `${FILE}: loading ${spec.name} needs --allow-ffi (${e.message})`);
      }
      // Deno repeats "Could not open library: " before the loader's own reason.
      tried.push(
        `${path} (${(e as Error).message.split("\n")[0].replace(/^(Could not open library: )+/, "")})`,
      );
    }
  }
  throw new CudaLibraryError(spec, tried);
}

/** The C string at `p` (null for a null pointer). */
export function cString(p: Deno.PointerValue): string | null {
  return p === null ? null : new Deno.UnsafePointerView(p).getCString();
}

/** `s` as a NUL-terminated byte buffer for a `const char*` parameter. */
export function cStringArg(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${s}\0`);
}

/** A one-slot out-parameter for a pointer or 64-bit value (`T**`, `size_t*`, `CUdeviceptr*`). */
export function outU64(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

/** A one-slot out-parameter for an `int*` / `unsigned*` / enum. */
export function outI32(): Int32Array<ArrayBuffer> {
  return new Int32Array(1);
}

/** The pointer held in a one-slot out-parameter. */
export function pointerOut(slot: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(slot[0]);
}
