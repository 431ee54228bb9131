/**
 * GEMM for the cpu backend: OpenBLAS's cblas_sgemm / cblas_dgemm through Deno FFI when the
 * library can be loaded, a blocked TypeScript kernel otherwise. Which one runs is reported
 * once on stderr and by `blasInfo()`, never silently.
 *
 * Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and silently falls back to SSE3
 * kernels (~15 GFLOP/s per core instead of ~95 with SkylakeX). OpenBLAS reads
 * OPENBLAS_CORETYPE when it loads, so unless the user set it we pick the kernel family from
 * the CPU's flags (/proc/cpuinfo, also under the tasks' narrower permissions) before dlopen.
 *
 * Library search: $DENO_CTC_OPENBLAS, then the usual sonames and Debian/Homebrew paths.
 * Threads: $DENO_CTC_THREADS, else $OPENBLAS_NUM_THREADS (which OpenBLAS users already set), else all cores; `setBlasThreads(n)` changes it at run time.
 */
import { envGet } from "../../env.ts";

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

const symbols = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_dgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f64",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f64",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_corename: { parameters: [], result: "pointer" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

type OpenBlas = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** Which GEMM implementation the cpu backend uses, and why. */
export interface BlasInfo {
  /** "openblas" when the FFI library is in use, "typescript" for the fallback kernel. */
  readonly implementation: "openblas" | "typescript";
  /** Path or soname that loaded. */
  readonly path?: string;
  /** OpenBLAS's kernel family (e.g. "Haswell", "SkylakeX"). */
  readonly coreName?: string;
  /** OpenBLAS's build configuration (`openblas_get_config()`). */
  readonly config?: string;
  /** OPENBLAS_CORETYPE in effect, if any. */
  readonly coreType?: string;
  /** Whether this module set OPENBLAS_CORETYPE itself, from the CPU flags in /proc/cpuinfo. */
  readonly coreTypeChosenByUs?: boolean;
  /** Threads OpenBLAS uses. */
  readonly threads: number;
  /** Why OpenBLAS is not used (paths tried, errors), for the fallback. */
  readonly reason?: string;
}

let lib: OpenBlas | null = null;
let info: BlasInfo | null = null;

function candidatePaths(): string[] {
  const fromEnv = envGet("DENO_CTC_OPENBLAS");
  const list = [
    "libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "libopenblas.so",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
  ];
  return fromEnv ? [fromEnv, ...list] : list;
}

/** The OpenBLAS kernel family for this CPU, from /proc/cpuinfo flags (x86-64 Linux only). */
export function coreTypeForCpu(cpuinfo: string): string | undefined {
  const flagsLine = cpuinfo.split("\n").find((l) => l.startsWith("flags"));
  if (!flagsLine) return undefined;
  const flags = new Set(flagsLine.split(":")[1].trim().split(/\s+/));
  if (flags.has("avx512f") && flags.has("avx512bw") && flags.has("avx512vl") && flags.has("avx512dq")) {
    return "SkylakeX";
  }
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  if (flags.has("avx")) return "Sandybridge";
  return undefined;
}

/**
 * The text of /proc/cpuinfo. Deno grants that file only to --allow-all, which the
 * permission-scoped tasks (train, demo, ...) do not have; they do load libraries (--allow-ffi),
 * so there libc's open/read fetch it. Throws when neither way is allowed.
 */
function readCpuInfo(): string {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
  }
  const libc = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    const fd = libc.symbols.open(new TextEncoder().encode("/proc/cpuinfo\0"), 0);
    if (fd < 0) throw new Error("cannot open /proc/cpuinfo");
    // The first processor's block, whose flags are all we read, is far below 64 KiB.
    const buf = new Uint8Array(1 << 16);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) {
      r = Math.max(0, Number(libc.symbols.read(fd, buf.subarray(n), BigInt(buf.length - n))));
    }
    libc.symbols.close(fd);
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    libc.close();
  }
}

function load(): void {
  if (info) return;
  const tried: string[] = [];
  let coreType = envGet("OPENBLAS_CORETYPE");
  let chosen = false;
  if (!coreType) {
    try {
      coreType = coreTypeForCpu(readCpuInfo());
      if (coreType) {
        Deno.env.set("OPENBLAS_CORETYPE", coreType);
        chosen = true;
      }
    } catch {
      coreType = undefined; // not Linux, or neither permission: OpenBLAS detects on its own
    }
  }
  for (const path of candidatePaths()) {
    try {
      const dl = Deno.dlopen(path, symbols);
      lib = dl.symbols;
      const wanted = Number(
        envGet("DENO_CTC_THREADS") ?? envGet("OPENBLAS_NUM_THREADS") ?? navigator.hardwareConcurrency ?? 1,
      );
      lib.openblas_set_num_threads(Math.max(1, wanted | 0));
      info = {
        implementation: "openblas",
        path,
        coreName: cString(lib.openblas_get_corename()),
        config: cString(lib.openblas_get_config()),
        coreType,
        coreTypeChosenByUs: chosen,
        threads: lib.openblas_get_num_threads(),
      };
      report();
      return;
    } catch (e) {
      tried.push(`${path} (${(e as Error).message.split("\n")[0]})`);
    }
  }
  info = {
    implementation: "typescript",
    threads: 1,
    reason: `OpenBLAS not loaded; tried: ${tried.join("; ")}. Install Debian's libopenblas0 ` +
      `(or set DENO_CTC_OPENBLAS to the library's path) and run with --allow-ffi.`,
  };
  report();
}

function cString(p: Deno.PointerValue): string | undefined {
  return p === null ? undefined : new Deno.UnsafePointerView(p).getCString();
}

function report(): void {
  if (envGet("DENO_CTC_QUIET")) return;
  const i = info!;
  console.error(
    i.implementation === "openblas"
      ? `[deno-ctc] cpu GEMM: OpenBLAS (${i.coreName} kernels, ${i.threads} threads) from ${i.path}`
      : `[deno-ctc] cpu GEMM: TypeScript fallback kernel. ${i.reason}`,
  );
}

/** Which GEMM implementation runs (loads OpenBLAS on first call). */
export function blasInfo(): BlasInfo {
  load();
  return info!;
}

/** Sets the number of threads OpenBLAS uses (no effect on the TypeScript kernel). */
export function setBlasThreads(n: number): void {
  load();
  if (lib) {
    lib.openblas_set_num_threads(n);
    info = { ...info!, threads: lib.openblas_get_num_threads() };
  }
}

/**
 * C = alpha·op(A)·op(B) + beta·C, row-major (cblas with CblasRowMajor).
 * op(A) is m×k, op(B) is k×n, C is m×n; offsets are in elements. All arrays share one dtype.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array | Float64Array,
  aOffset: number,
  lda: number,
  b: Float32Array | Float64Array,
  bOffset: number,
  ldb: number,
  beta: number,
  c: Float32Array | Float64Array,
  cOffset: number,
  ldc: number,
): void {
  if (m === 0 || n === 0) return;
  load();
  if (lib && !forceTypeScript) {
    const ta = transA ? TRANS : NO_TRANS;
    const tb = transB ? TRANS : NO_TRANS;
    // Zero-length views are rejected by FFI; k = 0 still has to scale C by beta.
    const av = a.subarray(aOffset), bv = b.subarray(bOffset), cv = c.subarray(cOffset);
    if (c instanceof Float32Array) {
      lib.cblas_sgemm(
        ROW_MAJOR,
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        av as Float32Array,
        lda,
        bv as Float32Array,
        ldb,
        beta,
        cv as Float32Array,
        ldc,
      );
    } else {
      lib.cblas_dgemm(
        ROW_MAJOR,
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        av as Float64Array,
        lda,
        bv as Float64Array,
        ldb,
        beta,
        cv as Float64Array,
        ldc,
      );
    }
    return;
  }
  gemmTypeScript(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
}

let forceTypeScript = false;

/** Routes `gemm` to the TypeScript kernel even when OpenBLAS is loaded (tests compare both). */
export function useTypeScriptGemm(on: boolean): void {
  forceTypeScript = on;
}

/** The portable kernel: row-major i-p-j loops so the inner loop streams rows of B and C. */
function gemmTypeScript(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array | Float64Array,
  aOff: number,
  lda: number,
  b: Float32Array | Float64Array,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float32Array | Float64Array,
  cOff: number,
  ldc: number,
): void {
  // op(B) as a contiguous k×n row-major block, so the inner loop is unit-stride.
  let bb: Float32Array | Float64Array = b;
  let bo = bOff, bs = ldb;
  if (transB) {
    bb = new Float64Array(k * n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bb[p * n + j] = b[bOff + j * ldb + p];
    bo = 0;
    bs = n;
  }
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
      if (aip === 0) continue;
      const base = bo + p * bs;
      for (let j = 0; j < n; j++) row[j] += aip * bb[base + j];
    }
    const ci = cOff + i * ldc;
    if (beta === 0) { for (let j = 0; j < n; j++) c[ci + j] = alpha * row[j]; }
    else for (let j = 0; j < n; j++) c[ci + j] = alpha * row[j] + beta * c[ci + j];
  }
}
