/**
 * The strided copy behind permute, slice, concat and pad (cpu/strided_copy.ts) in WebAssembly,
 * for 4-byte elements (float32, int32) on the heap. Axes are collapsed where both sides are
 * contiguous across them, and extent-1 axes dropped; at most four remain (padded to four).
 * - Rows contiguous on both sides: one memory.copy per row (concat, pad, slice of the last axis).
 * - Otherwise (a transpose, a stepped slice): the two innermost axes are copied in 32 × 32 tiles,
 *   with the axis that reads the source contiguously moved next to the innermost one, so both
 *   sides stay in cache.
 *
 * Returns false (the caller runs the TypeScript copy) for float64, arrays off the heap, or more
 * than four axes after collapsing.
 */
import type { TypedArray } from "../../../dtype.ts";
import { ValType, WasmCode } from "./encoder.ts";
import { onHeap } from "./memory.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { compileKernel } from "./row_loops.ts";

const TILE = 32;
type CopyKernel = (dst: number, src: number, ...shapeAndStrides: number[]) => void;

/** `for (i = 0; i < n; i++) body()` with `n` a local. */
function emitFor(c: WasmCode, i: number, n: number, body: () => void): void {
  c.i32(0).set(i);
  c.begin("block").begin("loop");
  c.get(i).get(n).op("i32.ge_u").brIf(1);
  body();
  c.get(i).i32(1).op("i32.add").set(i);
  c.br(0).end().end();
}

/**
 * Params: dst, src, n0..n3, ds0..ds3, ss0..ss3 (strides in bytes). `rows`: axis 3 is contiguous
 * on both sides and copied with memory.copy; else axes 2 and 3 go in tiles.
 */
function build(rows: boolean): CopyKernel {
  const nParams = 14;
  const c = new WasmCode(nParams);
  const DST = 0, SRC = 1, N = [2, 3, 4, 5], DS = [6, 7, 8, 9], SS = [10, 11, 12, 13];
  const i = [0, 1, 2, 3].map(() => c.local(ValType.i32));
  const d = [0, 1, 2].map(() => c.local(ValType.i32)), s = [0, 1, 2].map(() => c.local(ValType.i32));
  // d[k], s[k]: byte offsets after fixing axes 0..k
  const offsets = (k: number): void => {
    c.get(k === 0 ? DST : d[k - 1]).get(i[k]).get(DS[k]).op("i32.mul").op("i32.add").set(d[k]);
    c.get(k === 0 ? SRC : s[k - 1]).get(i[k]).get(SS[k]).op("i32.mul").op("i32.add").set(s[k]);
  };
  if (rows) {
    const nBytes = c.local(ValType.i32);
    c.get(N[3]).i32(2).op("i32.shl").set(nBytes);
    emitFor(c, i[0], N[0], () => {
      offsets(0);
      emitFor(c, i[1], N[1], () => {
        offsets(1);
        emitFor(c, i[2], N[2], () => {
          offsets(2);
          c.get(d[2]).get(s[2]).get(nBytes).memoryCopy();
        });
      });
    });
  } else {
    const c0 = c.local(ValType.i32), c1 = c.local(ValType.i32), e0 = c.local(ValType.i32);
    const e1 = c.local(ValType.i32), dp = c.local(ValType.i32), sp = c.local(ValType.i32);
    // min(x + TILE, n) into `to`
    const tileEnd = (x: number, n: number, to: number): void => {
      c.get(x).i32(TILE).op("i32.add").get(n).get(x).i32(TILE).op("i32.add").get(n).op("i32.lt_u").op(
        "select",
      ).set(to);
    };
    emitFor(c, i[0], N[0], () => {
      offsets(0);
      emitFor(c, i[1], N[1], () => {
        offsets(1);
        // tiles over axes 2 (c0) and 3 (c1)
        c.i32(0).set(c0);
        c.begin("block").begin("loop");
        c.get(c0).get(N[2]).op("i32.ge_u").brIf(1);
        tileEnd(c0, N[2], e0);
        c.i32(0).set(c1);
        c.begin("block").begin("loop");
        c.get(c1).get(N[3]).op("i32.ge_u").brIf(1);
        tileEnd(c1, N[3], e1);
        c.get(c0).set(i[2]);
        c.begin("block").begin("loop");
        c.get(i[2]).get(e0).op("i32.ge_u").brIf(1);
        // dp = d1 + i2·ds2 + c1·ds3, sp likewise; then e1 − c1 elements along axis 3
        c.get(d[1]).get(i[2]).get(DS[2]).op("i32.mul").op("i32.add").get(c1).get(DS[3]).op("i32.mul").op(
          "i32.add",
        )
          .set(dp);
        c.get(s[1]).get(i[2]).get(SS[2]).op("i32.mul").op("i32.add").get(c1).get(SS[3]).op("i32.mul").op(
          "i32.add",
        )
          .set(sp);
        c.get(e1).get(c1).op("i32.sub").set(i[3]);
        c.begin("block").begin("loop");
        c.get(i[3]).op("i32.eqz").brIf(1);
        c.get(dp).get(sp).mem("i32.load");
        c.mem("i32.store");
        c.get(dp).get(DS[3]).op("i32.add").set(dp);
        c.get(sp).get(SS[3]).op("i32.add").set(sp);
        c.get(i[3]).i32(1).op("i32.sub").set(i[3]);
        c.br(0).end().end();
        c.get(i[2]).i32(1).op("i32.add").set(i[2]);
        c.br(0).end().end();
        c.get(c1).i32(TILE).op("i32.add").set(c1);
        c.br(0).end().end();
        c.get(c0).i32(TILE).op("i32.add").set(c0);
        c.br(0).end().end();
      });
    });
  }
  return compileKernel<CopyKernel>("k", new Array(nParams).fill(ValType.i32), c);
}

const built: CopyKernel[] = [];

/** The copy of cpu/strided_copy.ts in WASM (offsets and strides in elements); false when not applicable. */
export function wasmStridedCopy(
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  shape: readonly number[],
): boolean {
  if (cpuKernelPath() !== "wasm" || dst instanceof Float64Array || src instanceof Float64Array) return false;
  if (!onHeap(dst) || !onHeap(src)) return false;
  // Collapse: drop extent-1 axes; merge k into k+1 when both sides are contiguous across them.
  const n: number[] = [], ds: number[] = [], ss: number[] = [];
  for (let k = 0; k < shape.length; k++) {
    if (shape[k] === 0) return true; // nothing to copy
    if (shape[k] === 1) continue;
    const last = n.length - 1;
    if (last >= 0 && ds[last] === dstStrides[k] * shape[k] && ss[last] === srcStrides[k] * shape[k]) {
      n[last] *= shape[k];
      ds[last] = dstStrides[k];
      ss[last] = srcStrides[k];
    } else {
      n.push(shape[k]);
      ds.push(dstStrides[k]);
      ss.push(srcStrides[k]);
    }
  }
  if (n.length > 4) return false;
  while (n.length < 4) n.unshift(1), ds.unshift(0), ss.unshift(0);
  const rows = ds[3] === 1 && ss[3] === 1;
  if (!rows && ss[3] !== 1) {
    // Move the axis that reads the source contiguously next to the innermost one.
    const k = [0, 1, 2].findLast((k) => ss[k] === 1 && n[k] > 1);
    if (k !== undefined && k !== 2) {
      [n[k], n[2]] = [n[2], n[k]];
      [ds[k], ds[2]] = [ds[2], ds[k]];
      [ss[k], ss[2]] = [ss[2], ss[k]];
    }
  }
  const kernel = built[rows ? 1 : 0] ??= build(rows);
  kernel(
    dst.byteOffset + 4 * dstOffset,
    src.byteOffset + 4 * srcOffset,
    ...n,
    ...ds.map((v) => 4 * v),
    ...ss.map((v) => 4 * v),
  );
  return true;
}
