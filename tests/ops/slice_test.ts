import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import { narrow, resolveSlice, slice } from "../../ops/slice.ts";

Deno.test("resolveSlice clamps like Python slicing", () => {
  const r = resolveSlice([10], [{ start: -100, end: 100, step: 3 }]);
  assert.deepEqual(r.starts, [0]);
  assert.deepEqual(r.sliceShape, [4]); // 0, 3, 6, 9
  assert.deepEqual(resolveSlice([10], [{ start: 8, end: 2 }]).sliceShape, [0]);
  assert.deepEqual(resolveSlice([10], [{ start: -2 }]).sliceShape, [2]);
});

Deno.test("slice rejects zero, negative and fractional steps and too many ranges", () => {
  using _scope = new TensorScope();
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => slice(x, [{ step: 0 }]), /step 0 on axis 0 must be a positive integer/);
  assert.throws(() => slice(x, [null, { step: -1 }]), /step -1 on axis 1/);
  assert.throws(() => slice(x, [{ step: 1.5 }]), /step 1.5/);
  assert.throws(() => slice(x, [null, null, null]), /3 ranges for a tensor of rank 2/);
});

Deno.test("slice picks every other element from the end of a row", () => {
  using _scope = new TensorScope();
  const x = tensor([0, 1, 2, 3, 4, 5, 6, 7], [2, 4]);
  const s = slice(x, [{ start: 1 }, { start: 1, step: 2 }]);
  assert.deepEqual(s.shape, [1, 2]);
  assert.deepEqual([...s.dataSync()], [5, 7]);
});

Deno.test("narrow checks its range instead of clamping", () => {
  using _scope = new TensorScope();
  const x = tensor(new Float32Array(10), [2, 5]);
  assert.deepEqual(narrow(x, 1, 3, 2).shape, [2, 2]);
  assert.deepEqual(narrow(x, 0, -1, 1).shape, [1, 5]);
  assert.throws(() => narrow(x, 1, 4, 2), /outside axis 1 of \[2,5\]/);
  assert.throws(() => narrow(x, 2, 0, 1), /axis 2 is out of range/);
});
