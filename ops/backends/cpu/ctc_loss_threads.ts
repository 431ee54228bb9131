/**
 * Splitting a cpu ctcLoss batch across Workers: samples are independent, so each thread runs
 * whole samples (ctc_loss_sample.ts) over log-probabilities and outputs in SharedArrayBuffers,
 * and the calling thread runs one share itself and then blocks in Atomics.wait until the
 * Workers are done. The Workers are started on first use, kept for later calls, idle in their
 * event loops between calls (no spinning) and unref'd, so they never keep a process alive.
 *
 * Thread count: the one OpenBLAS uses (`blasInfo().threads`: $DENO_CTC_THREADS,
 * $OPENBLAS_NUM_THREADS or all cores; `setBlasThreads`), so one setting governs all cpu
 * kernels. A batch whose work is below `minWork` runs on the calling thread: handing it out
 * costs more than it saves (BENCHMARKS.md, "ctcLoss across Workers", has the break-even).
 *
 * Not here: the recursions themselves (ctc_loss_sample.ts).
 */
import { Worker } from "node:worker_threads";
import { blasInfo } from "./blas.ts";
import { type CtcJob, ctcLossSamples, ctcSampleWork, floatView } from "./ctc_loss_sample.ts";
import type { CtcWorkerMessage } from "./ctc_loss_worker.ts";

type F = Float32Array | Float64Array;

/** How ctcLoss uses threads; see {@link setCtcThreading}. */
export interface CtcThreading {
  /** Threads (the calling one included); null: the BLAS thread count. */
  threads: number | null;
  /** Smallest batch work (Σ over samples of Tn·(2S + C)) that is split; below it, one thread. */
  minWork: number;
}

// Break-even measured with bench/ctc_threads.ts on 2 cores (BENCHMARKS.md).
const DEFAULT_MIN_WORK = 500_000;
let threading: CtcThreading = { threads: null, minWork: DEFAULT_MIN_WORK };
const pool: Worker[] = [];
/** How long the calling thread waits for a Worker that makes no progress before giving up. */
const STALL_MS = 120_000;

/**
 * Overrides how ctcLoss uses threads (for tests and benchmarks); fields left out keep their
 * value. Returns the previous setting so a caller can restore it.
 */
export function setCtcThreading(options: Partial<CtcThreading>): CtcThreading {
  const previous = threading;
  threading = { ...threading, ...options };
  return previous;
}

/** The thread count a batch of this much work would use now. */
export function ctcThreadsFor(work: number): number {
  const threads = threading.threads ?? blasInfo().threads;
  return work >= threading.minWork ? Math.max(1, threads | 0) : 1;
}

/** Workers started so far (they are kept for later calls). */
export function ctcWorkersStarted(): number {
  return pool.length;
}

function worker(i: number): Worker {
  while (pool.length <= i) {
    const w = new Worker(new URL("./ctc_loss_worker.ts", import.meta.url));
    w.unref();
    pool.push(w);
    workerHasArena.push(false);
  }
  return pool[i];
}

/** Longest-processing-time-first split of the samples into `parts` lists of similar work. */
function splitSamples(job: CtcJob, parts: number): Int32Array[] {
  const order = Array.from({ length: job.N }, (_, n) => n);
  const work = order.map((n) => ctcSampleWork(job, n));
  order.sort((a, b) => work[b] - work[a] || a - b);
  const loads = new Float64Array(parts);
  const lists: number[][] = Array.from({ length: parts }, () => []);
  for (const n of order) {
    let p = 0;
    for (let q = 1; q < parts; q++) if (loads[q] < loads[p]) p = q;
    loads[p] += work[n];
    lists[p].push(n);
  }
  return lists.map((l) => Int32Array.from(l.sort((a, b) => a - b)));
}

/** The shared arena and which Workers already hold it. */
let arena = new SharedArrayBuffer(0);
const workerHasArena: boolean[] = [];

function arenaOfAtLeast(nBytes: number): SharedArrayBuffer {
  if (arena.byteLength < nBytes) {
    arena = new SharedArrayBuffer(Math.max(nBytes, 2 * arena.byteLength));
    workerHasArena.fill(false);
  }
  return arena;
}

/**
 * Runs every sample of `job` on `threads` threads and writes the results into job.nll and
 * job.grad, exactly as `ctcLossSamples(job, all samples)` would.
 */
export function ctcLossThreaded(job: CtcJob, threads: number): void {
  const lists = splitSamples(job, Math.min(threads, job.N)).filter((l) => l.length > 0);
  const isFloat64 = job.logProbs instanceof Float64Array;
  const size = job.logProbs.length, bytes = job.logProbs.BYTES_PER_ELEMENT;
  // Regions: logProbs, gradient, nll (8-byte aligned).
  const gradAt = Math.ceil((size * bytes) / 8) * 8;
  const nllAt = gradAt + (job.computeGrad ? gradAt : 0);
  const buffer = arenaOfAtLeast(nllAt + 8 * job.N);
  floatView(buffer, 0, size, isFloat64).set(job.logProbs);
  const sharedJob: CtcJob = {
    ...job,
    logProbs: floatView(buffer, 0, size, isFloat64),
    grad: floatView(buffer, gradAt, job.computeGrad ? size : 0, isFloat64),
    nll: new Float64Array(buffer, nllAt, job.N),
  };
  const { logProbs: _lp, grad: _g, nll: _n, ...small } = job;
  const control = new Int32Array(new SharedArrayBuffer(8));
  for (let i = 1; i < lists.length; i++) {
    const w = worker(i - 1);
    const message: CtcWorkerMessage = {
      arena: workerHasArena[i - 1] ? null : buffer,
      control,
      isFloat64,
      logProbsAt: 0,
      gradAt,
      nllAt,
      size,
      job: small,
      samples: lists[i],
    };
    workerHasArena[i - 1] = true;
    w.postMessage(message);
  }
  ctcLossSamples(sharedJob, lists[0]);
  const expected = lists.length - 1;
  for (let done = Atomics.load(control, 0); done < expected; done = Atomics.load(control, 0)) {
    if (Atomics.wait(control, 0, done, STALL_MS) === "timed-out") {
      throw new Error(
        `ctcLoss: a Worker made no progress for ${STALL_MS / 1000} s (${done}/${expected} done)`,
      );
    }
  }
  if (Atomics.load(control, 1) !== 0) throw new Error("ctcLoss: a Worker failed (its message is on stderr)");
  job.nll.set(sharedJob.nll);
  job.grad.set(sharedJob.grad);
}
