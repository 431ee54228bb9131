/**
 * The WebAssembly SIMD path of `logMelSpectrogram`: framing, window, real FFT, |X|^2, the sparse
 * mel projection and the log in one generated kernel, four frames at a time with frame i in lane
 * i. Frames are independent, so the transform needs no shuffles (only the framing transposes
 * 4x4 blocks of samples), and the four results of a mel row are four consecutive values of the
 * [nMels, nFrames] matrix: one v128 store.
 *
 * The transform is the one fft.ts computes: the nFft real samples packed as h = nFft/2 complex
 * ones (z[t] = x[2t] + i x[2t+1]), a mixed-radix Stockham autosort FFT (radix 4 stages, at most
 * one radix 2, then radix 3 and 5, in fft.ts's order), then the untangling X[k] = (Z[k] + conj
 * Z[h-k]) / 2 + e^{-2 pi i k / n} (Z[k] - conj Z[h-k]) / 2i fused with the squared magnitude.
 * Everything runs in float32 (the TypeScript path keeps the FFT and the mel sums in float64), and
 * the log is simd_math.ts's (within 1 ulp).
 *
 * Memory layout (on the cpu backend's shared heap): the signal, padded as the STFT pads it; a
 * frame buffer of nFft v128 (sample i of the four frames at byte 16 i), two work buffers of h
 * lane-complex values (32 bytes each: four real parts, then four imaginary parts), the power
 * spectrum (h + 1 v128), and the constant tables (window, twiddles, mel weights) whose addresses
 * are baked into the code, so a plan and its tables live as long as the process.
 *
 * Not handled (the caller runs the TypeScript path): nFft below 8, odd, or with a prime factor
 * above 5 in nFft/2, and a heap that cannot hold the signal. Nor the dB spectrogram
 * (`logSpectrogram`): its single bins 120 dB below a frame's peak sit at float32's rounding floor
 * (0.1 dB off librosa's float64 FFT there, 8e-4 of the range against the tests' 1e-4), where the
 * mel sums average that rounding away.
 */
import { ValType, WasmCode } from "../../ops/backends/cpu/wasm/encoder.ts";
import { heapAlloc, heapFree } from "../../ops/backends/cpu/wasm/memory.ts";
import { compileKernel } from "../../ops/backends/cpu/wasm/row_loops.ts";
import { emitLog } from "../../ops/backends/cpu/wasm/simd_math.ts";
import type { StftLayout } from "./stft.ts";

/** Bytes of one v128: one value of four frames. */
const V = 16;
/** Bytes of one lane-complex value: a v128 of real parts, then one of imaginary parts. */
const C = 32;

/** A mel filterbank as per-row spans of nonzero columns over a dense [nRows, nCols] matrix. */
export interface FilterbankRows {
  nRows: number;
  nCols: number;
  /** First nonzero column of each row. */
  start: Int32Array;
  /** One past the last nonzero column of each row. */
  end: Int32Array;
  /** The dense weights, row-major. */
  weights: Float32Array;
}

/** (signal, out, nGroups, outRowBytes): byte addresses of frame 0's first sample and of out[0, 0]. */
type StftKernel = (signal: number, out: number, nGroups: number, outRowBytes: number) => void;

interface Plan {
  kernel: StftKernel;
  /** Scratch [nRows, 4] for the last, partial group of frames. */
  tail: Float32Array;
  /** Output rows, one per mel filter. */
  nRows: number;
  /**
   * The heap arrays whose addresses the kernel has baked in, held so that the heap's
   * FinalizationRegistry never hands their blocks to other arrays.
   */
  tables: Float32Array[];
}

/** The radices of an n-point transform in fft.ts's order (4s, one 2, 3s, 5s), or null past radix 5. */
function radices(n: number): number[] | null {
  const out: number[] = [];
  for (const r of [4, 2, 3, 5]) {
    while (n % r === 0 && !(r === 2 && out.includes(2))) {
      out.push(r);
      n /= r;
    }
  }
  return n === 1 ? out : null;
}

/** A float32 array on the heap that the plan keeps for good, or null when the heap is full. */
function table(values: ArrayLike<number>): Float32Array | null {
  const a = heapAlloc("float32", Math.max(values.length, 4)) as Float32Array | undefined;
  if (a === undefined) return null;
  for (let i = 0; i < values.length; i++) a[i] = values[i];
  return a;
}

/** A byte address as an i32.const immediate (addresses at or past 2^31 wrap to negative int32s). */
function addr(a: number): number {
  return a | 0;
}

/** Loads the f32 at byte `address` of the table into all four lanes. */
function splat(c: WasmCode, address: number): void {
  c.i32(0).simdMem("v128.load32_splat", 2, address);
}

/** (ar, ai) * (br, bi), both pairs v128 locals, leaving the real part then the imaginary part. */
function complexMul(c: WasmCode, ar: number, ai: number, br: number, bi: number): void {
  c.get(ar).get(br).simd("f32x4.mul").get(ai).get(bi).simd("f32x4.mul").simd("f32x4.sub");
  c.get(ar).get(bi).simd("f32x4.mul").get(ai).get(br).simd("f32x4.mul").simd("f32x4.add");
}

/** `for (ptr = from; ptr != to; ptr += step) body()` over an i32 local holding a byte address. */
function emitPointerLoop(
  c: WasmCode,
  ptr: number,
  from: number,
  to: number,
  step: number,
  body: () => void,
): void {
  c.i32(addr(from)).set(ptr);
  c.begin("loop");
  body();
  c.get(ptr).i32(step).op("i32.add").tee(ptr).i32(addr(to)).op("i32.ne").brIf(0);
  c.end();
}

const SIN_3 = Math.sqrt(3) / 2;
const C1_5 = Math.cos((2 * Math.PI) / 5);
const C2_5 = Math.cos((4 * Math.PI) / 5);
const S1_5 = Math.sin((2 * Math.PI) / 5);
const S2_5 = Math.sin((4 * Math.PI) / 5);

/** dst = x op y over v128 locals. */
function vop(c: WasmCode, op: "f32x4.add" | "f32x4.sub", x: number, y: number, dst: number): void {
  c.get(x).get(y).simd(op).set(dst);
}

/**
 * The radix-point DFT of the inputs a (re, im local pairs) without twiddles, fft.ts's butterflies
 * (radix 4 with (a1 - a3)(-i); 3 and 5 in their symmetric forms). Returns the locals of y_j as
 * (re, im) pairs; `t` are scratch locals (at least 8).
 */
function emitButterfly(c: WasmCode, radix: number, a: number[], t: number[]): number[] {
  if (radix === 2) {
    vop(c, "f32x4.add", a[0], a[2], t[0]);
    vop(c, "f32x4.add", a[1], a[3], t[1]);
    vop(c, "f32x4.sub", a[0], a[2], t[2]);
    vop(c, "f32x4.sub", a[1], a[3], t[3]);
    return t.slice(0, 4);
  }
  if (radix === 4) {
    const [a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i] = a;
    const [t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i] = t;
    vop(c, "f32x4.add", a0r, a2r, t0r);
    vop(c, "f32x4.add", a0i, a2i, t0i);
    vop(c, "f32x4.sub", a0r, a2r, t1r);
    vop(c, "f32x4.sub", a0i, a2i, t1i);
    vop(c, "f32x4.add", a1r, a3r, t2r);
    vop(c, "f32x4.add", a1i, a3i, t2i);
    vop(c, "f32x4.sub", a1i, a3i, t3r);
    vop(c, "f32x4.sub", a3r, a1r, t3i);
    // a is free now: y0 = t0 + t2, y1 = t1 + t3, y2 = t0 - t2, y3 = t1 - t3.
    vop(c, "f32x4.add", t0r, t2r, a0r);
    vop(c, "f32x4.add", t0i, t2i, a0i);
    vop(c, "f32x4.add", t1r, t3r, a1r);
    vop(c, "f32x4.add", t1i, t3i, a1i);
    vop(c, "f32x4.sub", t0r, t2r, a2r);
    vop(c, "f32x4.sub", t0i, t2i, a2i);
    vop(c, "f32x4.sub", t1r, t3r, a3r);
    vop(c, "f32x4.sub", t1i, t3i, a3i);
    return a;
  }
  if (radix === 3) {
    // b = a1 + a2, m = a0 - b/2, r = -i (sqrt 3 / 2)(a1 - a2); y0 = a0 + b, y1,2 = m ± r.
    const [a0r, a0i, a1r, a1i, a2r, a2i] = a;
    const [br, bi, mr, mi, rr, ri] = t;
    vop(c, "f32x4.add", a1r, a2r, br);
    vop(c, "f32x4.add", a1i, a2i, bi);
    c.get(a0r).get(br).f32x4(0.5).simd("f32x4.mul").simd("f32x4.sub").set(mr);
    c.get(a0i).get(bi).f32x4(0.5).simd("f32x4.mul").simd("f32x4.sub").set(mi);
    c.get(a1i).get(a2i).simd("f32x4.sub").f32x4(SIN_3).simd("f32x4.mul").set(rr);
    c.get(a2r).get(a1r).simd("f32x4.sub").f32x4(SIN_3).simd("f32x4.mul").set(ri);
    vop(c, "f32x4.add", a0r, br, a0r);
    vop(c, "f32x4.add", a0i, bi, a0i);
    vop(c, "f32x4.add", mr, rr, a1r);
    vop(c, "f32x4.add", mi, ri, a1i);
    vop(c, "f32x4.sub", mr, rr, a2r);
    vop(c, "f32x4.sub", mi, ri, a2i);
    return a;
  }
  // Radix 5: b1 = a1 + a4, b2 = a2 + a3, d1 = a1 - a4, d2 = a2 - a3; y1,4 = m1 ± e1, y2,3 = m2 ± e2
  // with m1 = a0 + c1 b1 + c2 b2, m2 = a0 + c2 b1 + c1 b2, e1 = -i (s1 d1 + s2 d2), e2 = -i (s2 d1 - s1 d2).
  const [a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i, a4r, a4i] = a;
  const [b1r, b1i, b2r, b2i, d1r, d1i, d2r, d2i] = t;
  vop(c, "f32x4.add", a1r, a4r, b1r);
  vop(c, "f32x4.add", a1i, a4i, b1i);
  vop(c, "f32x4.add", a2r, a3r, b2r);
  vop(c, "f32x4.add", a2i, a3i, b2i);
  vop(c, "f32x4.sub", a1r, a4r, d1r);
  vop(c, "f32x4.sub", a1i, a4i, d1i);
  vop(c, "f32x4.sub", a2r, a3r, d2r);
  vop(c, "f32x4.sub", a2i, a3i, d2i);
  // c0 x + c1 y + z for locals x, y, z
  const lin = (k0: number, x: number, k1: number, y: number, z: number): void => {
    c.get(x).f32x4(k0).simd("f32x4.mul").get(y).f32x4(k1).simd("f32x4.mul").simd("f32x4.add");
    c.get(z).simd("f32x4.add");
  };
  // m1, m2 into a1, a2 (a1..a4 are consumed); e1, e2 (re, im) into a3, a4.
  lin(C1_5, b1r, C2_5, b2r, a0r);
  c.set(a1r);
  lin(C1_5, b1i, C2_5, b2i, a0i);
  c.set(a1i);
  lin(C2_5, b1r, C1_5, b2r, a0r);
  c.set(a2r);
  lin(C2_5, b1i, C1_5, b2i, a0i);
  c.set(a2i);
  // -i X = (X.im, -X.re)
  c.get(d1i).f32x4(S1_5).simd("f32x4.mul").get(d2i).f32x4(S2_5).simd("f32x4.mul").simd("f32x4.add").set(a3r);
  c.get(d1r).f32x4(-S1_5).simd("f32x4.mul").get(d2r).f32x4(S2_5).simd("f32x4.mul").simd("f32x4.sub").set(a3i);
  c.get(d1i).f32x4(S2_5).simd("f32x4.mul").get(d2i).f32x4(S1_5).simd("f32x4.mul").simd("f32x4.sub").set(a4r);
  c.get(d2r).f32x4(S1_5).simd("f32x4.mul").get(d1r).f32x4(S2_5).simd("f32x4.mul").simd("f32x4.sub").set(a4i);
  vop(c, "f32x4.add", a0r, b1r, a0r);
  c.get(a0r).get(b2r).simd("f32x4.add").set(a0r);
  vop(c, "f32x4.add", a0i, b1i, a0i);
  c.get(a0i).get(b2i).simd("f32x4.add").set(a0i);
  // y1 = m1 + e1, y4 = m1 - e1, y2 = m2 + e2, y3 = m2 - e2, through t (b, d are consumed).
  const [y1r, y1i, y2r, y2i, y3r, y3i, y4r, y4i] = t;
  vop(c, "f32x4.add", a1r, a3r, y1r);
  vop(c, "f32x4.add", a1i, a3i, y1i);
  vop(c, "f32x4.sub", a1r, a3r, y4r);
  vop(c, "f32x4.sub", a1i, a3i, y4i);
  vop(c, "f32x4.add", a2r, a4r, y2r);
  vop(c, "f32x4.add", a2i, a4i, y2i);
  vop(c, "f32x4.sub", a2r, a4r, y3r);
  vop(c, "f32x4.sub", a2i, a4i, y3i);
  return [a0r, a0i, y1r, y1i, y2r, y2i, y3r, y3i, y4r, y4i];
}

/**
 * One Stockham DIF stage over h lane-complex values (fft.ts `radix4`, `radix2`, `radix3`,
 * `radix5`): for p < m, q < s, inputs a_k = x[q + s (p + k m)], outputs y[q + s (radix p + j)] =
 * (sum_k a_k w_r^{jk}) w^{jp}. Twiddles w^{jp} (j = 1..radix-1) are read from `tw` at
 * 8 (radix - 1) bytes per p.
 */
function emitStage(
  c: WasmCode,
  st: { radix: number; m: number; s: number; src: number; dst: number; tw: number },
): void {
  const { radix, m, s, src, dst, tw } = st;
  const inStep = C * s * m; // between the radix inputs of a butterfly
  const outStep = C * s; // between its outputs
  const p = c.local(ValType.i32), q = c.local(ValType.i32), o = c.local(ValType.i32);
  const wt = c.local(ValType.i32);
  const a = Array.from({ length: 2 * radix }, () => c.local(ValType.v128));
  const w = Array.from({ length: 2 * (radix - 1) }, () => c.local(ValType.v128));
  const t = Array.from({ length: 8 }, () => c.local(ValType.v128));
  const prod = [c.local(ValType.v128), c.local(ValType.v128)];
  const twBytes = 8 * (radix - 1);
  const hasTwiddles = m > 1;
  c.i32(addr(dst)).set(o);
  c.i32(addr(tw)).set(wt);
  // p walks the input blocks of s values (bytes C s apart); q the values inside one.
  emitPointerLoop(c, p, src, src + C * s * m, C * s, () => {
    if (hasTwiddles) {
      for (let j = 0; j < w.length; j++) c.get(wt).simdMem("v128.load32_splat", 2, 4 * j).set(w[j]);
    }
    c.get(p).set(q);
    c.begin("loop");
    for (let k = 0; k < radix; k++) {
      c.get(q).simdMem("v128.load", 4, k * inStep).set(a[2 * k]);
      c.get(q).simdMem("v128.load", 4, k * inStep + V).set(a[2 * k + 1]);
    }
    const y = emitButterfly(c, radix, a, t);
    for (let j = 0; j < radix; j++) {
      let [yr, yi] = [y[2 * j], y[2 * j + 1]];
      if (j > 0 && hasTwiddles) {
        complexMul(c, yr, yi, w[2 * (j - 1)], w[2 * (j - 1) + 1]);
        c.set(prod[1]).set(prod[0]);
        [yr, yi] = prod;
      }
      c.get(o).get(yr).simdMem("v128.store", 4, j * outStep);
      c.get(o).get(yi).simdMem("v128.store", 4, j * outStep + V);
    }
    c.get(o).i32(C).op("i32.add").set(o);
    c.get(q).i32(C).op("i32.add").tee(q).get(p).i32(C * s).op("i32.add").op("i32.ne").brIf(0);
    c.end();
    // The outputs of block p + 1 start C s (radix - 1) bytes past where block p's q loop left o.
    c.get(o).i32(C * s * (radix - 1)).op("i32.add").set(o);
    if (hasTwiddles) c.get(wt).i32(twBytes).op("i32.add").set(wt);
  });
}

/** Twiddles w_len^{jp}, j = 1..radix-1, p < m, as (re, im) float32 pairs; len = radix m. */
function stageTwiddles(radix: number, m: number): number[] {
  const len = radix * m;
  const out: number[] = [];
  for (let p = 0; p < m; p++) {
    for (let j = 1; j < radix; j++) {
      const angle = (-2 * Math.PI * j * p) / len;
      out.push(Math.cos(angle), Math.sin(angle));
    }
  }
  return out;
}

/** i8x16.shuffle lanes picking f32 lanes: 0–3 from the first operand, 4–7 from the second. */
function f32Lanes(lanes: readonly number[]): number[] {
  return lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
}
const INTERLEAVE_LOW = f32Lanes([0, 4, 1, 5]);
const INTERLEAVE_HIGH = f32Lanes([2, 6, 3, 7]);
const HALVES_LOW = f32Lanes([0, 1, 4, 5]);
const HALVES_HIGH = f32Lanes([2, 3, 6, 7]);

/**
 * Framing: sample i of frame l (byte sig + 4 (l hop + wStart + i)) times w[i] into lane l of frame
 * slot wStart + i. Four samples of each of the four frames are loaded as one v128 each and
 * transposed with shuffles (two rounds of interleaving), so the slot stores are whole vectors; the
 * last winLength mod 4 samples go one lane at a time.
 */
function emitFraming(
  c: WasmCode,
  f: { sig: number; win: number; frame: number; wStart: number; winLength: number; hopLength: number },
): void {
  const { sig, win, frame, wStart, winLength, hopLength } = f;
  const i = c.local(ValType.i32), wv = c.local(ValType.f32);
  const r = Array.from({ length: 4 }, () => c.local(ValType.v128));
  const t = Array.from({ length: 4 }, () => c.local(ValType.v128));
  const frameAt = (l: number): number => 4 * (l * hopLength + wStart);
  const nVec = winLength >> 2;
  // i counts bytes of the window; slot wStart + i/4 is at byte frame + 16 wStart + 4 i.
  if (nVec > 0) {
    c.i32(0).set(i);
    c.begin("loop");
    for (let l = 0; l < 4; l++) c.get(sig).get(i).op("i32.add").simdMem("v128.load", 2, frameAt(l)).set(r[l]);
    c.get(r[0]).get(r[1]).shuffle(INTERLEAVE_LOW).set(t[0]);
    c.get(r[0]).get(r[1]).shuffle(INTERLEAVE_HIGH).set(t[1]);
    c.get(r[2]).get(r[3]).shuffle(INTERLEAVE_LOW).set(t[2]);
    c.get(r[2]).get(r[3]).shuffle(INTERLEAVE_HIGH).set(t[3]);
    const columns: [number, number, number[]][] = [
      [t[0], t[2], HALVES_LOW],
      [t[0], t[2], HALVES_HIGH],
      [t[1], t[3], HALVES_LOW],
      [t[1], t[3], HALVES_HIGH],
    ];
    columns.forEach(([x, y, lanes], j) => {
      c.get(i).i32(2).op("i32.shl");
      c.get(x).get(y).shuffle(lanes);
      c.get(i).i32(addr(win)).op("i32.add").simdMem("v128.load32_splat", 2, 4 * j).simd("f32x4.mul");
      c.simdMem("v128.store", 4, frame + V * wStart + V * j);
    });
    c.get(i).i32(16).op("i32.add").tee(i).i32(16 * nVec).op("i32.ne").brIf(0);
    c.end();
  }
  for (let k = 4 * nVec; k < winLength; k++) {
    c.i32(0).mem("f32.load", win + 4 * k).set(wv);
    for (let l = 0; l < 4; l++) {
      c.i32(0);
      c.get(sig).mem("f32.load", frameAt(l) + 4 * k).get(wv).op("f32.mul");
      c.mem("f32.store", frame + V * (wStart + k) + 4 * l);
    }
  }
}

/** A plan's table did not fit on the heap: the caller runs the TypeScript path. */
class HeapFull extends Error {}

/** The filterbank's weights over each row's nonzero span, packed row after row. */
function packedWeights(fb: FilterbankRows): number[] {
  const out: number[] = [];
  for (let r = 0; r < fb.nRows; r++) {
    for (let k = fb.start[r]; k < fb.end[r]; k++) out.push(fb.weights[r * fb.nCols + k]);
  }
  return out;
}

/**
 * Mel rows, unrolled over each row's nonzero weights (read from byte `weights` on, as
 * packedWeights lays them out, times the power spectrum at byte `power`), then log(acc + eps)
 * stored to the four lanes at local `row`, which advances by parameter `rowBytes` per row.
 */
function emitLogMelRows(
  c: WasmCode,
  fb: FilterbankRows,
  logEpsilon: number,
  target: { power: number; weights: number; row: number; rowBytes: number; acc: number },
): void {
  const { power, row, rowBytes, acc } = target;
  let wAt = target.weights;
  for (let r = 0; r < fb.nRows; r++) {
    c.f32x4(0).set(acc);
    for (let k = fb.start[r]; k < fb.end[r]; k++) {
      c.get(acc);
      splat(c, wAt);
      c.i32(0).simdMem("v128.load", 4, power + V * k).simd("f32x4.mul").simd("f32x4.add").set(acc);
      wAt += 4;
    }
    c.get(row);
    c.get(acc).f32x4(logEpsilon).simd("f32x4.add");
    emitLog(c);
    c.simdMem("v128.store", 2);
    if (r + 1 < fb.nRows) c.get(row).get(rowBytes).op("i32.add").set(row);
  }
}

function buildPlan(layout: StftLayout, fb: FilterbankRows, logEpsilon: number): Plan | null {
  const { nFft, winLength, hopLength, wStart, window } = layout;
  const h = nFft >> 1;
  const rad = radices(h);
  if (rad === null || nFft < 8 || nFft % 2 !== 0) return null;
  const nRows = fb.nRows;
  const nBins = h + 1;
  const tables: Float32Array[] = [];
  /** A new heap table holding `values`; throws HeapFull when the heap cannot. */
  const keep = (values: ArrayLike<number>): Float32Array => {
    const a = table(values);
    if (a === null) throw new HeapFull();
    tables.push(a);
    return a;
  };
  try {
    const win = keep(window).byteOffset;
    const frame = keep(new Float32Array(4 * nFft)).byteOffset; // zeros outside the window, for good
    const work = [keep(new Float32Array(8 * h)).byteOffset, keep(new Float32Array(8 * h)).byteOffset];
    const power = keep(new Float32Array(4 * nBins)).byteOffset;
    const tail = keep(new Float32Array(4 * nRows));
    // Untangling: cos and −sin of 2 pi k / n for k < h.
    const untangle: number[] = [];
    for (let k = 0; k < h; k++) {
      untangle.push(Math.cos((2 * Math.PI * k) / nFft), -Math.sin((2 * Math.PI * k) / nFft));
    }
    const unt = keep(untangle).byteOffset;
    const stageTw: number[] = [];
    {
      let len = h;
      for (const r of rad) {
        const m = len / r;
        stageTw.push(m > 1 ? keep(stageTwiddles(r, m)).byteOffset : 0);
        len = m;
      }
    }

    const c = new WasmCode(4);
    const [SIGNAL, OUT, N_GROUPS, ROW_BYTES] = [0, 1, 2, 3];
    const g = c.local(ValType.i32), sig = c.local(ValType.i32), out = c.local(ValType.i32);
    const ka = c.local(ValType.i32), kb = c.local(ValType.i32), kp = c.local(ValType.i32);
    const row = c.local(ValType.i32);
    const z = Array.from({ length: 4 }, () => c.local(ValType.v128));
    const e = Array.from({ length: 6 }, () => c.local(ValType.v128));
    const acc = c.local(ValType.v128);
    c.get(SIGNAL).set(sig);
    c.get(OUT).set(out);
    c.i32(0).set(g);
    c.begin("block");
    c.get(N_GROUPS).op("i32.eqz").brIf(0);
    c.begin("loop");
    emitFraming(c, { sig, win, frame, wStart, winLength, hopLength });
    // FFT of the packed frames: frame → work[0] → work[1] → work[0] ...
    let src = frame;
    {
      let len = h;
      let s = 1;
      rad.forEach((r, n) => {
        const m = len / r;
        const dst = work[n % 2];
        emitStage(c, { radix: r, m, s, src, dst, tw: stageTw[n] });
        src = dst;
        len = m;
        s *= r;
      });
    }
    const zAt = src;
    // Untangle and square: bins 0 and h from Z_0, bin k from Z_k and Z_{h-k}, each twice X.
    const [zr0, zi0] = [z[0], z[1]];
    c.i32(0).simdMem("v128.load", 4, zAt).set(zr0);
    c.i32(0).simdMem("v128.load", 4, zAt + V).set(zi0);
    c.i32(0).get(zr0).get(zi0).simd("f32x4.add").tee(acc).get(acc).simd("f32x4.mul");
    c.simdMem("v128.store", 4, power);
    c.i32(0).get(zr0).get(zi0).simd("f32x4.sub").tee(acc).get(acc).simd("f32x4.mul");
    c.simdMem("v128.store", 4, power + V * h);
    if (h > 1) {
      const [ar, ai, br, bi] = z;
      const [er, ei, or, oi, wr, wi] = e;
      c.i32(addr(zAt + C * (h - 1))).set(kb);
      c.i32(addr(unt + 8)).set(kp);
      emitPointerLoop(c, ka, zAt + C, zAt + C * h, C, () => {
        c.get(ka).simdMem("v128.load", 4).set(ar);
        c.get(ka).simdMem("v128.load", 4, V).set(ai);
        c.get(kb).simdMem("v128.load", 4).set(br);
        c.get(kb).simdMem("v128.load", 4, V).set(bi); // Z_{h-k}; conj negates it below
        c.get(ar).get(br).simd("f32x4.add").set(er);
        c.get(ai).get(bi).simd("f32x4.sub").set(ei);
        c.get(ai).get(bi).simd("f32x4.add").set(or);
        c.get(br).get(ar).simd("f32x4.sub").set(oi);
        c.get(kp).simdMem("v128.load32_splat", 2).set(wr);
        c.get(kp).simdMem("v128.load32_splat", 2, 4).set(wi);
        // 2X = (er + or wr − oi wi, ei + or wi + oi wr); P = |2X|^2 / 4
        c.get(er).get(or).get(wr).simd("f32x4.mul").simd("f32x4.add").get(oi).get(wi).simd("f32x4.mul");
        c.simd("f32x4.sub").set(ar);
        c.get(ei).get(or).get(wi).simd("f32x4.mul").simd("f32x4.add").get(oi).get(wr).simd("f32x4.mul");
        c.simd("f32x4.add").set(ai);
        // power + 16 k = power + (ka − zAt) / 2
        c.get(ka).i32(addr(zAt)).op("i32.sub").i32(1).op("i32.shr_u");
        c.get(ar).get(ar).simd("f32x4.mul").get(ai).get(ai).simd("f32x4.mul").simd("f32x4.add");
        c.f32x4(0.25).simd("f32x4.mul").simdMem("v128.store", 4, power);
        c.get(kb).i32(C).op("i32.sub").set(kb);
        c.get(kp).i32(8).op("i32.add").set(kp);
      });
    }
    c.get(out).set(row);
    const weights = keep(packedWeights(fb)).byteOffset;
    emitLogMelRows(c, fb, logEpsilon, { power, weights, row, rowBytes: ROW_BYTES, acc });
    c.get(sig).i32(V * hopLength).op("i32.add").set(sig);
    c.get(out).i32(V).op("i32.add").set(out);
    c.get(g).i32(1).op("i32.add").tee(g).get(N_GROUPS).op("i32.ne").brIf(0);
    c.end();
    c.end();
    const kernel = compileKernel<StftKernel>("stft", new Array(4).fill(ValType.i32), c);
    return { kernel, tail, nRows, tables };
  } catch (err) {
    for (const a of tables) heapFree(a);
    if (err instanceof HeapFull) return null;
    throw err;
  }
}

const plans = new Map<string, Plan | null>();

/** Runs a plan over a signal: [plan.nRows, nFrames] row-major, or null when the heap is full. */
function runPlan(plan: Plan, samples: Float32Array, layout: StftLayout): Float32Array | null {
  const { nFft, hopLength, pad, nFrames } = layout;
  const { nRows } = plan;
  const n = samples.length;
  const nGroups = Math.ceil(nFrames / 4);
  // The padded signal, long enough for every lane of the last group.
  const paddedLen = Math.max(n + 2 * pad, (4 * nGroups - 1) * hopLength + nFft);
  const signal = heapAlloc("float32", paddedLen) as Float32Array | undefined;
  const heapOut = signal && heapAlloc("float32", nRows * nFrames) as Float32Array | undefined;
  if (signal === undefined || heapOut === undefined) {
    if (signal) heapFree(signal);
    return null;
  }
  try {
    signal.set(samples, pad);
    if (layout.isReflect) {
      for (let j = 1; j <= pad; j++) {
        signal[pad - j] = samples[j];
        signal[pad + n - 1 + j] = samples[n - 1 - j];
      }
    }
    const nFull = nFrames >> 2;
    plan.kernel(signal.byteOffset, heapOut.byteOffset, nFull, 4 * nFrames);
    const out = new Float32Array(nRows * nFrames);
    out.set(heapOut);
    const nLeft = nFrames - 4 * nFull;
    if (nLeft > 0) {
      const tail = plan.tail;
      plan.kernel(signal.byteOffset + 4 * 4 * nFull * hopLength, tail.byteOffset, 1, V);
      for (let r = 0; r < nRows; r++) {
        for (let l = 0; l < nLeft; l++) out[r * nFrames + 4 * nFull + l] = tail[4 * r + l];
      }
    }
    return out;
  } finally {
    heapFree(signal);
    heapFree(heapOut);
  }
}

/**
 * log(mel_fb |STFT|^2 + logEpsilon) of `samples` as [fb.nRows, layout.nFrames] (row-major), or
 * null when this path does not take the layout (see the file header). `planKey` names the
 * window and the filterbank, which the cached kernel has baked in.
 */
export function wasmLogMel(
  samples: Float32Array,
  layout: StftLayout,
  fb: FilterbankRows,
  options: { logEpsilon: number; planKey: string },
): Float32Array | null {
  const { logEpsilon, planKey } = options;
  const key = `${planKey}/${logEpsilon}/${layout.nFft}/${layout.winLength}/${layout.hopLength}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = buildPlan(layout, fb, logEpsilon);
    plans.set(key, plan);
  }
  return plan && runPlan(plan, samples, layout);
}
