import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { releaseGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import {
  logSoftmax,
  logsumexp,
  max,
  mean,
  softmax,
  softmaxBackward,
  softmaxBackwardComposite,
} from "../../ops/reduce.ts";
import { sum } from "../../ops/reduce_sum.ts";

Deno.test("max shares the gradient evenly between tied maxima, like torch.amax", () => {
  using _scope = new TensorScope();
  const x = tensor([3, 1, 3, 3, 2, 0], [2, 3], { requiresGrad: true });
  const m = max(x, 1);
  assert.deepEqual([...m.dataSync()], [3, 3]);
  sum(m).backward();
  // Row 0 has two 3s (half each); row 1 has one maximum.
  assert.deepEqual([...x.grad!.dataSync()], [0.5, 0, 0.5, 1, 0, 0]);
  releaseGrad(x);
});

Deno.test("max propagates NaN like PyTorch", () => {
  using _scope = new TensorScope();
  const m = max(tensor([1, NaN, 5, 2], [4]));
  assert.ok(Number.isNaN(m.dataSync()[0]));
});

Deno.test("max works on int32 tensors", () => {
  using _scope = new TensorScope();
  const m = max(tensor(Int32Array.from([-5, -2, -9, 7]), [2, 2]), 1);
  assert.equal(m.dtype, "int32");
  assert.deepEqual([...m.dataSync()], [-2, 7]);
});

Deno.test("max over an empty axis is an error that names the axis", () => {
  using _scope = new TensorScope();
  assert.throws(() => max(tensor([], [2, 0]), 1), /cannot reduce the empty axis 1 of \[2,0\]/);
});

Deno.test("mean over an empty axis is NaN, as in PyTorch", () => {
  using _scope = new TensorScope();
  const m = mean(tensor([], [2, 0]), 1);
  assert.deepEqual(m.shape, [2]);
  assert.ok([...m.dataSync()].every(Number.isNaN));
});

Deno.test("logsumexp is +Infinity when an input is +Infinity", () => {
  using _scope = new TensorScope();
  assert.deepEqual([...logsumexp(tensor([1, Infinity, 3], [3])).dataSync()], [Infinity]);
});

Deno.test("softmax rows sum to one in float32 for logits spread over 200", () => {
  using _scope = new TensorScope();
  const x = tensor(Float32Array.from({ length: 40 }, (_, i) => (i % 8) * 25 - 100), [5, 8]);
  const s = [...sum(softmax(x), 1).dataSync()];
  for (const v of s) assert.ok(Math.abs(v - 1) < 1e-6, `row sum ${v}`);
});

Deno.test("logSoftmax equals x minus logsumexp along the same axis", () => {
  using _scope = new TensorScope();
  const x = tensor(Float64Array.from({ length: 12 }, (_, i) => Math.sin(i) * 4), [3, 4]);
  const a = logSoftmax(x, 0).dataSync();
  const lse = logsumexp(x, 0).dataSync();
  const xs = x.dataSync();
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(a[i] - (xs[i] - lse[i % 4])) < 1e-12);
});

Deno.test("softmax and logsumexp refuse int32 tensors by name", () => {
  using _scope = new TensorScope();
  const i = tensor(Int32Array.from([1, 2]), [2]);
  assert.throws(() => softmax(i), /softmax: needs a float tensor/);
  assert.throws(() => logsumexp(i), /logsumexp: needs a float tensor/);
  assert.throws(() => mean(i), /mean: needs a float tensor/);
});

Deno.test("softmax rejects an axis outside the tensor", () => {
  using _scope = new TensorScope();
  assert.throws(() => softmax(tensor([1, 2], [2]), 1), /Axis 1 is out of range for rank 1/);
});

Deno.test("the one-pass softmax backward kernels agree with the composite formula", () => {
  using _scope = new TensorScope();
  const g = tensor(Float64Array.from({ length: 24 }, (_, i) => Math.cos(i)), [2, 3, 4]);
  const x = tensor(Float64Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3), [2, 3, 4]);
  for (const axis of [0, 1, 2]) {
    for (const isLog of [false, true]) {
      const y = isLog ? logSoftmax(x, axis) : softmax(x, axis);
      const fused = softmaxBackward(g, y, { axis, isLog }).dataSync();
      const composite = softmaxBackwardComposite(g, y, { axis, isLog }).dataSync();
      for (let i = 0; i < 24; i++) {
        assert.ok(Math.abs(fused[i] - composite[i]) < 1e-12, `axis ${axis} log ${isLog} at ${i}`);
      }
    }
  }
});
