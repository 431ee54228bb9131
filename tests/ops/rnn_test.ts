/**
 * Behaviour of the RNN layer ops beyond the conformance table (tests/ops/cases/rnn.ts, run by
 * tests/ops/conformance_test.ts, where a batch of mixed lengths is checked against a reference
 * that runs each sequence alone): shape errors, the tape releasing what the layer kept, and
 * the cpu kernel's GEMM thread count.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { gruLayer, lstmLayer, type RnnDirectionWeights } from "../../ops/rnn.ts";
import { randomUniform, zeros } from "../../ops/creation.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { releaseGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { Rng } from "../../ops/random.ts";
import { sum } from "../../ops/reduce_sum.ts";
import type { Tensor } from "../../ops/tensor.ts";
import { blasInfo, setBlasThreads } from "../../ops/backends/cpu/blas.ts";

function directionWeights(rng: Rng, gates: number, I: number, H: number): RnnDirectionWeights {
  const u = (shape: number[]): Tensor =>
    randomUniform(shape, rng, { low: -0.5, high: 0.5, requiresGrad: true });
  return { wIh: u([gates * H, I]), wHh: u([gates * H, H]), bIh: u([gates * H]), bHh: u([gates * H]) };
}

Deno.test("lstmLayer releases its reserve space and gradients once backward has run", () => {
  const backend = getBackend("cpu");
  const before = backend.bytesInUse();
  const rng = new Rng(3);
  const weights = [directionWeights(rng, 4, 3, 5)];
  {
    using _scope = new TensorScope();
    const x = randomUniform([7, 2, 3], rng, { requiresGrad: true });
    const [y, hN, cN] = lstmLayer(x, [zeros([1, 2, 5]), zeros([1, 2, 5])], { weights });
    const loss = sum(y);
    loss.backward();
    assert.ok(x.grad && weights[0].wHh.grad && weights[0].bIh.grad, "gradients reached the leaves");
    assert.equal(x.grad!.size, 42);
    assert.equal(hN.shape.join(), "1,2,5");
    assert.equal(cN.shape.join(), "1,2,5");
    releaseGrad(x);
  }
  const ws = weights[0];
  const weightBytes = [ws.wIh, ws.wHh, ws.bIh, ws.bHh].reduce((n, t) => n + t.size * 4 * 2, 0);
  assert.equal(backend.bytesInUse() - before, weightBytes, "only the weights and their .grad remain");
  for (const t of [ws.wIh, ws.wHh, ws.bIh, ws.bHh]) {
    releaseGrad(t);
    t.dispose();
  }
  assert.equal(backend.bytesInUse(), before);
});

Deno.test("gruLayer names the wrong shape or length in its errors", () => {
  using _scope = new TensorScope();
  const rng = new Rng(1);
  const weights = [directionWeights(rng, 3, 3, 4)];
  const x = zeros([5, 2, 3]);
  assert.throws(() => gruLayer(x, zeros([1, 2, 3]), { weights }), /weight_ih must be \[9,3\], got \[12,3\]/);
  assert.throws(() => gruLayer(zeros([5, 3]), zeros([1, 2, 4]), { weights }), /x must be \[T, N, I\]/);
  assert.throws(
    () => gruLayer(x, zeros([1, 2, 4]), { weights, lengths: [5, 6] }),
    /length 6 is outside 1..5/,
  );
  assert.throws(() => gruLayer(x, zeros([1, 2, 4]), { weights, lengths: [5] }), /1 lengths for a batch of 2/);
  assert.throws(() => gruLayer(x, zeros([2, 2, 4]), { weights }), /h0 must be \[1,2,4\]/);
});

Deno.test("gruLayer leaves the GEMM thread count as it found it", () => {
  using _scope = new TensorScope();
  const before = blasInfo().threads;
  if (blasInfo().implementation !== "openblas") {
    console.warn("rnn_test: OpenBLAS not loaded; the thread count is not used by the TypeScript GEMM");
  }
  setBlasThreads(2);
  try {
    const rng = new Rng(2);
    gruLayer(randomUniform([4, 2, 3], rng), zeros([1, 2, 5]), { weights: [directionWeights(rng, 3, 3, 5)] });
    assert.equal(blasInfo().threads, blasInfo().implementation === "openblas" ? 2 : before);
  } finally {
    setBlasThreads(before);
  }
});
