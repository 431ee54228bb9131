import assert from "node:assert/strict";
import { add, assign, getBackend, reshape, tensor, zeros } from "../../ops/mod.ts";
import type { CpuBackend } from "../../ops/backends/cpu/backend.ts";

const cpu = () => getBackend("cpu") as CpuBackend;

Deno.test("a disposed cpu array is handed out again, zeroed, for the same dtype and length", () => {
  const x = tensor([1, 2, 3, 4, 5, 6, 7], [7]);
  const y = add(x, 1);
  const array = y.storage;
  y.dispose();
  const pooled = cpu().pooledBytes();
  assert.ok(pooled >= 28, `pool holds ${pooled} bytes`);
  const z = zeros([7]);
  const w = add(z, z); // a kernel output of the same length takes the pooled array
  assert.equal(w.storage === array || z.storage === array, true);
  assert.deepEqual([...w.dataSync()], [0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("a reshape view keeps its array out of the pool until the view is disposed too", () => {
  const x = add(tensor([1, 2, 3, 4, 5, 6], [6]), 0);
  const v = reshape(x, [2, 3]);
  x.dispose();
  const other = add(tensor([9, 9, 9, 9, 9, 9], [6]), 0); // would reuse x's array if it were pooled
  assert.notEqual(other.storage, v.storage);
  assert.deepEqual([...v.dataSync()], [1, 2, 3, 4, 5, 6]);
  v.dispose();
  assert.deepEqual([...other.dataSync()], [9, 9, 9, 9, 9, 9]);
});

Deno.test("assign moves the source's array into the target and pools the old one", () => {
  const target = tensor([1, 1, 1], [3]);
  const source = add(tensor([1, 2, 3], [3]), 1);
  const before = cpu().bytesInUse();
  assign(target, source);
  assert.equal(source.isDisposed, true);
  assert.deepEqual([...target.dataSync()], [2, 3, 4]);
  assert.equal(cpu().bytesInUse(), before - 12);
});
