/**
 * The WebAssembly encoder (ops/backends/cpu/wasm/encoder.ts): LEB128 against the spec's
 * examples, and modules it emits validate and compute what their instructions say, scalar and
 * SIMD, over a plain and a shared memory.
 */
import assert from "node:assert/strict";
import { encodeModule, sleb128, uleb128, ValType, WasmCode } from "../../ops/backends/cpu/wasm/encoder.ts";

Deno.test("uleb128 encodes 0, 127, 128 and the spec's 624485", () => {
  assert.deepEqual(uleb128(0), [0]);
  assert.deepEqual(uleb128(127), [0x7f]);
  assert.deepEqual(uleb128(128), [0x80, 0x01]);
  assert.deepEqual(uleb128(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(uleb128(2 ** 32 - 1), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.throws(() => uleb128(-1), /non-negative integer/);
});

Deno.test("sleb128 encodes the sign in the last byte's bit 6", () => {
  assert.deepEqual(sleb128(0), [0]);
  assert.deepEqual(sleb128(-1), [0x7f]);
  assert.deepEqual(sleb128(63), [0x3f]);
  assert.deepEqual(sleb128(64), [0xc0, 0x00]);
  assert.deepEqual(sleb128(-64), [0x40]);
  assert.deepEqual(sleb128(-65), [0xbf, 0x7f]);
  assert.deepEqual(sleb128(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(sleb128(-(2 ** 31)), [0x80, 0x80, 0x80, 0x80, 0x78]);
  assert.throws(() => sleb128(2 ** 31), /int32/);
});

Deno.test("locals of one type are declared as one run", () => {
  const c = new WasmCode(1);
  assert.equal(c.local(ValType.i32), 1);
  assert.equal(c.local(ValType.i32), 2);
  assert.equal(c.local(ValType.v128), 3);
  // size, 2 runs: (2 × i32), (1 × v128), then `end`
  assert.deepEqual(c.encode(), [6, 2, 2, ValType.i32, 1, ValType.v128, 0x0b]);
});

function instantiate(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): WebAssembly.Exports {
  assert.ok(WebAssembly.validate(bytes), "module does not validate");
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
}

Deno.test("a scalar function with a loop computes 1 + 2 + ... + n", () => {
  const c = new WasmCode(1);
  const acc = c.local(ValType.i32);
  c.begin("block").begin("loop");
  c.get(0).op("i32.eqz").brIf(1);
  c.get(acc).get(0).op("i32.add").set(acc);
  c.get(0).i32(1).op("i32.sub").set(0);
  c.br(0).end().end();
  c.get(acc);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const bytes = encodeModule([{ name: "tri", params: [ValType.i32], results: [ValType.i32], code: c }], {
    memory: { minPages: 1, maxPages: 1, shared: false },
  });
  const tri = instantiate(bytes, memory).tri as (n: number) => number;
  assert.equal(tri(100), 5050);
  assert.equal(tri(0), 0);
});

Deno.test("SIMD loads, f32x4 arithmetic, bitselect and a lane store act on shared memory", () => {
  // out[0..3] = x > 0 ? x * y : -1 ; out[4] = lane 0 of x + y
  const c = new WasmCode(3);
  const vx = c.local(ValType.v128), vy = c.local(ValType.v128);
  c.get(0).simdMem("v128.load", 2).set(vx);
  c.get(1).simdMem("v128.load", 2).set(vy);
  c.get(2);
  c.get(vx).get(vy).simd("f32x4.mul").f32x4(-1).get(vx).f32x4(0).simd("f32x4.gt").simd("v128.bitselect");
  c.simdMem("v128.store", 2);
  c.get(2).get(vx).get(vy).simd("f32x4.add").storeLane32(0, 16);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  const bytes = encodeModule(
    [{ name: "k", params: [ValType.i32, ValType.i32, ValType.i32], results: [], code: c }],
    { memory: { minPages: 1, maxPages: 4, shared: true } },
  );
  const k = instantiate(bytes, memory).k as (x: number, y: number, out: number) => void;
  const f = new Float32Array(memory.buffer, 0, 16);
  f.set([2, -3, 0.5, 0], 0);
  f.set([4, 5, 6, 7], 4);
  k(0, 16, 32);
  assert.deepEqual([...f.subarray(8, 13)], [8, -1, 3, -1, 6]);
});
