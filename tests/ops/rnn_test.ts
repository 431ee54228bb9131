/**
 * Behaviour of the RNN layer ops beyond the conformance table (tests/ops/cases/rnn.ts, run by
 * tests/ops/conformance_test.ts): shape errors, padded frames, sequences of different lengths
 * giving the results they give alone, and the tape releasing what the layer kept.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { gruLayer, lstmLayer, type RnnDirectionWeights } from "../../ops/rnn.ts";
import { randomUniform, tensor, zeros } from "../../ops/creation.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { releaseGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { Rng } from "../../ops/random.ts";
import { sum } from "../../ops/reduce_sum.ts";
import type { Tensor } from "../../ops/tensor.ts";
import { assertClose } from "./conformance/harness.ts";
import { blasInfo, setBlasThreads } from "../../ops/backends/cpu/blas.ts";

function directionWeights(rng: Rng, gates: number, I: number, H: number): RnnDirectionWeights {
  const u = (shape: number[]): Tensor =>
    randomUniform(shape, rng, { low: -0.5, high: 0.5, requiresGrad: true });
  return { wIh: u([gates * H, I]), wHh: u([gates * H, H]), bIh: u([gates * H]), bHh: u([gates * H]) };
}

function slice(x: Float32Array | Float64Array | Int32Array, start: number, size: number): number[] {
  return Array.from(x.subarray(start, start + size));
}

Deno.test("gruLayer gives a short sequence in a padded batch the outputs it has alone", () => {
  using _scope = new TensorScope();
  const rng = new Rng(7);
  const [T, I, H] = [6, 3, 4];
  const weights = [directionWeights(rng, 3, I, H), directionWeights(rng, 3, I, H)];
  const x = randomUniform([T, 2, I], rng, { low: -1, high: 1 });
  const h0 = randomUniform([2, 2, H], rng, { low: -1, high: 1 });
  const [y, hN] = gruLayer(x, h0, { weights, lengths: [T, 4] });
  // Sample 1 alone, cut to its 4 frames.
  const xd = x.dataSync(), h0d = h0.dataSync();
  const xAlone = new Float32Array(4 * I);
  for (let t = 0; t < 4; t++) xAlone.set(xd.subarray((t * 2 + 1) * I, (t * 2 + 2) * I), t * I);
  const h0Alone = new Float32Array([...slice(h0d, H, H), ...slice(h0d, 3 * H, H)]);
  const [yA, hNA] = gruLayer(tensor(xAlone, [4, 1, I]), tensor(h0Alone, [2, 1, H]), { weights });
  const yd = y.dataSync(), yAd = yA.dataSync();
  for (let t = 0; t < T; t++) {
    const got = slice(yd, (t * 2 + 1) * 2 * H, 2 * H);
    if (t >= 4) assert.deepEqual(got, new Array(2 * H).fill(0), `frame ${t} past the length is 0`);
    else assertClose(got, slice(yAd, t * 2 * H, 2 * H), 1e-6, `frame ${t}`);
  }
  const hNd = hN.dataSync(), hNAd = hNA.dataSync();
  assertClose(slice(hNd, H, H), slice(hNAd, 0, H), 1e-6, "forward hN (the state after frame 3)");
  assertClose(slice(hNd, 3 * H, H), slice(hNAd, H, H), 1e-6, "reverse hN (the state after frame 0)");
});

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
