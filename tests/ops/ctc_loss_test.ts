/**
 * ctcLoss beyond the conformance table (tests/ops/cases/ctc_loss.ts, run by conformance_test.ts):
 * PyTorch's gradient w.r.t. the log-probs themselves (normalised or not, NaN for infeasible
 * samples), a 2000-frame sequence, lengths given as tensors, and argument errors.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { ctcFixture, fixtureNumbers, fixtureX } from "./cases/ctc_loss.ts";
import { assertClose } from "./conformance/harness.ts";
import { ctcLoss } from "../../ops/ctc_loss.ts";
import { tensor } from "../../ops/creation.ts";
import { mul } from "../../ops/elementwise.ts";
import { sum } from "../../ops/reduce_sum.ts";
import { noGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import type { Tensor } from "../../ops/tensor.ts";

/** log_softmax over the last axis in float64, as the fixture's log_probs. */
function logSoftmaxHost(x: Float64Array, C: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += C) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[o + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[o + c] - m);
    const l = m + Math.log(s);
    for (let c = 0; c < C; c++) out[o + c] = x[o + c] - l;
  }
  return out;
}

function weighted(loss: Tensor): Tensor {
  const w = new Float64Array(loss.size);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(1 + 0.7 * i);
  return sum(mul(loss, tensor(w, loss.shape, { dtype: loss.dtype })));
}

for (const fx of ctcFixture()) {
  Deno.test(`ctcLoss gives PyTorch's loss and gradient w.r.t. the log-probs for ${fx.name}`, () => {
    using _scope = new TensorScope();
    const x = fixtureX(fx);
    const lpData = fx.normalised ? logSoftmaxHost(x, fx.x.shape[2]) : x;
    const lp = tensor(lpData, fx.x.shape, { dtype: "float64", requiresGrad: true });
    const targets = tensor(fx.targets.data, fx.targets.shape, { dtype: "int32" });
    const loss = ctcLoss(
      lp,
      targets,
      tensor(fx.inputLengths, undefined, { dtype: "int32" }),
      fx.targetLengths,
      {
        blank: fx.blank,
        reduction: fx.reduction,
        zeroInfinity: fx.zeroInfinity,
      },
    );
    assertClose(loss.dataSync(), fixtureNumbers(fx.loss), 1e-9, "loss");
    weighted(loss).backward();
    const grad = lp.grad!.dataSync() as Float64Array;
    if (fx.gradLogProbs) {
      assertClose(grad, fixtureNumbers(fx.gradLogProbs), 1e-9, "gradient");
    } else {
      let dot = 0;
      for (let i = 0; i < grad.length; i++) dot += grad[i] * Math.sin(0.3 * i);
      assertClose([dot], [fx.gradLogProbsDot!], 1e-9, "gradient checksum");
    }
  });
}

Deno.test("ctcLoss accepts concatenated targets as numbers and matches padded targets", () => {
  using _scope = new TensorScope();
  const fx = ctcFixture()[0];
  const lp = tensor(logSoftmaxHost(fixtureX(fx), fx.x.shape[2]), fx.x.shape, { dtype: "float64" });
  const S = fx.targets.shape[1];
  const concatenated = fx.targetLengths.flatMap((l, n) => fx.targets.data.slice(n * S, n * S + l));
  const loss = ctcLoss(lp, concatenated, fx.inputLengths, fx.targetLengths, { reduction: "none" });
  assertClose(loss.dataSync(), fixtureNumbers(fx.loss), 1e-12, "loss");
});

Deno.test("ctcLoss keeps no gradient buffer when no gradient is wanted", () => {
  using _scope = new TensorScope();
  const lp = tensor(new Float64Array(4 * 1 * 3).fill(Math.log(1 / 3)), [4, 1, 3], { requiresGrad: true });
  const loss = noGrad(() => ctcLoss(lp, [1, 2], [4], [2], { reduction: "sum" }));
  assert.equal(loss.requiresGrad, false);
  assert.ok(Number.isFinite(loss.dataSync()[0]));
});

Deno.test("ctcLoss of uniform log-probs equals -log(number of alignments / C^T)", () => {
  // T = 3, C = 2, target [1]: alignments 1bb b1b bb1 11b b11 111 → 6 of 2³ paths.
  using _scope = new TensorScope();
  const lp = tensor(new Float64Array(6).fill(Math.log(0.5)), [3, 1, 2], { dtype: "float64" });
  const loss = ctcLoss(lp, [1], [3], [1], { reduction: "none" });
  assertClose(loss.dataSync(), [-Math.log(6 / 8)], 1e-14, "loss");
});

Deno.test("ctcLoss names the problem in its errors", () => {
  using _scope = new TensorScope();
  const lp = tensor(new Float32Array(4 * 2 * 3), [4, 2, 3]);
  assert.throws(
    () => ctcLoss(lp, [1, 2], [4], [1, 1]),
    /1 input lengths and 2 target lengths for a batch of 2/,
  );
  assert.throws(() => ctcLoss(lp, [1, 2], [5, 4], [1, 1]), /input length 5 of sample 0 is outside 0..4/);
  assert.throws(() => ctcLoss(lp, [1, 2], [4, 4], [1, 2]), /target length 2 of sample 1 is outside 0..1/);
  assert.throws(() => ctcLoss(lp, [1, 2], [4, 4], [1, 1], { blank: 3 }), /blank 3 is outside 0..2/);
  assert.throws(() => ctcLoss(lp, [1, 3], [4, 4], [1, 1]), /label 3 of sample 1 is outside 0..2/);
  assert.throws(
    () => ctcLoss(lp, [1, 2], [4, 4], [1, 1], { reduction: "avg" as "mean" }),
    /unknown reduction "avg"/,
  );
});
