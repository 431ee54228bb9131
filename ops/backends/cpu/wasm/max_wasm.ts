/**
 * WebAssembly SIMD kernel of `max` over float32 when the reduced axes are one contiguous run,
 * viewed as [outer, n, inner] (cpu/reduce.ts): with inner = 1 each row of n is reduced four
 * lanes at a time and then across lanes; otherwise the n rows of `inner` are folded into the
 * output row with f32x4.max. NaN propagates (f32x4.max returns NaN when either lane is NaN), as
 * in the TypeScript kernel and PyTorch.
 *
 * Returns false (the caller runs the TypeScript kernel) for int32, arrays off the heap, or
 * reduced axes that are not one run.
 */
import type { TypedArray } from "../../../dtype.ts";
import { ValType, WasmCode } from "./encoder.ts";
import { onHeap } from "./memory.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { at, compileKernel, emitHorizontal, emitLanes } from "./row_loops.ts";
import { runRowRanges } from "./thread_pool.ts";

type MaxKernel = (src: number, out: number, outer: number, n: number, inner: number) => void;

/** (src, out, outer, n, inner); `out` holds −∞ on entry. */
function build(innerIsOne: boolean): MaxKernel {
  const c = new WasmCode(5);
  const [SRC, OUT, OUTER, N, INNER] = [0, 1, 2, 3, 4];
  const p = c.local(ValType.i32), k = c.local(ValType.i32), s = c.local(ValType.i32);
  const o = c.local(ValType.i32), j = c.local(ValType.i32), nB = c.local(ValType.i32);
  const endV = c.local(ValType.i32), m = c.local(ValType.v128);
  const len = innerIsOne ? N : INNER;
  c.get(len).i32(2).op("i32.shl").tee(nB).i32(-16).op("i32.and").set(endV);
  c.get(SRC).set(s);
  c.i32(0).set(p);
  c.begin("block").begin("loop");
  c.get(p).get(OUTER).op("i32.ge_u").brIf(1);
  if (innerIsOne) {
    c.f32x4(-Infinity).set(m);
    emitLanes(c, j, endV, nB, () => {
      c.get(m);
      at(c, s, j).simdMem("v128.load", 2).simd("f32x4.max").set(m);
    }, () => {
      c.get(m);
      at(c, s, j).simdMem("v128.load32_splat", 2).simd("f32x4.max").set(m);
    });
    c.get(OUT).get(p).i32(2).op("i32.shl").op("i32.add");
    emitHorizontal(c, m, "f32.max");
    c.mem("f32.store");
    c.get(s).get(nB).op("i32.add").set(s);
  } else {
    c.get(OUT).get(p).get(nB).op("i32.mul").op("i32.add").set(o);
    c.i32(0).set(k);
    c.begin("block").begin("loop");
    c.get(k).get(N).op("i32.ge_u").brIf(1);
    emitLanes(c, j, endV, nB, () => {
      at(c, o, j);
      at(c, o, j).simdMem("v128.load", 2);
      at(c, s, j).simdMem("v128.load", 2).simd("f32x4.max").simdMem("v128.store", 2);
    }, () => {
      at(c, o, j);
      at(c, o, j).simdMem("v128.load32_zero", 2);
      at(c, s, j).simdMem("v128.load32_zero", 2).simd("f32x4.max").storeLane32(0);
    });
    c.get(s).get(nB).op("i32.add").set(s);
    c.get(k).i32(1).op("i32.add").set(k);
    c.br(0).end().end();
  }
  c.get(p).i32(1).op("i32.add").set(p);
  c.br(0).end().end();
  return compileKernel<MaxKernel>("k", new Array(5).fill(ValType.i32), c);
}

const built: MaxKernel[] = [];

/** max of float32 `src` over the run [outer, n, inner] into `out` (filled with −∞); false when not applicable. */
export function wasmMax(
  src: TypedArray,
  out: TypedArray,
  split: readonly [number, number, number] | null,
): boolean {
  if (
    cpuKernelPath() !== "wasm" || !split || !(src instanceof Float32Array) || !(out instanceof Float32Array)
  ) {
    return false;
  }
  if (!onHeap(src) || !onHeap(out) || src.length === 0) return false;
  const [outer, n, inner] = split;
  const innerIsOne = inner === 1;
  const kernel = built[innerIsOne ? 1 : 0] ??= build(innerIsOne);
  const s = src.byteOffset, o = out.byteOffset;
  // The outer rows are independent: threads take contiguous ranges of them (thread_pool.ts).
  runRowRanges(
    kernel,
    outer,
    src.length + out.length,
    (lo, hi) => [s + 4 * n * inner * lo, o + 4 * inner * lo, hi - lo, n, inner],
  );
  return true;
}
