/**
 * The cpu backend's WebAssembly heap (ops/backends/cpu/wasm/memory.ts) and the rows walk of the
 * WASM elementwise kernels (row_layout.ts).
 */
import assert from "node:assert/strict";
import { heapAlloc, heapFree, onHeap, sizeClass, wasmMemory } from "../../ops/backends/cpu/wasm/memory.ts";
import { planRows } from "../../ops/backends/cpu/wasm/row_layout.ts";
import { add, concat, permute, slice, tensor } from "../../ops/mod.ts";

Deno.test("heap arrays keep their contents when the memory grows", () => {
  const a = heapAlloc("float32", 8)!;
  a.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const before = wasmMemory.buffer.byteLength;
  const big = heapAlloc("float32", before / 4)!; // more than the whole heap: forces growth
  assert.ok(wasmMemory.buffer.byteLength > before);
  assert.deepEqual([...a], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(onHeap(a) && onHeap(big));
  assert.ok(!onHeap(new Float32Array(4)));
  heapFree(big);
  heapFree(a);
});

Deno.test("a freed block is reused, zeroed, by an array of the same size class", () => {
  const a = heapAlloc("float32", 1000)!;
  a.fill(7);
  const offset = a.byteOffset;
  assert.ok(heapFree(a));
  assert.ok(!heapFree(new Float32Array(3)), "a host array is not the heap's");
  const b = heapAlloc("int32", 990)!; // 3960 bytes: the class of 4000
  assert.equal(b.byteOffset, offset);
  assert.ok(b.every((v) => v === 0));
  assert.equal(b.byteOffset % 16, 0);
  heapFree(b);
});

Deno.test("size classes are 16-byte multiples with at most a quarter octave of slack", () => {
  for (const n of [1, 15, 16, 17, 255, 256, 257, 1000, 4096, 4097, 123457]) {
    const c = sizeClass(n);
    assert.ok(c >= n && c % 16 === 0, `class ${c} of ${n}`);
    assert.ok(n < 256 || c <= n * 1.25 + 16, `class ${c} of ${n} wastes too much`);
  }
});

Deno.test("rows walk: a bias [1, C, 1] over [N, C, T] is one value per row", () => {
  const p = planRows([[2, 3, 5], [1, 3, 1]], [2, 3, 5])!;
  assert.deepEqual(p, {
    rows: 6,
    inner: 5,
    inputs: [{ innerStride: 1, div: 1, mod: 6, rowStride: 5 }, {
      innerStride: 0,
      div: 1,
      mod: 3,
      rowStride: 1,
    }],
  });
});

Deno.test("rows walk: same shapes and scalars collapse to one row", () => {
  const p = planRows([[4, 5, 6], []], [4, 5, 6])!;
  assert.equal(p.rows, 1);
  assert.equal(p.inner, 120);
  assert.deepEqual(p.inputs[1], { innerStride: 0, div: 1, mod: 1, rowStride: 0 });
});

Deno.test("rows walk: a mask [N, 1, T] over [N, C, T] advances once every C rows", () => {
  const p = planRows([[2, 3, 5], [2, 1, 5]], [2, 3, 5])!;
  assert.deepEqual(p.inputs[1], { innerStride: 1, div: 3, mod: 2, rowStride: 5 });
});

Deno.test("rows walk: interleaved broadcast axes are left to the TypeScript kernel", () => {
  // [2, 1, 4, 1] against [1, 3, 1, 5]: input 0 runs on row axes 0 and 2 with axis 1 between them.
  assert.equal(planRows([[2, 1, 4, 1], [1, 3, 1, 5]], [2, 3, 4, 5]), undefined);
});

Deno.test("kernels handed unzeroed outputs (map, permute, slice, concat) write every element", () => {
  // Freed blocks of the outputs' size class hold NaN, so an element a kernel skipped would show.
  const poison = (): void => {
    const blocks = Array.from({ length: 8 }, () => heapAlloc("float32", 24)!);
    for (const b of blocks) b.fill(NaN);
    for (const b of blocks) heapFree(b);
  };
  const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const x = tensor(iota(24), [2, 3, 4]);
  poison();
  assert.deepEqual(
    [...add(x, tensor([10, 20, 30], [3, 1])).dataSync()],
    iota(24).map((v) => v + 10 * (1 + ((v >> 2) % 3))),
  );
  poison();
  assert.deepEqual(
    [...permute(x, [2, 0, 1]).dataSync()],
    iota(24).map((i) => ((i % 6) * 4) + Math.floor(i / 6)),
  );
  poison();
  const wide = tensor(iota(48), [2, 3, 8]);
  assert.deepEqual(
    [...slice(wide, [null, null, { start: 2, end: 6 }]).dataSync()],
    iota(24).map((i) => Math.floor(i / 4) * 8 + 2 + (i % 4)),
  );
  poison();
  const half = tensor(iota(12), [2, 3, 2]);
  assert.deepEqual(
    [...concat([half, half], -1).dataSync()],
    iota(24).map((i) => Math.floor(i / 4) * 2 + (i % 2)),
  );
});
