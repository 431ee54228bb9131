/**
 * The compile pipeline of the cuda backend's own kernels: CUDA C source → NVRTC → cubin for
 * the device's architecture, compiled at first use and cached twice: in memory per (arch,
 * kernel key), and on disk as `<sha256 of source, arch, NVRTC version and options>.cubin`, so
 * that a second process does not compile again. A cache file that is not an ELF image (a
 * truncated write) is compiled again and replaced.
 *
 * Cache folder: $DENO_CTC_CUDA_CACHE, else $XDG_CACHE_HOME/deno-ctc/cuda, else
 * ~/.cache/deno-ctc/cuda; `cacheDir: null` turns the disk cache off.
 *
 * Not here: loading a cubin into a context (the backend does it per device), the kernel
 * sources (one file per op family, e.g. map.ts, reduce.ts).
 */
import { envGet } from "../../env.ts";
import { createHash } from "node:crypto";
import { compileCubin, loadNvrtc } from "./ffi/nvrtc.ts";

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Options of `KernelCompiler`. */
export interface KernelCompilerOptions {
  /** Folder of the disk cache; null for none; the default follows $DENO_CTC_CUDA_CACHE / XDG. */
  cacheDir?: string | null;
  /** NVRTC options added to every compile. */
  options?: readonly string[];
}

/** What the compiler did so far (tests and reports). */
export interface KernelCompilerStats {
  /** Sources compiled by NVRTC. */
  compiled: number;
  /** Cubins read from the disk cache. */
  readFromDisk: number;
  /** Milliseconds spent in NVRTC. */
  compileMs: number;
}

/** The default disk cache folder (null when no home or cache folder is known). */
export function defaultCacheDir(): string | null {
  const explicit = envGet("DENO_CTC_CUDA_CACHE");
  if (explicit !== undefined) return explicit === "" ? null : explicit;
  const xdg = envGet("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/deno-ctc/cuda`;
  const home = envGet("HOME");
  return home ? `${home}/.cache/deno-ctc/cuda` : null;
}

/** True when `bytes` starts like an ELF file (a cubin). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length > 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** What the backend needs from a compiler: the loadable image of a kernel source, and counters. */
export interface KernelBuilder {
  /** The image `cuModuleLoadData` takes for kernel `key` (compiled from `source()` on a miss). */
  cubin(key: string, source: () => string): Uint8Array;
  /** Counters since the builder was made. */
  readonly stats: Readonly<KernelCompilerStats>;
}

/** Compiles kernel sources for one architecture, with the memory and disk caches. */
export class KernelCompiler implements KernelBuilder {
  /** Target architecture: 80 for sm_80, 90 for sm_90. */
  readonly arch: number;
  #cacheDir: string | null;
  #options: readonly string[];
  #memory = new Map<string, Uint8Array>();
  #stats: KernelCompilerStats = { compiled: 0, readFromDisk: 0, compileMs: 0 };

  /** A compiler for `sm_<arch>`. */
  constructor(arch: number, options: KernelCompilerOptions = {}) {
    this.arch = arch;
    this.#cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
    this.#options = options.options ?? [];
  }

  /** Counters since this compiler was made. */
  get stats(): Readonly<KernelCompilerStats> {
    return { ...this.#stats };
  }

  /**
   * The cubin of kernel `key`, whose CUDA C is `source()` (called only on a memory-cache
   * miss). `key` must determine the source: it is the memory cache's key.
   */
  cubin(key: string, source: () => string): Uint8Array {
    const hit = this.#memory.get(key);
    if (hit) return hit;
    const text = source();
    const nvrtc = loadNvrtc();
    const hash = createHash("sha256")
      .update(`${text}\0sm_${this.arch}\0nvrtc ${nvrtc.version}\0${this.#options.join(" ")}`)
      .digest("hex");
    const file = this.#cacheDir ? `${this.#cacheDir}/${hash}.cubin` : null;
    let cubin = file ? readIfElf(file) : null;
    if (cubin) this.#stats.readFromDisk++;
    else {
      const t0 = performance.now();
      cubin = compileCubin(text, this.arch, { options: this.#options, fileName: `${fileNameOf(key)}.cu` });
      this.#stats.compileMs += performance.now() - t0;
      this.#stats.compiled++;
      if (file) writeAtomically(file, cubin);
    }
    this.#memory.set(key, cubin);
    return cubin;
  }
}

function fileNameOf(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 80);
}

function readIfElf(file: string): Uint8Array | null {
  try {
    const bytes = Deno.readFileSync(file);
    return isElf(bytes) ? bytes : null;
  } catch {
    return null;
  }
}

/** Writes through a temporary name, so a concurrent reader never sees half a cubin. */
function writeAtomically(file: string, bytes: Uint8Array): void {
  try {
    const dir = file.slice(0, file.lastIndexOf("/"));
    Deno.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${Deno.pid}.tmp`;
    Deno.writeFileSync(tmp, bytes);
    Deno.renameSync(tmp, file);
  } catch {
    // A read-only or absent cache folder only costs a compile next time.
  }
}
