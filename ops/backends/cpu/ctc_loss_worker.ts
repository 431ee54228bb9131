/**
 * Worker side of ctc_loss_threads.ts: receives a share of a ctcLoss batch whose arrays live in
 * SharedArrayBuffers, runs it with the kernel's own per-sample code, then bumps the job's done
 * counter and wakes the calling thread. Between jobs it waits in its event loop (no spinning).
 *
 * Not here: choosing the split or checking the inputs (ctc_loss_threads.ts and ctc_loss.ts).
 */
import { parentPort } from "node:worker_threads";
import { type CtcJob, ctcLossSamples } from "./ctc_loss_sample.ts";

/** What ctc_loss_threads.ts posts: the job (typed arrays over shared memory) and this Worker's samples. */
export interface CtcWorkerMessage {
  job: CtcJob;
  samples: Int32Array;
  /** [done count, failed flag] */
  control: Int32Array;
}

parentPort!.on("message", ({ job, samples, control }: CtcWorkerMessage) => {
  try {
    ctcLossSamples(job, samples);
  } catch (e) {
    Atomics.store(control, 1, 1);
    console.error(`ctcLoss worker: ${(e as Error).message}`);
  }
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
});
