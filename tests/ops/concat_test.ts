import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import { concat } from "../../ops/concat.ts";

Deno.test("concat names the mismatching shape and axis", () => {
  using _scope = new TensorScope();
  const a = tensor(new Float32Array(6), [2, 3]);
  const b = tensor(new Float32Array(8), [2, 4]);
  assert.throws(() => concat([a, b], 0), /shape \[2,4\] does not match \[2,3\] outside axis 0/);
  assert.deepEqual(concat([a, b], 1).shape, [2, 7]);
});

Deno.test("concat refuses mixed dtypes, no inputs and 0-d tensors", () => {
  using _scope = new TensorScope();
  const f = tensor([1, 2], [2]);
  const i = tensor(Int32Array.from([1, 2]), [2]);
  assert.throws(() => concat([f, i]), /mixed dtypes float32 and int32/);
  assert.throws(() => concat([]), /needs at least one tensor/);
  assert.throws(() => concat([tensor([1], [])]), /cannot join 0-d tensors/);
});

Deno.test("concat of a single tensor copies it", () => {
  using _scope = new TensorScope();
  const a = tensor([1, 2, 3], [3]);
  const c = concat([a]);
  assert.notEqual(c, a);
  assert.deepEqual([...c.dataSync()], [1, 2, 3]);
});

Deno.test("concat joins int32 tensors", () => {
  using _scope = new TensorScope();
  const c = concat([tensor(Int32Array.from([1, 2]), [1, 2]), tensor(Int32Array.from([3, 4]), [1, 2])], 0);
  assert.equal(c.dtype, "int32");
  assert.deepEqual([...c.dataSync()], [1, 2, 3, 4]);
});
