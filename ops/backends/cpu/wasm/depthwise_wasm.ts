/**
 * The inner loops of the depthwise convolution (cpu/conv_depthwise.ts) in WebAssembly SIMD, for
 * float32 with stride 1 along the width (QuartzNet's separable convolutions), one row at a time:
 * - forward: y[t] += Σ_j w[j]·x[t + j·dilation] over a row's interior columns, sixteen outputs at
 *   a time (four f32x4 sums, each tap's weight splatted once per sixteen), then four, then one;
 *   the caller queues every row of a call (`queueForward`) and `runForward` runs the queue in one
 *   kernel call, cut at output-row-group boundaries across threads (thread_pool.ts) when large:
 *   each output row's kernel rows are then added in the same order on one thread, so the result
 *   is bit-identical to one thread's;
 * - backward-filter: acc[j] += Σ_t dy[t]·row[t + j·dilation] (row: the zero-padded input row),
 *   four lanes of float32 per tap, each row's dot product added into the float64 accumulator;
 *   queued and run the same way, grouped by accumulator (one per output channel and kernel
 *   row), so each accumulator sums its rows in the same order on one thread.
 * The caller keeps its loops over samples, channels and kernel rows, and the edge columns.
 */
import type { Floats } from "../conv_buffers.ts";
import { ValType, WasmCode } from "./encoder.ts";
import { heapAlloc, heapFree, onHeap } from "./memory.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { compileKernel, emitHorizontal, emitTableWalk } from "./row_loops.ts";
import { runRowRanges } from "./thread_pool.ts";

/** (table, count, n, kw, dilationBytes) over `count` address triples at `table`. */
type TableKernel = (table: number, count: number, n: number, kw: number, dilationBytes: number) => void;

/** Emits `while (t + step ≤ nB) { body(); t += step }` with `t`, `nB` locals (bytes). */
function whileFits(c: WasmCode, t: number, nB: number, step: number, body: () => void): void {
  c.begin("block").begin("loop");
  c.get(t).i32(step).op("i32.add").get(nB).op("i32.gt_u").brIf(1);
  body();
  c.get(t).i32(step).op("i32.add").set(t);
  c.br(0).end().end();
}

/** (table, count, n, kw, dilationBytes): the forward row of each (x, w, y) address triple at `table`. */
function buildForwardRows(): TableKernel {
  const c = new WasmCode(5);
  const [TABLE, COUNT, N, KW, DB] = [0, 1, 2, 3, 4];
  const X = c.local(ValType.i32), W = c.local(ValType.i32), Y = c.local(ValType.i32);
  const t = c.local(ValType.i32), nB = c.local(ValType.i32), xp = c.local(ValType.i32);
  const wp = c.local(ValType.i32), j = c.local(ValType.i32), wv = c.local(ValType.v128);
  const acc = [0, 1, 2, 3].map(() => c.local(ValType.v128));
  c.get(N).i32(2).op("i32.shl").set(nB);
  /** Σ over taps into `lanes` accumulators of `width` vectors; `load` reads x at xp + 16k. */
  const taps = (count: number, load: "v128.load" | "v128.load32_zero"): void => {
    for (let k = 0; k < count; k++) c.f32x4(0).set(acc[k]);
    c.get(X).get(t).op("i32.add").set(xp);
    c.get(W).set(wp);
    c.get(KW).set(j);
    c.begin("block").begin("loop");
    c.get(j).op("i32.eqz").brIf(1);
    c.get(wp).simdMem("v128.load32_splat", 2).set(wv);
    for (let k = 0; k < count; k++) {
      c.get(acc[k]).get(xp).simdMem(load, 2, 16 * k).get(wv).simd("f32x4.mul").simd("f32x4.add").set(acc[k]);
    }
    c.get(xp).get(DB).op("i32.add").set(xp);
    c.get(wp).i32(4).op("i32.add").set(wp);
    c.get(j).i32(1).op("i32.sub").set(j);
    c.br(0).end().end();
  };
  emitTableWalk(c, TABLE, COUNT, [X, W, Y], () => {
    c.i32(0).set(t);
    whileFits(c, t, nB, 64, () => {
      taps(4, "v128.load");
      for (let k = 0; k < 4; k++) {
        c.get(Y).get(t).op("i32.add");
        c.get(Y).get(t).op("i32.add").simdMem("v128.load", 2, 16 * k).get(acc[k]).simd("f32x4.add");
        c.simdMem("v128.store", 2, 16 * k);
      }
    });
    whileFits(c, t, nB, 16, () => {
      taps(1, "v128.load");
      c.get(Y).get(t).op("i32.add");
      c.get(Y).get(t).op("i32.add").simdMem("v128.load", 2).get(acc[0]).simd("f32x4.add").simdMem(
        "v128.store",
        2,
      );
    });
    whileFits(c, t, nB, 4, () => {
      taps(1, "v128.load32_zero");
      c.get(Y).get(t).op("i32.add");
      c.get(Y).get(t).op("i32.add").simdMem("v128.load32_zero", 2).get(acc[0]).simd("f32x4.add").storeLane32(
        0,
      );
    });
  });
  return compileKernel<TableKernel>("k", new Array(5).fill(ValType.i32), c);
}

/** (table, count, n, kw, dilationBytes): the filter row of each (row, dy, acc) address triple at `table`. */
function buildFilterRows(): TableKernel {
  const c = new WasmCode(5);
  const [TABLE, COUNT, N, KW, DB] = [0, 1, 2, 3, 4];
  const ROW = c.local(ValType.i32), DY = c.local(ValType.i32), ACC = c.local(ValType.i32);
  const j = c.local(ValType.i32), t = c.local(ValType.i32), nB = c.local(ValType.i32);
  const p = c.local(ValType.i32), a = c.local(ValType.i32), s = c.local(ValType.v128);
  c.get(N).i32(2).op("i32.shl").set(nB);
  emitTableWalk(c, TABLE, COUNT, [ROW, DY, ACC], () => {
    c.get(ROW).set(p);
    c.get(ACC).set(a);
    c.get(KW).set(j);
    c.begin("block").begin("loop");
    c.get(j).op("i32.eqz").brIf(1);
    c.f32x4(0).set(s);
    c.i32(0).set(t);
    const term = (load: "v128.load" | "v128.load32_zero"): void => {
      c.get(s);
      c.get(DY).get(t).op("i32.add").simdMem(load, 2);
      c.get(p).get(t).op("i32.add").simdMem(load, 2);
      c.simd("f32x4.mul").simd("f32x4.add").set(s);
    };
    whileFits(c, t, nB, 16, () => term("v128.load"));
    whileFits(c, t, nB, 4, () => term("v128.load32_zero"));
    c.get(a).get(a).mem("f64.load");
    emitHorizontal(c, s, "f32.add");
    c.op("f64.promote_f32").op("f64.add").mem("f64.store");
    c.get(p).get(DB).op("i32.add").set(p);
    c.get(a).i32(8).op("i32.add").set(a);
    c.get(j).i32(1).op("i32.sub").set(j);
    c.br(0).end().end();
  });
  return compileKernel<TableKernel>("k", new Array(5).fill(ValType.i32), c);
}

let forwardRows: TableKernel | undefined;
let filterRows: TableKernel | undefined;

/** Heap copies a depthwise call needs (weights off the heap, padded row, accumulators); free with `release`. */
export class DepthwiseSimd {
  readonly #owned: Float32Array[] = [];
  /** Queued rows: address triples, and where each group (rows writing the same outputs) starts. */
  #queue: number[] = [];
  #groupStarts: number[] = [];
  /** The weights' byte address. */
  readonly wAddress: number;

  private constructor(w: Float32Array | null) {
    if (!w) this.wAddress = 0;
    else if (onHeap(w)) this.wAddress = w.byteOffset;
    else {
      const copy = this.scratch(w.length);
      copy.set(w);
      this.wAddress = copy.byteOffset;
    }
  }

  /**
   * The SIMD rows for float32 arrays with stride 1 along the width, on the WASM path; null
   * otherwise (or when the heap is full), and the caller keeps its TypeScript loops.
   */
  static forCall(x: Floats, w: Floats, out: Floats, strideW: number): DepthwiseSimd | null {
    if (cpuKernelPath() !== "wasm" || strideW !== 1) return null;
    if (!(x instanceof Float32Array) || !(w instanceof Float32Array) || !(out instanceof Float32Array)) {
      return null;
    }
    if (!onHeap(x) || !onHeap(out)) return null;
    try {
      return new DepthwiseSimd(w);
    } catch {
      return null;
    }
  }

  /** The SIMD rows of a backward-filter call (x and dy on the heap), or null as `forCall`. */
  static forFilter(x: Floats, dy: Floats, dWeight: Floats, strideW: number): DepthwiseSimd | null {
    if (cpuKernelPath() !== "wasm" || strideW !== 1 || !(dWeight instanceof Float32Array)) return null;
    if (!(x instanceof Float32Array) || !(dy instanceof Float32Array) || !onHeap(x) || !onHeap(dy)) {
      return null;
    }
    try {
      return new DepthwiseSimd(null);
    } catch {
      return null;
    }
  }

  /** A zeroed heap scratch array, freed by `release`. */
  scratch(length: number): Float32Array {
    const a = heapAlloc("float32", length) as Float32Array | undefined;
    if (!a) throw new RangeError("depthwise: WASM heap full");
    this.#owned.push(a);
    return a;
  }

  /**
   * Queues y[yAt + t] += Σ_j w[wAt + j]·x[xAt + t + j·dilation] for t < n (element indices; n,
   * kw and dilation are those `runForward` is given). `startsGroup`: no later row writes the
   * output rows of earlier ones (a thread boundary may fall before this row).
   */
  queueForward(
    x: Float32Array,
    xAt: number,
    wAt: number,
    y: Float32Array,
    yAt: number,
    startsGroup: boolean,
  ): void {
    this.#enqueue(x.byteOffset + 4 * xAt, this.wAddress + 4 * wAt, y.byteOffset + 4 * yAt, startsGroup);
  }

  /** Runs the queued forward rows (in queue order within each group) and empties the queue. */
  runForward(n: number, kw: number, dilation: number): void {
    this.#run(forwardRows ??= buildForwardRows(), n, kw, dilation);
  }

  /**
   * Queues acc[j] += Σ_t dy[dyAt + t]·row[rowAt + t + j·dilation] for j < kw, t < n (n, kw and
   * dilation those `runFilter` is given); `acc` is float64 on the heap, from its element `accAt`.
   * `startsGroup` as for `queueForward`: no later row adds into earlier rows' accumulator.
   */
  queueFilter(
    row: Float32Array,
    rowAt: number,
    dy: Float32Array,
    dyAt: number,
    acc: Float64Array,
    accAt: number,
    startsGroup: boolean,
  ): void {
    this.#enqueue(
      row.byteOffset + 4 * rowAt,
      dy.byteOffset + 4 * dyAt,
      acc.byteOffset + 8 * accAt,
      startsGroup,
    );
  }

  /** Runs the queued filter rows (in queue order within each group) and empties the queue. */
  runFilter(n: number, kw: number, dilation: number): void {
    this.#run(filterRows ??= buildFilterRows(), n, kw, dilation);
  }

  #enqueue(a: number, b: number, c: number, startsGroup: boolean): void {
    if (startsGroup) this.#groupStarts.push(this.#queue.length / 3);
    this.#queue.push(a, b, c);
  }

  /** Runs `kernel` over the queue, whole groups per thread (thread_pool.ts), and empties it. */
  #run(kernel: TableKernel, n: number, kw: number, dilation: number): void {
    const count = this.#queue.length / 3;
    if (count === 0) return;
    const table = heapAlloc("int32", 3 * count) as Int32Array | undefined;
    if (!table) throw new RangeError("depthwise: WASM heap full");
    table.set(this.#queue);
    const groups = this.#groupStarts;
    groups.push(count);
    const tableAt = table.byteOffset, db = 4 * dilation;
    try {
      runRowRanges(kernel, groups.length - 1, count * n * kw, (lo, hi) => {
        const first = groups[lo];
        return [tableAt + 12 * first, groups[hi] - first, n, kw, db];
      });
    } finally {
      heapFree(table);
      this.#queue = [];
      this.#groupStarts = [];
    }
  }

  /** A zeroed float64 accumulator of `length` on the heap. */
  accumulator(length: number): Float64Array {
    const a = this.scratch(2 * length);
    return new Float64Array(a.buffer, a.byteOffset, length);
  }

  /** Frees the heap copies. */
  release(): void {
    for (const a of this.#owned) heapFree(a);
    this.#owned.length = 0;
  }
}
