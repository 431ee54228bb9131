/**
 * The cpu ctcLoss split across Workers (ops/backends/cpu/ctc_loss_threads.ts) gives the same
 * loss and gradient, bit for bit, as the single-threaded kernel, for float32 and float64, with
 * uneven lengths, an infeasible sample, an empty target and a zero-length input in the batch;
 * and a batch below the break-even stays on the calling thread.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import {
  ctcThreadsFor,
  ctcWorkersStarted,
  setCtcThreading,
} from "../../ops/backends/cpu/ctc_loss_threads.ts";
import { ctcLoss } from "../../ops/ctc_loss.ts";
import { tensor } from "../../ops/creation.ts";
import { logSoftmax } from "../../ops/reduce.ts";
import { Rng } from "../../ops/random.ts";
import { TensorScope } from "../../ops/scopes.ts";
import type { DType } from "../../ops/dtype.ts";

const T = 60, N = 7, C = 6, S = 12;
const inputLengths = [60, 55, 3, 0, 41, 60, 17];
// Sample 2 cannot fit 12 labels in 3 frames (infeasible); sample 3 has no frames and no labels.
const targetLengths = [12, 9, 12, 0, 7, 1, 5];

function lossAndGrad(dtype: DType, threads: number): { loss: Float64Array; grad: Float64Array } {
  using _scope = new TensorScope();
  const previous = setCtcThreading({ threads, minWork: 0 });
  try {
    const rng = new Rng(7);
    const logits = new Float64Array(T * N * C);
    for (let i = 0; i < logits.length; i++) logits[i] = 2 * rng.normal();
    const lp = tensor(
      logSoftmax(tensor(logits, [T, N, C], { dtype }), -1).dataSync(),
      [T, N, C],
      { dtype, requiresGrad: true },
    );
    const labels = new Int32Array(N * S);
    for (let i = 0; i < labels.length; i++) labels[i] = (i * 5 + (i >> 3)) % (C - 1);
    const targets = tensor(labels, [N, S], { dtype: "int32" });
    const loss = ctcLoss(lp, targets, inputLengths, targetLengths, { blank: C - 1, reduction: "none" });
    const lossData = Float64Array.from(loss.dataSync());
    loss.backward(tensor(new Float64Array(N).fill(1), [N], { dtype }));
    return { loss: lossData, grad: Float64Array.from(lp.grad!.dataSync()) };
  } finally {
    setCtcThreading(previous);
  }
}

function assertSameBits(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: ${a[i]} on 1 thread but ${b[i]} split`);
  }
}

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`ctcLoss split over 2 and 3 threads equals one thread bit for bit in ${dtype}`, () => {
    const one = lossAndGrad(dtype, 1);
    assert.ok(one.loss.some((v) => v === Infinity), "the batch holds an infeasible sample");
    assert.ok(one.grad.some((v) => v !== 0 && Number.isFinite(v)), "the gradient is not all zero");
    for (const threads of [2, 3]) {
      const split = lossAndGrad(dtype, threads);
      assertSameBits(one.loss, split.loss, `loss (${threads} threads)`);
      assertSameBits(one.grad, split.grad, `gradient (${threads} threads)`);
      assert.ok(
        ctcWorkersStarted() >= threads - 1,
        `${threads} threads started ${ctcWorkersStarted()} Workers`,
      );
    }
  });
}

Deno.test("ctcLoss keeps a batch below the break-even on the calling thread", () => {
  const previous = setCtcThreading({ threads: 4, minWork: 1000 });
  try {
    assert.equal(ctcThreadsFor(999), 1);
    assert.equal(ctcThreadsFor(1000), 4);
  } finally {
    setCtcThreading(previous);
  }
});
