/**
 * ctcLoss beyond the conformance table (tests/ops/cases/ctc_loss.ts, run by conformance_test.ts,
 * holds every PyTorch fixture check): targets given as numbers, no gradient buffer without
 * grad, a closed-form loss, lengths that are not host numbers, and argument errors.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { ctcFixture, fixtureLogProbs, fixtureNumbers } from "./cases/ctc_loss.ts";
import { assertClose } from "./conformance/harness.ts";
import { ctcLoss } from "../../ops/ctc_loss.ts";
import { tensor } from "../../ops/creation.ts";
import { noGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";

Deno.test("ctcLoss accepts concatenated targets as numbers and matches padded targets", () => {
  using _scope = new TensorScope();
  const fx = ctcFixture()[0];
  const lp = tensor(fixtureLogProbs(fx), fx.x.shape, { dtype: "float64" });
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

Deno.test("ctcLoss refuses lengths given as a tensor instead of reading them back", () => {
  using _scope = new TensorScope();
  const lp = tensor(new Float32Array(4 * 1 * 3), [4, 1, 3]);
  const lengths = tensor([4], [1], { dtype: "int32" }) as unknown as number[];
  assert.throws(
    () => ctcLoss(lp, [1], lengths, [1]),
    /ctcLoss: inputLengths must be host numbers \(number\[\] or Int32Array\), got a tensor on cpu/,
  );
  assert.throws(
    () => ctcLoss(lp, [1], [4], "1" as unknown as number[]),
    /targetLengths must be a number\[\] or an Int32Array/,
  );
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
