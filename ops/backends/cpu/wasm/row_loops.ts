/**
 * Loop shapes shared by the WASM row kernels (softmax, reductions): a walk over `rows` rows of
 * `n` float32s, and within a row the four-lane loop with its 1–3 element tail. Helpers emit
 * into a `WasmCode`; the kernel files say what happens per vector.
 */
import { encodeModule, ValType, type ValTypeByte, type WasmCode } from "./encoder.ts";
import { HEAP_MAX_PAGES, wasmMemory } from "./memory.ts";
import { registerPooledKernel } from "./thread_pool.ts";

/**
 * `for (j = 0; j < endV; j += 16) vec(); for (; j < endB; j += 4) tail();` over the byte offset
 * local `j`; `tail` sees one element, loaded into lane 0 (load32_zero) or all lanes (splat).
 */
export function emitLanes(
  c: WasmCode,
  j: number,
  endV: number,
  endB: number,
  vec: () => void,
  tail: () => void,
): void {
  c.i32(0).set(j);
  c.begin("block").begin("loop");
  c.get(j).get(endV).op("i32.ge_u").brIf(1);
  vec();
  c.get(j).i32(16).op("i32.add").set(j);
  c.br(0).end().end();
  c.begin("block").begin("loop");
  c.get(j).get(endB).op("i32.ge_u").brIf(1);
  tail();
  c.get(j).i32(4).op("i32.add").set(j);
  c.br(0).end().end();
}

/** Reduces the f32x4 in local `v` to one f32 on the stack with `op` (lanes 0+1, 2+3, then both). */
export function emitHorizontal(c: WasmCode, v: number, op: "f32.add" | "f32.max"): void {
  c.get(v).extractLaneF32(0).get(v).extractLaneF32(1).op(op);
  c.get(v).extractLaneF32(2).get(v).extractLaneF32(3).op(op);
  c.op(op);
}

/**
 * `for (e = table; e < table + count·entry; e += entry) { fields[k] = i32 at e + 4k; body(); }`,
 * entry = 4 · fields.length bytes: the walk of the kernels that take a table of addresses built on
 * the host (sum's rows and slots, depthwise's rows), so a thread runs any contiguous part of it.
 */
export function emitTableWalk(
  c: WasmCode,
  table: number,
  count: number,
  fields: readonly number[],
  body: () => void,
): void {
  const e = c.local(ValType.i32), end = c.local(ValType.i32), entryBytes = 4 * fields.length;
  c.get(table).set(e);
  c.get(table).get(count).i32(entryBytes).op("i32.mul").op("i32.add").set(end);
  c.begin("block").begin("loop");
  c.get(e).get(end).op("i32.ge_u").brIf(1);
  fields.forEach((f, k) => c.get(e).mem("i32.load", 4 * k).set(f));
  body();
  c.get(e).i32(entryBytes).op("i32.add").set(e);
  c.br(0).end().end();
}

/** `address + j` for a v128 memory access. */
export function at(c: WasmCode, address: number, j: number): WasmCode {
  return c.get(address).get(j).op("i32.add");
}

/** Compiles one exported function `name` over the heap; thread_pool.ts may run it on Workers too. */
export function compileKernel<F>(name: string, params: readonly ValTypeByte[], code: WasmCode): F {
  const bytes = encodeModule([{ name, params, results: [], code }], {
    memory: { minPages: 1, maxPages: HEAP_MAX_PAGES, shared: true },
  });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: wasmMemory } });
  const fn = instance.exports[name] as CallableFunction;
  registerPooledKernel(fn, bytes);
  return fn as F;
}

/** Row pointers: the body of `for (row = 0; row < rows; row++) { p_k = base_k + row·rowBytes; body(); }`. */
export function emitRows(
  c: WasmCode,
  rowsParam: number,
  rowBytes: number,
  bases: readonly number[],
  pointers: readonly number[],
  body: () => void,
): void {
  const row = c.local(ValType.i32);
  c.i32(0).set(row);
  c.begin("block").begin("loop");
  c.get(row).get(rowsParam).op("i32.ge_u").brIf(1);
  bases.forEach((b, k) => c.get(b).get(row).get(rowBytes).op("i32.mul").op("i32.add").set(pointers[k]));
  body();
  c.get(row).i32(1).op("i32.add").set(row);
  c.br(0).end().end();
}
