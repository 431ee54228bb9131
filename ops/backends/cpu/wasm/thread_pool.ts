/**
 * Worker threads for the generated WASM kernels: a large kernel call is cut by its caller into
 * shares (argument lists of the same kernel over disjoint rows, slots or channels), the calling
 * thread runs share 0 and Workers run the rest over the same shared heap (memory.ts), and the
 * call returns when all are done, so results are those of the kernel run share after share.
 *
 * Hand-off without postMessage per op (posting costs Deno milliseconds, BENCHMARKS.md "ctcLoss
 * across Workers"): each Worker receives the heap's `WebAssembly.Memory` and a control block once,
 * at start; a job is its kernel's id and module address in the control block, the shares'
 * arguments in the float64 slots after it, and a bump of each participating Worker's generation
 * word with Atomics.notify. Workers block in Atomics.wait between jobs (no spinning) and are unref'd, so
 * they never keep a process alive. A kernel's module bytes are copied onto the heap the first
 * time it is dispatched; each Worker compiles and instantiates them once and keeps the instance
 * by id. The heap grows in place and Workers' instances see the new size.
 *
 * Thread count: the one OpenBLAS uses (`blasInfo().threads`: $DENO_CTC_THREADS,
 * $OPENBLAS_NUM_THREADS or all cores; `setBlasThreads`), so one setting governs all cpu kernels.
 * Calls with less work than `minWork` (elements read plus written; $DENO_CTC_THREAD_MIN_WORK,
 * `setKernelThreading`) run on the calling thread alone.
 *
 * Not here: how a kernel is cut into shares (each kernel file says), the ctcLoss Workers
 * (ctc_loss_threads.ts, which run TypeScript over their own arena).
 */
import { Worker } from "node:worker_threads";
import { envGet } from "../../../env.ts";
import { blasInfo } from "../blas.ts";
import { heapAlloc, wasmMemory } from "./memory.ts";
import {
  ARGS_AT,
  Control,
  CONTROL_INTS,
  GENERATIONS_AT,
  MAX_ARGS,
  MAX_THREADS,
  type PoolWorkerStart,
} from "./thread_worker.ts";

/** How the WASM kernels use threads; see {@link setKernelThreading}. */
export interface KernelThreading {
  /** Threads (the calling one included); null: the BLAS thread count. */
  threads: number | null;
  /** Smallest work (elements read plus written) a call is split for; below it, one thread. */
  minWork: number;
}

// Break-even measured with bench/kernel_threads.ts on 2 cores (BENCHMARKS.md, "Kernels across Workers").
const DEFAULT_MIN_WORK = 1 << 21;

function minWorkFromEnv(): number {
  const v = envGet("DENO_CTC_THREAD_MIN_WORK");
  if (v === undefined || v === "") return DEFAULT_MIN_WORK;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`DENO_CTC_THREAD_MIN_WORK must be a non-negative number but is "${v}"`);
  }
  return n;
}

let threading: KernelThreading = { threads: null, minWork: minWorkFromEnv() };

/**
 * Overrides how the WASM kernels use threads (for tests and benchmarks); fields left out keep
 * their value. Returns the previous setting so a caller can restore it.
 */
export function setKernelThreading(options: Partial<KernelThreading>): KernelThreading {
  const previous = threading;
  threading = { ...threading, ...options };
  return previous;
}

/** The number of shares a call of `work` elements should be cut into now (1: no split). */
export function kernelThreadsFor(work: number): number {
  if (work < threading.minWork) return 1;
  const threads = threading.threads ?? blasInfo().threads;
  return Math.max(1, Math.min(MAX_THREADS, threads | 0));
}

/** Kernels that may be dispatched: the module bytes `compileKernel` built each from. */
interface PooledKernel {
  id: number;
  bytes: Uint8Array;
  /** Heap byte address of the copy Workers compile from; 0 until first dispatched. */
  address: number;
}
const pooled = new WeakMap<object, PooledKernel>();
let nextKernelId = 1;

/** Records the module a kernel function was instantiated from, so Workers can build it too. */
export function registerPooledKernel(fn: object, bytes: Uint8Array): void {
  pooled.set(fn, { id: nextKernelId++, bytes, address: 0 });
}

const control = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
const args = new Float64Array(control.buffer, ARGS_AT * 4);
const workers: Worker[] = [];
/** How long the calling thread waits for a Worker that makes no progress before giving up. */
const STALL_MS = 120_000;

/** Workers started so far (they are kept for later calls). */
export function kernelWorkersStarted(): number {
  return workers.length;
}

function ensureWorkers(n: number): void {
  while (workers.length < n) {
    const w = new Worker(new URL("./thread_worker.ts", import.meta.url));
    w.unref();
    const start: PoolWorkerStart = {
      memory: wasmMemory,
      control,
      index: workers.length,
      generation: Atomics.load(control, GENERATIONS_AT + workers.length),
    };
    w.postMessage(start);
    workers.push(w);
  }
}

function codeAddress(k: PooledKernel): number {
  if (k.address === 0) {
    // Kept for the life of the process, as the kernel is: a few hundred bytes per kernel.
    const copy = heapAlloc("int32", Math.ceil(k.bytes.length / 4));
    if (!copy) throw new RangeError("thread pool: WASM heap full");
    new Uint8Array(copy.buffer, copy.byteOffset, k.bytes.length).set(k.bytes);
    k.address = copy.byteOffset;
  }
  return k.address;
}

/**
 * Runs `kernel(...shares[i])` for every share, share 0 on the calling thread and the others on
 * Workers at the same time; returns when all are done. The shares must write disjoint memory.
 * `kernel` must come from `compileKernel` (row_loops.ts); arguments are i32 or f32 values.
 */
export function runShares(kernel: (...a: number[]) => void, shares: readonly (readonly number[])[]): void {
  if (shares.length === 1) return kernel(...shares[0]);
  const k = pooled.get(kernel);
  if (!k) throw new TypeError("runShares: the kernel was not built by compileKernel");
  if (shares.length > MAX_THREADS) {
    throw new RangeError(`runShares: ${shares.length} shares, at most ${MAX_THREADS}`);
  }
  const nArgs = shares[0].length;
  if (nArgs > MAX_ARGS) throw new RangeError(`runShares: ${nArgs} arguments, at most ${MAX_ARGS}`);
  ensureWorkers(shares.length - 1);
  for (let s = 1; s < shares.length; s++) args.set(shares[s], (s - 1) * MAX_ARGS);
  control[Control.kernelId] = k.id;
  control[Control.codeAddress] = codeAddress(k);
  control[Control.codeBytes] = k.bytes.length;
  control[Control.nArgs] = nArgs;
  Atomics.store(control, Control.done, 0);
  Atomics.store(control, Control.failed, 0);
  // Only the Workers with a share are woken: one left out would otherwise be able to wake late,
  // read the next job's fields as they are written and run a share of it twice.
  for (let w = 0; w < shares.length - 1; w++) {
    Atomics.add(control, GENERATIONS_AT + w, 1);
    Atomics.notify(control, GENERATIONS_AT + w);
  }
  try {
    kernel(...shares[0]);
  } finally {
    // Even when share 0 throws: the next job must not start while Workers still run this one.
    awaitWorkers(shares.length - 1);
  }
  if (Atomics.load(control, Control.failed) !== 0) {
    throw new Error("thread pool: a Worker's kernel failed (its message is on stderr)");
  }
}

/** Blocks until `expected` Workers have counted themselves done. */
function awaitWorkers(expected: number): void {
  for (
    let done = Atomics.load(control, Control.done);
    done < expected;
    done = Atomics.load(control, Control.done)
  ) {
    if (Atomics.wait(control, Control.done, done, STALL_MS) === "timed-out") {
      throw new Error(
        `thread pool: a Worker made no progress for ${STALL_MS / 1000} s (${done}/${expected} done)`,
      );
    }
  }
}

/** Boundaries 0 = b[0] < … < b[parts] = total of `parts` near-equal contiguous ranges. */
function splitEvenly(total: number, parts: number): number[] {
  const b = [0];
  for (let p = 1; p <= parts; p++) b.push(Math.round((total * p) / parts));
  return b;
}

/**
 * Runs `kernel` over `rows` independent rows cut into contiguous ranges, one per thread when
 * `work` is large enough; `argsFor(lo, hi)` gives the kernel's arguments for rows [lo, hi).
 */
export function runRowRanges(
  kernel: (...a: number[]) => void,
  rows: number,
  work: number,
  argsFor: (lo: number, hi: number) => number[],
): void {
  const parts = Math.min(kernelThreadsFor(work), rows);
  if (parts <= 1) return kernel(...argsFor(0, rows));
  const b = splitEvenly(rows, parts);
  const shares: number[][] = [];
  for (let p = 0; p < parts; p++) shares.push(argsFor(b[p], b[p + 1]));
  runShares(kernel, shares);
}
