import assert from "node:assert/strict";
import { add, assign, getBackend, relu, reshape, tensor, zeros } from "../../ops/mod.ts";
import type { CpuBackend } from "../../ops/backends/cpu/backend.ts";

const cpu = () => getBackend("cpu") as CpuBackend;

Deno.test("a disposed cpu host array is handed out again, zeroed, for the same dtype and length", () => {
  // float64 arrays are host arrays and go through the pool (float32 lives on the WASM heap).
  const x = tensor([1, 2, 3, 4, 5, 6, 7], [7], { dtype: "float64" });
  const y = add(x, 1);
  const array = y.storage;
  y.dispose();
  const pooled = cpu().pooledBytes();
  assert.ok(pooled >= 56, `pool holds ${pooled} bytes`);
  const z = zeros([7], { dtype: "float64" });
  const w = add(z, z); // a kernel output of the same length takes the pooled array
  assert.equal(w.storage === array || z.storage === array, true);
  assert.deepEqual([...w.dataSync()], [0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("a disposed float32 array's WASM heap block is handed out again, zeroed", () => {
  const y = add(tensor([1, 2, 3, 4, 5, 6, 7], [7]), 1);
  const block = (y.storage as Float32Array).byteOffset;
  y.dispose();
  const z = zeros([7]);
  const w = add(z, z);
  const offsets = [(z.storage as Float32Array).byteOffset, (w.storage as Float32Array).byteOffset];
  assert.ok(offsets.includes(block), `block ${block} not reused by ${offsets}`);
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

Deno.test("the branch-free cpu ReLU equals Math.max(x, 0) at every edge value, float32 and float64", () => {
  const edges = [
    NaN,
    -Infinity,
    Infinity,
    -0,
    0,
    -1e-45,
    1e-45,
    -3.4e38,
    3.4e38,
    -1.5,
    2.25,
    1.7e308,
    -1.7e308,
    Number.MAX_VALUE,
  ];
  for (const dtype of ["float32", "float64"] as const) {
    const values = dtype === "float32" ? [...Float32Array.from(edges)] : edges;
    // Random signs too, so the loop runs long enough to be optimised.
    const input = [...values, ...Array.from({ length: 4000 }, (_, i) => Math.sin(i * 7.1) * 10)];
    const x = tensor(input, [input.length], { dtype });
    const y = relu(x);
    const got = [...y.dataSync()];
    const want = dtype === "float32"
      ? [...Float32Array.from(input, (v) => Math.max(v, 0))]
      : input.map((v) => Math.max(v, 0));
    for (let i = 0; i < input.length; i++) {
      assert.ok(Object.is(got[i], want[i]), `${dtype} relu(${input[i]}) = ${got[i]}`);
    }
    x.dispose();
    y.dispose();
  }
});

Deno.test("the branch-free ReLU gradient equals a select at every edge value (a zero's sign aside)", () => {
  const xs = [NaN, -Infinity, Infinity, -0, 0, -2, 3, 1e-45, -1e-45];
  const gs = [NaN, -Infinity, Infinity, -0, 0, -1.5, 2.5];
  const xv: number[] = [], gv: number[] = [];
  for (const x of xs) for (const g of gs) xv.push(x), gv.push(g);
  for (let i = 0; i < 4000; i++) xv.push(Math.sin(i * 7.1)), gv.push(Math.cos(i * 3.3));
  for (const dtype of ["float32", "float64"] as const) {
    const x = tensor(dtype === "float32" ? [...Float32Array.from(xv)] : xv, [xv.length], {
      dtype,
      requiresGrad: true,
    });
    relu(x).backward(tensor(gv, [gv.length], { dtype }));
    const got = [...x.grad!.dataSync()];
    const xs32 = [...x.dataSync()];
    const want = gv.map((g, i) => xs32[i] > 0 ? (dtype === "float32" ? Math.fround(g) : g) : 0);
    for (let i = 0; i < gv.length; i++) {
      const same = Object.is(got[i], want[i]) || (got[i] === 0 && want[i] === 0);
      assert.ok(same, `${dtype} relu'(${xs32[i]}) · ${gv[i]} = ${got[i]}, want ${want[i]}`);
    }
    x.dispose();
  }
});
