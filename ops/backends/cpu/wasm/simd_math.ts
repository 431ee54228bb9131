/**
 * Vectorised exp, log, tanh and pow on f32x4, emitted inline into a kernel body: each takes its
 * argument(s) from the wasm stack and leaves the result there, using fresh locals of the body.
 *
 * Algorithms (Cephes' single-precision expf/logf/tanhf, S. L. Moshier, with his minimax
 * coefficients; Cody–Waite range reduction):
 * - exp(x) = 2^n · p(r), n = round(x·log2 e), r = x − n·ln2 (ln2 split in two), p of degree 7;
 *   x is clamped to [−105, 89] first, and 2^n applied as 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that subnormal
 *   results and overflow to +∞ come out of the same two multiplications.
 * - log(x) = e·ln2 + log1p(m − 1), x = m·2^e with m in [√½, √2) (subnormals are scaled by 2^23
 *   first), log1p by a degree-9 polynomial; x < 0 → NaN, 0 → −∞, +∞ → +∞, NaN → NaN.
 * - tanh(x) = x + x³·q(x²) for |x| < 0.625, else sign(x)·(1 − 2 / (exp(2|x|) + 1)).
 * - pow(x, y) = exp(y·log|x|), negated for x < 0 and odd integer y, NaN for finite x < 0 and
 *   non-integer y, 1 for y = 0 (JavaScript's Math.pow cases, except (−∞)^y which follows |x|).
 *
 * Measured accuracy against Math.exp / Math.log / Math.tanh rounded to float32
 * (tests/ops/cpu_wasm_math_test.ts prints the worst case of each): exp ≤ 1.00 ulp over
 * [−104, 89] in steps of 2^-7 (subnormal results counted in units of 2^-149), log ≤ 1.00 ulp
 * over 512 points per octave from 2^-149 to 2^128, tanh ≤ 1.00 ulp over [−12, 12] in steps of
 * 2^-9; exactly right at 0, −0, subnormals, ±Infinity, NaN, overflow (exp(89) = ∞) and underflow
 * (exp(−105) = 0). pow is within 1e-6 relative on the tested grid and matches Math.pow's
 * special cases there. The conformance suite asks 1e-4.
 */
import { ValType, type WasmCode } from "./encoder.ts";

const LOG2E = 1.44269504088896341;
const LN2_HI = 0.693359375;
/** 1.5·2^23 and its bits: x + ROUND_MAGIC rounds x (|x| < 2^22) to an integer held in the low bits. */
const ROUND_MAGIC = 12582912;
const ROUND_MAGIC_BITS = 0x4b400000;
const LN2_LO = -2.12194440e-4;
const EXP_POLY = [
  1.9875691500e-4,
  1.3981999507e-3,
  8.3334519073e-3,
  4.1665795894e-2,
  1.6666665459e-1,
  5.0000001201e-1,
];
const LOG_POLY = [
  7.0376836292e-2,
  -1.1514610310e-1,
  1.1676998740e-1,
  -1.2420140846e-1,
  1.4249322787e-1,
  -1.6668057665e-1,
  2.0000714765e-1,
  -2.4999993993e-1,
  3.3333331174e-1,
];
const TANH_POLY = [
  -5.70498872745e-3,
  2.06390887954e-2,
  -5.37397155531e-2,
  1.33314422036e-1,
  -3.33332819422e-1,
];

/** Horner's rule over the local `z`, leaving c0·z^(k−1) + … + c(k−1) on the stack. */
function horner(c: WasmCode, z: number, coeffs: readonly number[]): void {
  c.f32x4(coeffs[0]);
  for (let i = 1; i < coeffs.length; i++) c.get(z).simd("f32x4.mul").f32x4(coeffs[i]).simd("f32x4.add");
}

/** exp of the v128 on the stack. */
export function emitExp(c: WasmCode): void {
  const x = c.local(ValType.v128), n = c.local(ValType.v128), r = c.local(ValType.v128);
  const ni = c.local(ValType.v128), half = c.local(ValType.v128), t = c.local(ValType.v128);
  // x = clamp(x, −105, 89): keeps n within what two scalings by normal powers of two reach.
  // pmin(x, 89) is 89 < x ? 89 : x, so a NaN x passes (and costs one instruction, not min's six).
  c.f32x4(89).simd("f32x4.pmin").f32x4(-105).simd("f32x4.pmax").set(x);
  // n = round(x·log2 e) by adding 1.5·2^23: the sum's low mantissa bits hold n as an integer (t, ni
  // below), which replaces f32x4.nearest and the costly i32x4.trunc_sat_f32x4_s.
  c.get(x).f32x4(LOG2E).simd("f32x4.mul").f32x4(ROUND_MAGIC).simd("f32x4.add").tee(t);
  c.f32x4(ROUND_MAGIC).simd("f32x4.sub").set(n);
  // r = x − n·ln2_hi − n·ln2_lo
  c.get(x).get(n).f32x4(LN2_HI).simd("f32x4.mul").simd("f32x4.sub");
  c.get(n).f32x4(LN2_LO).simd("f32x4.mul").simd("f32x4.sub").set(r);
  // p = 1 + r + r²·P(r)
  horner(c, r, EXP_POLY);
  c.get(r).get(r).simd("f32x4.mul").simd("f32x4.mul").get(r).simd("f32x4.add").f32x4(1).simd("f32x4.add");
  // × 2^⌊n/2⌋ × 2^(n−⌊n/2⌋), each built from its exponent bits
  c.get(t).i32x4(ROUND_MAGIC_BITS).simd("i32x4.sub").set(ni);
  c.get(ni).i32(1).simd("i32x4.shr_s").set(half);
  c.get(half).i32x4(127).simd("i32x4.add").i32(23).simd("i32x4.shl").simd("f32x4.mul");
  c.get(ni).get(half).simd("i32x4.sub").i32x4(127).simd("i32x4.add").i32(23).simd("i32x4.shl").simd(
    "f32x4.mul",
  );
}

/** Natural log of the v128 on the stack. */
export function emitLog(c: WasmCode): void {
  const x0 = c.local(ValType.v128), x = c.local(ValType.v128), sub = c.local(ValType.v128);
  const e = c.local(ValType.v128), m = c.local(ValType.v128), small = c.local(ValType.v128);
  const z = c.local(ValType.v128), y = c.local(ValType.v128);
  c.set(x0);
  // Subnormals: scale by 2^23 and take 23 off the exponent.
  c.get(x0).f32x4(1.1754943508222875e-38).simd("f32x4.lt").set(sub);
  c.get(x0).f32x4(8388608).simd("f32x4.mul").get(x0).get(sub).simd("v128.bitselect").set(x);
  // e = biased exponent − 126 (so m lands in [0.5, 1)), m = mantissa with exponent of 0.5
  c.get(x).i32(23).simd("i32x4.shr_u").i32x4(126).simd("i32x4.sub");
  c.get(sub).i32x4(23).simd("v128.and").simd("i32x4.sub").simd("f32x4.convert_i32x4_s").set(e);
  c.get(x).i32x4(0x007fffff).simd("v128.and").i32x4(0x3f000000).simd("v128.or").set(m);
  // m < √½: e −= 1, m = 2m − 1; else m = m − 1
  c.get(m).f32x4(0.707106781186547524).simd("f32x4.lt").set(small);
  c.get(e).get(small).f32x4(1).simd("v128.and").simd("f32x4.sub").set(e);
  c.get(m).get(m).get(small).simd("v128.and").simd("f32x4.add").f32x4(1).simd("f32x4.sub").set(m);
  c.get(m).get(m).simd("f32x4.mul").set(z);
  // y = m·z·P(m) − z/2 + e·ln2_lo; result m + y + e·ln2_hi
  horner(c, m, LOG_POLY);
  c.get(m).simd("f32x4.mul").get(z).simd("f32x4.mul");
  c.get(e).f32x4(LN2_LO).simd("f32x4.mul").simd("f32x4.add");
  c.get(z).f32x4(0.5).simd("f32x4.mul").simd("f32x4.sub").set(y);
  c.get(m).get(y).simd("f32x4.add").get(e).f32x4(LN2_HI).simd("f32x4.mul").simd("f32x4.add");
  // Specials, innermost first: +∞ → +∞, 0 → −∞, x < 0 or NaN → NaN.
  c.set(y);
  c.f32x4(Infinity).get(y).get(x0).f32x4(Infinity).simd("f32x4.eq").simd("v128.bitselect").set(y);
  c.f32x4(-Infinity).get(y).get(x0).f32x4(0).simd("f32x4.eq").simd("v128.bitselect").set(y);
  c.get(y).f32x4(NaN).get(x0).f32x4(0).simd("f32x4.ge").simd("v128.bitselect");
}

/** tanh of the v128 on the stack. */
export function emitTanh(c: WasmCode): void {
  const x = c.local(ValType.v128), ax = c.local(ValType.v128), z = c.local(ValType.v128);
  const big = c.local(ValType.v128);
  c.tee(x).simd("f32x4.abs").set(ax);
  // Large: 1 − 2 / (exp(2|x|) + 1), with x's sign.
  c.f32x4(1).f32x4(2).get(ax).get(ax).simd("f32x4.add");
  emitExp(c);
  c.f32x4(1).simd("f32x4.add").simd("f32x4.div").simd("f32x4.sub");
  c.get(x).i32x4(-0x80000000).simd("v128.and").simd("v128.or").set(big);
  // Small: x + x·z·Q(z), z = x²
  c.get(x).get(x).simd("f32x4.mul").set(z);
  horner(c, z, TANH_POLY);
  c.get(z).simd("f32x4.mul").get(x).simd("f32x4.mul").get(x).simd("f32x4.add");
  c.get(big).get(ax).f32x4(0.625).simd("f32x4.lt").simd("v128.bitselect");
}

/** x^y with x, y the two v128s on the stack (x pushed first). */
export function emitPow(c: WasmCode): void {
  const x = c.local(ValType.v128), y = c.local(ValType.v128), r = c.local(ValType.v128);
  const isInt = c.local(ValType.v128), odd = c.local(ValType.v128), hy = c.local(ValType.v128);
  c.set(y).set(x);
  c.get(y).get(x).simd("f32x4.abs");
  emitLog(c);
  c.simd("f32x4.mul");
  emitExp(c);
  c.set(r);
  c.get(y).simd("f32x4.nearest").get(y).simd("f32x4.eq").set(isInt);
  // odd: y/2 not an integer while y is (every float32 ≥ 2^24 is even)
  c.get(y).f32x4(0.5).simd("f32x4.mul").tee(hy).simd("f32x4.floor").get(hy).simd("f32x4.ne");
  c.get(isInt).simd("v128.and").set(odd);
  // negate for a negative x (sign bit, so −0 too) and odd integer y
  c.get(r).get(odd).get(x).simd("v128.and").i32x4(-0x80000000).simd("v128.and").simd("v128.xor").set(r);
  // NaN for finite x < 0 and non-integer y
  c.f32x4(NaN).get(r);
  c.get(x).f32x4(0).simd("f32x4.lt").get(x).f32x4(-Infinity).simd("f32x4.ne").simd("v128.and");
  c.get(isInt).simd("v128.andnot").simd("v128.bitselect");
  c.set(r);
  // y = 0 → 1
  c.f32x4(1).get(r).get(y).f32x4(0).simd("f32x4.eq").simd("v128.bitselect");
}
