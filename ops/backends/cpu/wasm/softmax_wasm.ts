/**
 * WebAssembly SIMD kernels of softmax, logSoftmax and their backward ops along an axis whose
 * elements are contiguous (nothing after the axis but extent-1 axes: the last-axis softmax of
 * logits and attention), as rows of n float32s: max, then Σ exp(x − max) with the exp of
 * simd_math.ts, then the scaling, four lanes at a time with a 1–3 element tail.
 *
 * Accumulation is float32 over four lanes (the TypeScript kernel, cpu/reduce.ts, accumulates in
 * float64); a NaN in a row makes the whole row NaN, an all −∞ row gives NaN, as there.
 * Returns false (the caller runs the TypeScript kernel) for float64, strided axes, or arrays off
 * the heap. Large calls split their rows across threads (thread_pool.ts); rows are independent,
 * so the result does not depend on the split.
 */
import type { TypedArray } from "../../../dtype.ts";
import { ValType, WasmCode } from "./encoder.ts";
import { emitExp, emitLog } from "./simd_math.ts";
import { onHeap } from "./memory.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { at, compileKernel, emitHorizontal, emitLanes, emitRows } from "./row_loops.ts";
import { runRowRanges } from "./thread_pool.ts";

type RowKernel = (...args: number[]) => void;

/** Lane 0 only: masks the tail's garbage lanes out of a sum. */
function lane0(c: WasmCode): void {
  c.i32x4Lanes(-1, 0, 0, 0);
}

/** (x, out, rows, n): softmax or log-softmax of each row. */
function buildForward(isLog: boolean): RowKernel {
  const c = new WasmCode(4);
  const [X, OUT, ROWS, N] = [0, 1, 2, 3];
  const xr = c.local(ValType.i32), or = c.local(ValType.i32), j = c.local(ValType.i32);
  const nB = c.local(ValType.i32), endV = c.local(ValType.i32);
  const m4 = c.local(ValType.v128), s4 = c.local(ValType.v128), mv = c.local(ValType.v128);
  const e = c.local(ValType.v128), m = c.local(ValType.f32), tot = c.local(ValType.f32);
  c.get(N).i32(2).op("i32.shl").tee(nB).i32(-16).op("i32.and").set(endV);
  emitRows(c, ROWS, nB, [X, OUT], [xr, or], () => {
    c.f32x4(-Infinity).set(m4);
    emitLanes(c, j, endV, nB, () => {
      c.get(m4);
      at(c, xr, j).simdMem("v128.load", 2).simd("f32x4.max").set(m4);
    }, () => {
      c.get(m4);
      at(c, xr, j).simdMem("v128.load32_splat", 2).simd("f32x4.max").set(m4);
    });
    // m = max, or 0 when the row is all −∞ (exp then gives 0s and the result is NaN)
    emitHorizontal(c, m4, "f32.max");
    c.set(m).f32(0).get(m).get(m).f32(-Infinity).op("f32.eq").op("select").tee(m);
    c.simd("f32x4.splat").set(mv);
    c.f32x4(0).set(s4);
    const expAt = (load: "v128.load" | "v128.load32_zero"): void => {
      at(c, xr, j).simdMem(load, 2).get(mv).simd("f32x4.sub");
      emitExp(c);
      c.set(e);
    };
    emitLanes(c, j, endV, nB, () => {
      expAt("v128.load");
      if (!isLog) at(c, or, j).get(e).simdMem("v128.store", 2);
      c.get(s4).get(e).simd("f32x4.add").set(s4);
    }, () => {
      expAt("v128.load32_zero");
      if (!isLog) at(c, or, j).get(e).storeLane32(0);
      c.get(s4).get(e);
      lane0(c);
      c.simd("v128.and").simd("f32x4.add").set(s4);
    });
    emitHorizontal(c, s4, "f32.add");
    c.set(tot);
    if (isLog) {
      // out = x − (m + log Σ)
      c.get(tot).simd("f32x4.splat");
      emitLog(c);
      c.extractLaneF32(0).get(m).op("f32.add").simd("f32x4.splat").set(mv);
      emitLanes(c, j, endV, nB, () => {
        at(c, or, j);
        at(c, xr, j).simdMem("v128.load", 2).get(mv).simd("f32x4.sub").simdMem("v128.store", 2);
      }, () => {
        at(c, or, j);
        at(c, xr, j).simdMem("v128.load32_zero", 2).get(mv).simd("f32x4.sub").storeLane32(0);
      });
    } else {
      c.f32(1).get(tot).op("f32.div").simd("f32x4.splat").set(mv);
      emitLanes(c, j, endV, nB, () => {
        at(c, or, j);
        at(c, or, j).simdMem("v128.load", 2).get(mv).simd("f32x4.mul").simdMem("v128.store", 2);
      }, () => {
        at(c, or, j);
        at(c, or, j).simdMem("v128.load32_zero", 2).get(mv).simd("f32x4.mul").storeLane32(0);
      });
    }
  });
  return compileKernel<RowKernel>("k", [ValType.i32, ValType.i32, ValType.i32, ValType.i32], c);
}

/**
 * (g, y, out, rows, n): softmax: s = Σ g·y, dx = y·(g − s); log-softmax: s = Σ g, dx = g − exp(y)·s.
 */
function buildBackward(isLog: boolean): RowKernel {
  const c = new WasmCode(5);
  const [G, Y, OUT, ROWS, N] = [0, 1, 2, 3, 4];
  const gr = c.local(ValType.i32), yr = c.local(ValType.i32), or = c.local(ValType.i32);
  const j = c.local(ValType.i32), nB = c.local(ValType.i32), endV = c.local(ValType.i32);
  const s4 = c.local(ValType.v128), sv = c.local(ValType.v128);
  c.get(N).i32(2).op("i32.shl").tee(nB).i32(-16).op("i32.and").set(endV);
  const term = (load: "v128.load" | "v128.load32_zero"): void => {
    at(c, gr, j).simdMem(load, 2);
    if (!isLog) at(c, yr, j).simdMem(load, 2).simd("f32x4.mul");
  };
  const dx = (load: "v128.load" | "v128.load32_zero"): void => {
    if (isLog) {
      at(c, gr, j).simdMem(load, 2);
      at(c, yr, j).simdMem(load, 2);
      emitExp(c);
      c.get(sv).simd("f32x4.mul").simd("f32x4.sub");
    } else {
      at(c, yr, j).simdMem(load, 2);
      at(c, gr, j).simdMem(load, 2).get(sv).simd("f32x4.sub").simd("f32x4.mul");
    }
  };
  emitRows(c, ROWS, nB, [G, Y, OUT], [gr, yr, or], () => {
    c.f32x4(0).set(s4);
    emitLanes(c, j, endV, nB, () => {
      c.get(s4);
      term("v128.load");
      c.simd("f32x4.add").set(s4);
    }, () => {
      c.get(s4);
      term("v128.load32_zero");
      c.simd("f32x4.add").set(s4); // the zeroed lanes add 0 (g·y and g are 0 there)
    });
    emitHorizontal(c, s4, "f32.add");
    c.simd("f32x4.splat").set(sv);
    emitLanes(c, j, endV, nB, () => {
      at(c, or, j);
      dx("v128.load");
      c.simdMem("v128.store", 2);
    }, () => {
      at(c, or, j);
      dx("v128.load32_zero");
      c.storeLane32(0);
    });
  });
  return compileKernel<RowKernel>("k", [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32], c);
}

const built = new Map<string, RowKernel>();
function kernel(name: string): RowKernel {
  let k = built.get(name);
  if (!k) {
    k = name.endsWith("Backward")
      ? buildBackward(name.startsWith("log"))
      : buildForward(name.startsWith("log"));
    built.set(name, k);
  }
  return k;
}

/** Whether the axis is contiguous in memory (only extent-1 axes after it). */
function innerIsOne(shape: readonly number[], axis: number): boolean {
  for (let i = axis + 1; i < shape.length; i++) if (shape[i] !== 1) return false;
  return true;
}

function usable(arrays: readonly TypedArray[]): boolean {
  return cpuKernelPath() === "wasm" && arrays.every((a) => a instanceof Float32Array && onHeap(a));
}

/** softmax / logSoftmax of `src` into `out` along `axis` in WASM; false when not applicable. */
export function wasmSoftmax(
  isLog: boolean,
  src: TypedArray,
  out: TypedArray,
  shape: readonly number[],
  axis: number,
): boolean {
  if (!usable([src, out]) || !innerIsOne(shape, axis) || src.length === 0) return false;
  const n = shape[axis], x = src.byteOffset, o = out.byteOffset;
  // Rows are independent: threads take contiguous row ranges (thread_pool.ts).
  runRowRanges(kernel(isLog ? "logSoftmax" : "softmax"), src.length / n, 2 * src.length, (lo, hi) => {
    const offset = 4 * n * lo;
    return [x + offset, o + offset, hi - lo, n];
  });
  return true;
}

/** softmaxBackward / logSoftmaxBackward in WASM; false when not applicable. */
export function wasmSoftmaxBackward(
  isLog: boolean,
  g: TypedArray,
  y: TypedArray,
  out: TypedArray,
  shape: readonly number[],
  axis: number,
): boolean {
  if (!usable([g, y, out]) || !innerIsOne(shape, axis) || g.length === 0) return false;
  const n = shape[axis], gp = g.byteOffset, yp = y.byteOffset, o = out.byteOffset;
  const name = isLog ? "logSoftmaxBackward" : "softmaxBackward";
  runRowRanges(kernel(name), g.length / n, 3 * g.length, (lo, hi) => {
    const offset = 4 * n * lo;
    return [gp + offset, yp + offset, o + offset, hi - lo, n];
  });
  return true;
}
