/**
 * cpu kernel of `ctcLoss` (declared in ops/ctc_loss.ts): checks the labels, then runs the
 * alpha-beta recursions of every sample (ctc_loss_sample.ts), on the calling thread or, for a
 * batch large enough to pay for it, split across Workers (ctc_loss_threads.ts). Both paths run
 * the same per-sample code, so the loss and gradient do not depend on the thread count.
 *
 * Not here: reductions (ops/ctc_loss.ts does them with elementwise ops).
 */
import { registerKernel } from "../../op_registry.ts";
import { type CtcLossAttrs, ctcLossDims } from "../../ctc_loss.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { type CtcJob, ctcLossSamples, ctcSampleWork } from "./ctc_loss_sample.ts";
import { ctcLossThreaded, ctcThreadsFor } from "./ctc_loss_threads.ts";

type F = Float32Array | Float64Array;

registerKernel<CtcLossAttrs>(
  "ctcLoss",
  "cpu",
  ({ inputs: [logProbsT, targetsT], attrs, outputs, backend }) => {
    const { T, N, C, targetOffsets } = ctcLossDims(logProbsT, targetsT, attrs);
    const targets = cpuData(targetsT) as Int32Array;
    const { blank } = attrs;
    // Checked here, before any sample runs, so a Worker never meets a bad label.
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < attrs.targetLengths[n]; i++) {
        const label = targets[targetOffsets[n] + i];
        if (!(label >= 0 && label < C)) {
          throw new RangeError(`ctcLoss: label ${label} of sample ${n} is outside 0..${C - 1}`);
        }
      }
    }
    const nllOut = cpuOutput(backend, outputs[0].dtype, N) as F;
    const job: CtcJob = {
      logProbs: cpuData(logProbsT) as F,
      targets,
      targetOffsets,
      inputLengths: Int32Array.from(attrs.inputLengths),
      targetLengths: Int32Array.from(attrs.targetLengths),
      N,
      C,
      blank,
      zeroInfinity: attrs.zeroInfinity,
      computeGrad: attrs.computeGrad,
      nll: new Float64Array(N),
      grad: cpuOutput(backend, outputs[1].dtype, attrs.computeGrad ? T * N * C : 0) as F,
    };
    let work = 0;
    for (let n = 0; n < N; n++) work += ctcSampleWork(job, n);
    const threads = Math.min(ctcThreadsFor(work), N);
    if (threads > 1) ctcLossThreaded(job, threads);
    else ctcLossSamples(job, Int32Array.from({ length: N }, (_, n) => n));
    nllOut.set(job.nll);
    return [nllOut, job.grad];
  },
);
