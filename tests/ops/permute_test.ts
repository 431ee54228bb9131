import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import { inversePermutation, permute, transpose } from "../../ops/permute.ts";

Deno.test("permute rejects a list that is not a permutation of the axes", () => {
  using _scope = new TensorScope();
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => permute(x, [0, 0]), /not a permutation of the 2 axes of \[2,3\]/);
  assert.throws(() => permute(x, [0]), /not a permutation/);
  assert.throws(() => permute(x, [0, 2]), /Axis 2 is out of range/);
});

Deno.test("inversePermutation undoes a permutation", () => {
  assert.deepEqual(inversePermutation([2, 0, 1]), [1, 2, 0]);
  using _scope = new TensorScope();
  const x = tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
  const back = permute(permute(x, [2, 0, 1]), inversePermutation([2, 0, 1]));
  assert.deepEqual(back.shape, [2, 3, 4]);
  assert.deepEqual([...back.dataSync()], [...x.dataSync()]);
});

Deno.test("transpose of a matrix swaps rows and columns", () => {
  using _scope = new TensorScope();
  const t = transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3]));
  assert.deepEqual(t.shape, [3, 2]);
  assert.deepEqual([...t.dataSync()], [1, 4, 2, 5, 3, 6]);
});
