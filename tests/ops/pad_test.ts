import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import { pad } from "../../ops/pad.ts";

Deno.test("pad reads its amounts from the last axis backwards, like F.pad", () => {
  using _scope = new TensorScope();
  const x = tensor([1, 2, 3, 4], [2, 2]);
  // [left, right] of the last axis, then [top, bottom] of the first.
  const y = pad(x, [1, 0, 0, 1], { value: 9 });
  assert.deepEqual(y.shape, [3, 3]);
  assert.deepEqual([...y.dataSync()], [9, 1, 2, 9, 3, 4, 9, 9, 9]);
});

Deno.test("pad rejects odd, fractional and too many amounts, and crops past zero", () => {
  using _scope = new TensorScope();
  const x = tensor(new Float32Array(4), [4]);
  assert.throws(() => pad(x, [1]), /do not form \(before, after\) pairs for rank 1/);
  assert.throws(() => pad(x, [1, 1, 1, 1]), /pairs for rank 1/);
  assert.throws(() => pad(x, [0.5, 0]), /must be integers/);
  assert.throws(() => pad(x, [-3, -2]), /leaves a negative extent/);
  assert.deepEqual(pad(x, [-2, -2]).shape, [0]);
});

Deno.test("pad with no amounts copies its input", () => {
  using _scope = new TensorScope();
  const x = tensor([1, 2, 3], [3]);
  assert.deepEqual([...pad(x, []).dataSync()], [1, 2, 3]);
});
