/**
 * WebAssembly SIMD kernel of `sum` over float32: the input is walked as rows of its (collapsed)
 * last axis, each row either summed into one output slot (the last axis is reduced) or added
 * element by element into the output row at its slot (the last axis is kept). Accumulation is
 * in float64, as in the TypeScript kernel (cpu/reduce_sum.ts): each f32x4 is widened into two
 * f64x2 accumulators. Row slots are computed on the host (one odometer step a row) into a table of
 * (row address, accumulator address) pairs; the rows themselves run in WASM.
 *
 * Threads (thread_pool.ts): the output slots are cut into contiguous ranges, and each thread
 * walks, in the original order, the rows that add into its slots; every slot then sees its rows'
 * sums in the same order however many threads run, so the result is bit-identical to one
 * thread's. A sum whose rows all go to one slot (all rows, or bias gradients [rows, C] over axis 0)
 * stays on one thread.
 *
 * Returns false (the caller runs the TypeScript kernel) for other dtypes or arrays off the heap.
 */
import type { TypedArray } from "../../../dtype.ts";
import { ValType, WasmCode } from "./encoder.ts";
import { heapAlloc, heapFree, onHeap } from "./memory.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { at, compileKernel, emitLanes, emitTableWalk } from "./row_loops.ts";
import { kernelThreadsFor, runShares } from "./thread_pool.ts";

type SumKernel = (table: number, count: number, inner: number) => void;

/** Lanes 2, 3 of the first operand moved to lanes 0, 1 (for f64x2.promote_low_f32x4). */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * (table, count, inner): for each of the `count` (row address, accumulator address) pairs at
 * `table`, the float64 accumulator gathers the row of `inner` float32s.
 */
function build(innerReduced: boolean): SumKernel {
  const c = new WasmCode(3);
  const [TABLE, COUNT, INNER] = [0, 1, 2];
  const p = c.local(ValType.i32), a = c.local(ValType.i32);
  const j = c.local(ValType.i32), nB = c.local(ValType.i32), endV = c.local(ValType.i32);
  const v = c.local(ValType.v128), lo = c.local(ValType.v128), hi = c.local(ValType.v128);
  const aj = c.local(ValType.i32);
  c.get(INNER).i32(2).op("i32.shl").tee(nB).i32(-16).op("i32.and").set(endV);
  emitTableWalk(c, TABLE, COUNT, [p, a], () => {
    if (innerReduced) {
      c.f32x4(0).set(lo).f32x4(0).set(hi);
      emitLanes(c, j, endV, nB, () => {
        at(c, p, j).simdMem("v128.load", 2).set(v);
        c.get(lo).get(v).simd("f64x2.promote_low_f32x4").simd("f64x2.add").set(lo);
        c.get(hi).get(v).get(v).shuffle(HIGH_HALF).simd("f64x2.promote_low_f32x4").simd("f64x2.add").set(hi);
      }, () => {
        c.get(lo);
        at(c, p, j).simdMem("v128.load32_zero", 2).simd("f64x2.promote_low_f32x4").simd("f64x2.add").set(lo);
      });
      c.get(a).get(a).mem("f64.load");
      c.get(lo).get(hi).simd("f64x2.add").set(lo);
      c.get(lo).extractLaneF64(0).get(lo).extractLaneF64(1).op("f64.add");
      c.op("f64.add").mem("f64.store");
    } else {
      emitLanes(c, j, endV, nB, () => {
        at(c, p, j).simdMem("v128.load", 2).set(v);
        c.get(a).get(j).i32(1).op("i32.shl").op("i32.add").set(aj);
        c.get(aj).get(aj).simdMem("v128.load", 3).get(v).simd("f64x2.promote_low_f32x4").simd("f64x2.add");
        c.simdMem("v128.store", 3);
        c.get(aj).get(aj).simdMem("v128.load", 3, 16).get(v).get(v).shuffle(HIGH_HALF);
        c.simd("f64x2.promote_low_f32x4").simd("f64x2.add").simdMem("v128.store", 3, 16);
      }, () => {
        c.get(a).get(j).i32(1).op("i32.shl").op("i32.add").set(aj);
        c.get(aj).get(aj).mem("f64.load");
        at(c, p, j).mem("f32.load").op("f64.promote_f32").op("f64.add").mem("f64.store");
      });
    }
  });
  return compileKernel<SumKernel>("k", [ValType.i32, ValType.i32, ValType.i32], c);
}

const built: SumKernel[] = [];
function kernel(innerReduced: boolean): SumKernel {
  const i = innerReduced ? 1 : 0;
  return built[i] ??= build(innerReduced);
}

/**
 * Sums float32 `src` of `shape` over `axes` into `out` in WASM; false when not applicable.
 * `out` is the reduced tensor's array (row-major over the kept axes).
 */
export function wasmSum(
  src: TypedArray,
  shape: readonly number[],
  axes: readonly number[],
  out: TypedArray,
): boolean {
  if (cpuKernelPath() !== "wasm" || !(src instanceof Float32Array) || !(out instanceof Float32Array)) {
    return false;
  }
  if (!onHeap(src) || src.length === 0) return false;
  // Collapse neighbouring axes that are both reduced or both kept; drop extent-1 axes.
  const dims: number[] = [], reduced: boolean[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const r = axes.includes(i);
    if (dims.length && reduced[dims.length - 1] === r) dims[dims.length - 1] *= shape[i];
    else dims.push(shape[i]), reduced.push(r);
  }
  if (dims.length === 0) dims.push(1), reduced.push(true);
  const rank = dims.length, inner = dims[rank - 1], rows = src.length / inner;
  // Output strides of the kept axes; slot of each row by an odometer over the row axes.
  const ostr = new Array<number>(rank).fill(0);
  for (let i = rank - 1, s = 1; i >= 0; i--) if (!reduced[i]) ostr[i] = s, s *= dims[i];
  const slots = new Int32Array(rows);
  const table = heapAlloc("int32", 2 * rows) as Int32Array | undefined;
  const acc32 = heapAlloc("float32", 2 * out.length);
  if (!table || !acc32) {
    if (table) heapFree(table);
    if (acc32) heapFree(acc32);
    return false;
  }
  const idx = new Int32Array(rank);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    slots[r] = o;
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      o += ostr[ax];
      if (idx[ax] < dims[ax]) break;
      o -= ostr[ax] * dims[ax];
      idx[ax] = 0;
    }
  }
  const parts = Math.min(kernelThreadsFor(src.length + out.length), out.length);
  // Table entries grouped by the share owning their slot, in row order within a share.
  const shareOf = (slot: number): number => Math.floor((slot * parts) / out.length);
  const starts = new Int32Array(parts + 1);
  for (let r = 0; r < rows; r++) starts[shareOf(slots[r]) + 1]++;
  for (let q = 0; q < parts; q++) starts[q + 1] += starts[q];
  const fill = starts.slice(0, parts);
  const rowBytes = 4 * inner;
  for (let r = 0; r < rows; r++) {
    const e = 2 * fill[shareOf(slots[r])]++;
    table[e] = src.byteOffset + r * rowBytes;
    table[e + 1] = acc32.byteOffset + 8 * slots[r];
  }
  const shares: number[][] = [];
  for (let q = 0; q < parts; q++) {
    if (starts[q + 1] > starts[q]) {
      shares.push([table.byteOffset + 8 * starts[q], starts[q + 1] - starts[q], inner]);
    }
  }
  runShares(kernel(reduced[rank - 1]), shares);
  out.set(new Float64Array(acc32.buffer, acc32.byteOffset, out.length));
  heapFree(table);
  heapFree(acc32);
  return true;
}
