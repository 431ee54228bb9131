/**
 * The dropout mask (cpu/dropout.ts) in WebAssembly SIMD: Philox4x32-10 (ops/philox.ts) for four
 * blocks at once, lane l of the word vectors c0..c3 holding block b + l, the 32×32→64-bit
 * products from i64x2.extmul; the four words of each block are then transposed into the sixteen
 * consecutive elements they mask. The same integer rounds as the TypeScript generator, so the
 * same elements are dropped on both paths (and on every backend).
 *
 * Whole groups of 16 elements only: the caller finishes the last 0–15 in TypeScript.
 */
import type { TypedArray } from "../../../dtype.ts";
import { PHILOX } from "../../../philox.ts";
import { ValType, WasmCode } from "./encoder.ts";
import { onHeap } from "./memory.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { compileKernel } from "./row_loops.ts";

type MaskKernel = (
  out: number,
  groups: number,
  key0: number,
  key1: number,
  ctr0: number,
  ctr1: number,
  threshold: number,
  scale: number,
) => void;

/** i8x16.shuffle lanes for 32-bit lanes (0–3 first operand, 4–7 second). */
function lanes32(l: readonly number[]): number[] {
  return l.flatMap((k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3]);
}
const HI_WORDS = lanes32([1, 3, 5, 7]);

function build(): MaskKernel {
  const params = [
    ValType.i32,
    ValType.i32,
    ValType.i32,
    ValType.i32,
    ValType.i32,
    ValType.i32,
    ValType.i32,
    ValType.f32,
  ];
  const c = new WasmCode(params.length);
  const [OUT, GROUPS, KEY0, KEY1, CTR0, CTR1, THRESHOLD, SCALE] = [0, 1, 2, 3, 4, 5, 6, 7];
  const g = c.local(ValType.i32), r = c.local(ValType.i32);
  const w = [0, 1, 2, 3].map(() => c.local(ValType.v128));
  const k0 = c.local(ValType.v128), k1 = c.local(ValType.v128);
  const lo0 = c.local(ValType.v128), hi0 = c.local(ValType.v128), lo1 = c.local(ValType.v128);
  const hi1 = c.local(ValType.v128), thr = c.local(ValType.v128), scale = c.local(ValType.v128);
  const v = [0, 1, 2, 3].map(() => c.local(ValType.v128));
  const t = [0, 1, 2, 3].map(() => c.local(ValType.v128));
  const p = c.local(ValType.i32);
  c.get(THRESHOLD).simd("i32x4.splat").set(thr);
  c.get(SCALE).simd("f32x4.splat").set(scale);
  /** lo/hi 32 bits of m·x for each lane of the v128 local x. */
  const mul = (m: number, x: number, lo: number, hi: number): void => {
    c.get(x).i32x4(m | 0).simd("i32x4.mul").set(lo);
    c.get(x).i32x4(m | 0).simd("i64x2.extmul_low_i32x4_u");
    c.get(x).i32x4(m | 0).simd("i64x2.extmul_high_i32x4_u");
    c.shuffle(HI_WORDS).set(hi);
  };
  c.i32(0).set(g);
  c.begin("block").begin("loop");
  c.get(g).get(GROUPS).op("i32.ge_u").brIf(1);
  // counter [block, 0, ctr0, ctr1] for blocks 4g .. 4g+3
  c.get(g).i32(2).op("i32.shl").simd("i32x4.splat").i32x4Lanes(0, 1, 2, 3).simd("i32x4.add").set(w[0]);
  c.i32x4(0).set(w[1]);
  c.get(CTR0).simd("i32x4.splat").set(w[2]);
  c.get(CTR1).simd("i32x4.splat").set(w[3]);
  c.get(KEY0).simd("i32x4.splat").set(k0);
  c.get(KEY1).simd("i32x4.splat").set(k1);
  c.i32(0).set(r);
  c.begin("block").begin("loop");
  c.get(r).i32(PHILOX.rounds).op("i32.ge_u").brIf(1);
  // Weyl key bump before every round but the first
  c.get(r).begin("if");
  c.get(k0).i32x4(PHILOX.w0 | 0).simd("i32x4.add").set(k0);
  c.get(k1).i32x4(PHILOX.w1 | 0).simd("i32x4.add").set(k1);
  c.end();
  mul(PHILOX.m0, w[0], lo0, hi0);
  mul(PHILOX.m1, w[2], lo1, hi1);
  c.get(hi1).get(w[1]).simd("v128.xor").get(k0).simd("v128.xor").set(w[0]);
  c.get(lo1).set(w[1]);
  c.get(hi0).get(w[3]).simd("v128.xor").get(k1).simd("v128.xor").set(w[2]);
  c.get(lo0).set(w[3]);
  c.get(r).i32(1).op("i32.add").set(r);
  c.br(0).end().end();
  // v_j = (w_j >>> 8) < threshold ? 0 : scale
  for (let j = 0; j < 4; j++) {
    c.f32x4(0).get(scale).get(w[j]).i32(8).simd("i32x4.shr_u").get(thr).simd("i32x4.lt_s").simd(
      "v128.bitselect",
    );
    c.set(v[j]);
  }
  // transpose: element 4l + j of the group is v_j lane l
  c.get(v[0]).get(v[1]).shuffle(lanes32([0, 4, 1, 5])).set(t[0]);
  c.get(v[0]).get(v[1]).shuffle(lanes32([2, 6, 3, 7])).set(t[1]);
  c.get(v[2]).get(v[3]).shuffle(lanes32([0, 4, 1, 5])).set(t[2]);
  c.get(v[2]).get(v[3]).shuffle(lanes32([2, 6, 3, 7])).set(t[3]);
  c.get(OUT).get(g).i32(6).op("i32.shl").op("i32.add").set(p);
  c.get(p).get(t[0]).get(t[2]).shuffle(lanes32([0, 1, 4, 5])).simdMem("v128.store", 2, 0);
  c.get(p).get(t[0]).get(t[2]).shuffle(lanes32([2, 3, 6, 7])).simdMem("v128.store", 2, 16);
  c.get(p).get(t[1]).get(t[3]).shuffle(lanes32([0, 1, 4, 5])).simdMem("v128.store", 2, 32);
  c.get(p).get(t[1]).get(t[3]).shuffle(lanes32([2, 3, 6, 7])).simdMem("v128.store", 2, 48);
  c.get(g).i32(1).op("i32.add").set(g);
  c.br(0).end().end();
  return compileKernel<MaskKernel>("k", params, c);
}

let kernel: MaskKernel | undefined;

/**
 * Writes the mask's whole groups of 16 elements into `out` in WASM; returns how many elements
 * it wrote (0 when not applicable: float64, off the heap, or the TypeScript path).
 */
export function wasmDropoutMask(
  out: TypedArray,
  key: readonly [number, number],
  counter: readonly [number, number],
  threshold: number,
  scale: number,
): number {
  if (cpuKernelPath() !== "wasm" || !(out instanceof Float32Array) || !onHeap(out)) return 0;
  const groups = Math.floor(out.length / 16);
  if (groups === 0) return 0;
  kernel ??= build();
  kernel(out.byteOffset, groups, key[0] | 0, key[1] | 0, counter[0] | 0, counter[1] | 0, threshold, scale);
  return groups * 16;
}
