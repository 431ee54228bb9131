/**
 * Worker side of ctc_loss_threads.ts: runs its share of a ctcLoss batch with the kernel's own
 * per-sample code over the pool's shared arena (log-probabilities in, nll and gradient out),
 * then bumps the done counter and wakes the calling thread. Between jobs it waits in its event
 * loop (no spinning).
 *
 * Not here: choosing the split or checking the inputs (ctc_loss_threads.ts and ctc_loss.ts).
 */
import { parentPort } from "node:worker_threads";
import { type CtcJob, ctcLossSamples, floatView } from "./ctc_loss_sample.ts";

/**
 * One job as posted: the arena only when it changed (passing a large SharedArrayBuffer costs
 * Deno milliseconds, so it is sent once, not per call), the regions within it, and the small
 * per-sample arrays by value.
 */
export interface CtcWorkerMessage {
  arena: SharedArrayBuffer | null;
  /** [done count, failed flag] */
  control: Int32Array;
  isFloat64: boolean;
  /** Byte offsets and element counts of the regions in the arena. */
  logProbsAt: number;
  gradAt: number;
  nllAt: number;
  size: number;
  job: Omit<CtcJob, "logProbs" | "grad" | "nll">;
  samples: Int32Array;
}

let arena: SharedArrayBuffer | null = null;

parentPort!.on("message", (m: CtcWorkerMessage) => {
  try {
    if (m.arena !== null) arena = m.arena;
    const job: CtcJob = {
      ...m.job,
      logProbs: floatView(arena!, m.logProbsAt, m.size, m.isFloat64),
      grad: floatView(arena!, m.gradAt, m.job.computeGrad ? m.size : 0, m.isFloat64),
      nll: new Float64Array(arena!, m.nllAt, m.job.N),
    };
    ctcLossSamples(job, m.samples);
  } catch (e) {
    Atomics.store(m.control, 1, 1);
    console.error(`ctcLoss worker: ${(e as Error).message}`);
  }
  Atomics.add(m.control, 0, 1);
  Atomics.notify(m.control, 0);
});
