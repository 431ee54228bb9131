/**
 * Runs the cuda backend without a GPU, for tests: the backend's own host code (allocator,
 * uploads and reads, kernel launch and its parameter packing, cuBLAS glue) drives a host
 * emulation of the driver (host_driver.c), cuBLAS (host_cublas.c, host_cublas_lt.c) and cuDNN's
 * convolutions (host_cudnn.c), and each kernel's
 * CUDA C, exactly as the backend generates it, is compiled by the system's C++ compiler with a
 * small shim (CUDA's built-in variables and qualifiers) and a trampoline that runs its blocks
 * and threads one after another.
 *
 * A kernel that synchronises its block (__syncthreads) runs with one thread per block: every
 * such kernel strides its loops by blockDim.x, so one thread does the whole block's work. This
 * checks each kernel's indexing and arithmetic, not its behaviour under real concurrency
 * (races, shared-memory trees with many threads), nor NVIDIA's libraries (the emulated cuBLAS
 * and cuDNN only take the same calls and compute the same results), nor performance.
 */
import { createHash } from "node:crypto";
import { addBackend } from "../../../../ops/backend_registry.ts";
import { loadCublas } from "../../../../ops/backends/cuda/ffi/cublas.ts";
import { loadCublasLt } from "../../../../ops/backends/cuda/ffi/cublas_lt.ts";
import { loadCudnn } from "../../../../ops/backends/cuda/ffi/cudnn.ts";
import { CUDA_LIBRARIES, openCudaLibrary } from "../../../../ops/backends/cuda/ffi/library.ts";
import {
  type CudaBackend,
  type KernelBuilder,
  type KernelCompilerStats,
  openCudaDevice,
} from "../../../../ops/backends/cuda/mod.ts";

/** The C or C++ compiler found on this machine, or null. */
export function findCompiler(kind: "c" | "c++"): string | null {
  const names = kind === "c" ? ["cc", "gcc", "clang"] : ["c++", "g++", "clang++"];
  return names.find((c) => {
    try {
      return new Deno.Command(c, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
        .success;
    } catch {
      return false;
    }
  }) ?? null;
}

const SHIM = `#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
struct EmuDim3 { unsigned x, y, z; };
static EmuDim3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
#define __syncthreads() ((void)0)
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
`;

/** The kernels of `source` (`extern "C" __global__ void name(params)`), with their parameter types. */
function kernelsOf(source: string): { name: string; types: string[] }[] {
  const out: { name: string; types: string[] }[] = [];
  for (const m of source.matchAll(/extern "C" __global__ void (\w+)\(([\s\S]*?)\)\s*\{/g)) {
    const types = m[2].split(",").map((p) => p.trim().replace(/\s+/g, " ").replace(/\s*\w+$/, ""));
    out.push({ name: m[1], types });
  }
  return out;
}

function trampoline(name: string, types: readonly string[], synchronises: boolean): string {
  const args = types.map((t, i) => `*(${t}*)args[${i}]`).join(", ");
  return `extern "C" void emu_launch_${name}(void** args, unsigned gx, unsigned gy, unsigned bx) {
  unsigned threads = ${synchronises ? "1" : "bx"};
  gridDim = EmuDim3{gx, gy, 1};
  blockDim = EmuDim3{threads, 1, 1};
  for (unsigned y = 0; y < gy; y++)
    for (unsigned x = 0; x < gx; x++) {
      blockIdx = EmuDim3{x, y, 0};
      for (unsigned t = 0; t < threads; t++) {
        threadIdx = EmuDim3{t, 0, 0};
        ${name}(${args});
      }
    }
}
`;
}

/**
 * Builds each kernel source into a shared library in `dir` (kept there by the hash of what was
 * compiled, so a later run reuses it); the "cubin" is its path.
 */
export class HostKernelBuilder implements KernelBuilder {
  readonly #dir: string;
  readonly #cxx: string;
  readonly #images = new Map<string, Uint8Array>();
  #stats: KernelCompilerStats = { compiled: 0, readFromDisk: 0, compileMs: 0 };

  constructor(dir: string, cxx: string) {
    this.#dir = dir;
    this.#cxx = cxx;
  }

  get stats(): Readonly<KernelCompilerStats> {
    return { ...this.#stats };
  }

  cubin(key: string, source: () => string): Uint8Array {
    const hit = this.#images.get(key);
    if (hit) return hit;
    const text = source();
    const kernels = kernelsOf(text);
    if (kernels.length === 0) throw new Error(`emulator: no extern "C" __global__ kernel in ${key}`);
    const synchronises = text.includes("__syncthreads");
    const program = `${SHIM}${text}\n${
      kernels.map((k) => trampoline(k.name, k.types, synchronises)).join("\n")
    }`;
    const hash = createHash("sha256").update(program).digest("hex").slice(0, 24);
    const base = `${this.#dir}/${hash}`;
    const image = new TextEncoder().encode(`${base}.so\0`);
    try {
      Deno.statSync(`${base}.so`);
      this.#stats.readFromDisk++;
      this.#images.set(key, image);
      return image;
    } catch {
      // not built yet
    }
    Deno.writeTextFileSync(`${base}.cpp`, program);
    const t0 = performance.now();
    // Built under a temporary name: a library half written by a concurrent run is never loaded.
    const tmp = `${base}.${Deno.pid}.so`;
    const out = new Deno.Command(this.#cxx, {
      args: ["-O1", "-shared", "-fPIC", "-w", "-o", tmp, `${base}.cpp`],
    }).outputSync();
    if (!out.success) {
      throw new Error(
        `emulator: ${key} does not compile as host C++:\n${new TextDecoder().decode(out.stderr)}`,
      );
    }
    Deno.renameSync(tmp, `${base}.so`);
    this.#stats.compileMs += performance.now() - t0;
    this.#stats.compiled++;
    this.#images.set(key, image);
    return image;
  }
}

/**
 * Builds the host driver and cuBLAS, points DENO_CTC_CUDA_LIBS at them, opens the backend on
 * them and registers it as "cuda". Null (with the reason) when no C/C++ compiler exists.
 */
export function openEmulatedCuda(): { backend: CudaBackend; dir: string } | { reason: string } {
  // Test files share a process: emulated libraries cached here would shadow a real device's.
  try {
    openCudaLibrary(CUDA_LIBRARIES.driver, {}).close();
    return { reason: "a real libcuda.so.1 is installed here; the device tests run on it instead" };
  } catch {
    // no driver: the emulation may stand in
  }
  const cc = findCompiler("c"), cxx = findCompiler("c++");
  if (!cc || !cxx) return { reason: "no C and C++ compiler (cc/gcc/clang, c++/g++/clang++)" };
  const dir = Deno.makeTempDirSync({ prefix: "cuda_emulator_" });
  const here = new URL(".", import.meta.url).pathname;
  const libraries = [
    ["host_driver.c", "libcuda.so.1"],
    ["host_cublas.c", "libcublas.so.13"],
    ["host_cublas_lt.c", "libcublasLt.so.13"],
    ["host_cudnn.c", "libcudnn.so.9"],
  ];
  for (const [src, lib] of libraries) {
    const out = new Deno.Command(cc, {
      args: ["-O1", "-shared", "-fPIC", "-o", `${dir}/${lib}`, `${here}${src}`, "-ldl"],
    }).outputSync();
    if (!out.success) return { reason: `${src} does not build: ${new TextDecoder().decode(out.stderr)}` };
  }
  // cuDNN 9's loader checks that its graph library lies beside it; the emulation needs none.
  Deno.writeTextFileSync(`${dir}/libcudnn_graph.so.9`, "");
  // The emulated libraries must win the search over real ones (wheels under .tools/cuda): load
  // them (the loaders cache what they found) with the variable pointing here, then restore it,
  // so that later test files in this process probe for a real driver as usual.
  const saved = Deno.env.get("DENO_CTC_CUDA_LIBS");
  Deno.env.set("DENO_CTC_CUDA_LIBS", dir);
  try {
    loadCublas();
    loadCublasLt();
    loadCudnn();
  } finally {
    if (saved === undefined) Deno.env.delete("DENO_CTC_CUDA_LIBS");
    else Deno.env.set("DENO_CTC_CUDA_LIBS", saved);
  }
  // Kernel libraries are kept in the checkout's ignored .cache/ between runs.
  const kernels = new URL("../../../../.cache/cuda-emulator", import.meta.url).pathname;
  Deno.mkdirSync(kernels, { recursive: true });
  const backend = openCudaDevice({ driverFolders: [dir], compiler: new HostKernelBuilder(kernels, cxx) });
  addBackend(backend);
  return { backend, dir };
}

/** Opens the emulated backend for a test file; null when it is ready, else why not. */
export function emulatedCudaReason(): string | null {
  const opened = openEmulatedCuda();
  return "reason" in opened ? opened.reason : null;
}
