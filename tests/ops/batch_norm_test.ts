/**
 * batchNorm beyond the conformance table (tests/ops/cases/batch_norm.ts, which holds the
 * PyTorch fixture checks, the float64 reference, masking and the running statistics on every
 * backend): the running tensors keep their identity through the in-place update, eval leaves
 * them alone, and argument errors.
 */
import assert from "node:assert/strict";
import { batchNorm, tensor } from "../../ops/mod.ts";

Deno.test("batchNorm() updates the running tensors it was given, keeping their identity", () => {
  const x = tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 2, 2]);
  const rm = tensor([0, 0], [2]), rv = tensor([1, 1], [2]);
  const storageBefore = rm.storage;
  batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
  assert.equal(rm.storage, storageBefore);
  // channel 0: values 1, 2, 10, 20 → mean 8.25, unbiased var 79.583…
  const m = rm.dataSync(), v = rv.dataSync();
  assert.ok(Math.abs(m[0] - 0.5 * 8.25) < 1e-5, `running mean ${m[0]}`);
  const unbiased = ((1 - 8.25) ** 2 + (2 - 8.25) ** 2 + (10 - 8.25) ** 2 + (20 - 8.25) ** 2) / 3;
  assert.ok(Math.abs(v[0] - (0.5 + 0.5 * unbiased)) < 1e-4, `running var ${v[0]}`);
  // eval mode leaves them alone
  batchNorm(x, rm, rv, null, null, { training: false });
  assert.deepEqual(rm.dataSync(), m);
});

Deno.test("batchNorm() rejects eval without running statistics and training on one value per channel", () => {
  const x = tensor([1, 2, 3, 4], [1, 4]);
  assert.throws(
    () => batchNorm(x, null, null, null, null, { training: false }),
    /eval mode .* needs runningMean/,
  );
  assert.throws(
    () => batchNorm(x, null, null, null, null, { training: true }),
    /more than 1 value per channel/,
  );
  assert.throws(
    () =>
      batchNorm(
        tensor(new Float32Array(8), [2, 2, 2]),
        tensor([0, 0, 0], [3]),
        tensor([1, 1, 1], [3]),
        null,
        null,
      ),
    /runningMean must be \[2\]/,
  );
});
