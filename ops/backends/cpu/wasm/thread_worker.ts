/**
 * Worker side of thread_pool.ts: receives the heap's memory and the control block once, then
 * loops: block in Atomics.wait until its generation word moves, run its share of the job (the
 * kernel instantiated from the module bytes at the job's heap address, once per kernel id, over
 * the shared memory), count itself done and wake the calling thread.
 *
 * Not here: cutting work into shares, or any kernel's code (the pool only names a module).
 */
import { parentPort } from "node:worker_threads";

/** Most threads a job is cut for (the calling one included). */
export const MAX_THREADS = 16;
/** Most arguments of a pooled kernel. */
export const MAX_ARGS = 32;

/** Int32 slots of the control block. */
export const Control = {
  /** Workers done with the current job; the calling thread waits on it. */
  done: 0,
  /** Set when a Worker's share threw. */
  failed: 1,
  kernelId: 2,
  /** Heap byte address and length of the kernel's module bytes. */
  codeAddress: 3,
  codeBytes: 4,
  nArgs: 5,
} as const;

/**
 * Where each Worker's generation word is (Worker i's at GENERATIONS_AT + i): bumped once per job
 * that has a share for that Worker, and waited on by it alone. A Worker a job leaves out is not
 * woken, so it cannot read the next job's fields while the calling thread writes them.
 */
export const GENERATIONS_AT = 8;
/** Where the float64 argument slots start (in int32 slots, 8-byte aligned): MAX_ARGS per Worker. */
export const ARGS_AT = GENERATIONS_AT + MAX_THREADS;
/** Size of the control block in int32 slots. */
export const CONTROL_INTS = ARGS_AT + 2 * MAX_ARGS * (MAX_THREADS - 1);

/** The one message a Worker receives. */
export interface PoolWorkerStart {
  memory: WebAssembly.Memory;
  control: Int32Array;
  /** This Worker's index: it runs share index + 1. */
  index: number;
  /** Its generation word when the Worker was started: jobs after it are the Worker's. */
  generation: number;
}

type Kernel = (...a: number[]) => void;

function run(start: PoolWorkerStart): never {
  const { memory, control, index } = start;
  const generation = GENERATIONS_AT + index;
  let seen = start.generation;
  const args = new Float64Array(control.buffer, ARGS_AT * 4 + index * MAX_ARGS * 8, MAX_ARGS);
  const kernels = new Map<number, Kernel>();
  for (;;) {
    Atomics.wait(control, generation, seen);
    seen = Atomics.load(control, generation);
    try {
      const id = control[Control.kernelId];
      let kernel = kernels.get(id);
      if (!kernel) {
        // memory.buffer is re-read here: it is the grown heap's view after the heap grew.
        const at = control[Control.codeAddress], n = control[Control.codeBytes];
        const bytes = new Uint8Array(memory.buffer, at, n).slice();
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
        kernel = Object.values(instance.exports).find((e) => typeof e === "function") as Kernel;
        kernels.set(id, kernel);
      }
      const nArgs = control[Control.nArgs];
      const a = new Array<number>(nArgs);
      for (let i = 0; i < nArgs; i++) a[i] = args[i];
      kernel(...a);
    } catch (e) {
      Atomics.store(control, Control.failed, 1);
      console.error(`kernel thread ${index}: ${(e as Error).message}`);
    }
    Atomics.add(control, Control.done, 1);
    Atomics.notify(control, Control.done);
  }
}

parentPort?.once("message", run);
