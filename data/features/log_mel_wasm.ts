/**
 * The WebAssembly SIMD path of `logMelSpectrogram`: framing, window, real FFT, |X|^2, the sparse
 * mel projection and the log in one generated kernel, four frames at a time with frame i in lane
 * i (frames are independent, so the transform needs no shuffles, and the four results of a mel
 * row are four consecutive outputs of the [nMels, nFrames] matrix: one v128 store).
 *
 * The transform is the one fft.ts computes: the nFft real samples packed as nFft/2 complex ones
 * (z[t] = x[2t] + i x[2t+1]), a Stockham autosort FFT of radix 4 stages and at most one radix 2
 * stage, then the untangling X[k] = (Z[k] + conj Z[h-k]) / 2 + e^{-2 pi i k / n} (Z[k] - conj
 * Z[h-k]) / 2i fused with the squared magnitude. Everything runs in float32 (the TypeScript path
 * keeps the FFT and the mel sums in float64), and the log is simd_math.ts's (within 1 ulp).
 *
 * Memory layout (on the cpu backend's shared heap): the signal, padded as the STFT pads it; a
 * frame buffer of nFft v128 (sample i of the four frames at byte 16 i), two work buffers of
 * nFft/2 lane-complex values (32 bytes each: four real parts, then four imaginary parts), the
 * power spectrum (nFft/2 + 1 v128), and the constant tables (window, twiddles, mel weights) whose
 * addresses are baked into the code, so a plan lives as long as the process.
 *
 * Not handled (the caller runs the TypeScript path): nFft that is not a power of two of at least
 * 8, a heap that cannot hold the signal, and the plain power spectrogram (`powerSpectrogram`).
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
type LogMelKernel = (signal: number, out: number, nGroups: number, outRowBytes: number) => void;

interface Plan {
  kernel: LogMelKernel;
  /** Scratch [nRows, 4] for the last, partial group of frames. */
  tail: Float32Array;
  /**
   * The heap arrays whose addresses the kernel has baked in, held so that the heap's
   * FinalizationRegistry never hands their blocks to other arrays.
   */
  tables: Float32Array[];
}

/** The radices of an n-point transform when it is 4^a or 2·4^a (radix 4 first, as fft.ts factors). */
function radices(n: number): number[] | null {
  const out: number[] = [];
  while (n % 4 === 0) {
    out.push(4);
    n /= 4;
  }
  if (n === 2) {
    out.push(2);
    n = 1;
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

/**
 * One Stockham DIF stage over h lane-complex values (fft.ts `radix4`/`radix2`): for p < m, q < s,
 * inputs a_k = x[q + s (p + k m)], outputs y[q + s (radix p + j)] = (sum_k a_k w_r^{jk}) w^{jp}.
 * Twiddles w^{jp} (j = 1..radix-1) are read from `tw` at 8 (radix - 1) bytes per p.
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
    // y_j before twiddles, into t: radix 2 (a0 ± a1) or radix 4 with (a1 - a3)(-i).
    const y: number[] = [];
    if (radix === 2) {
      c.get(a[0]).get(a[2]).simd("f32x4.add").set(t[0]);
      c.get(a[1]).get(a[3]).simd("f32x4.add").set(t[1]);
      c.get(a[0]).get(a[2]).simd("f32x4.sub").set(t[2]);
      c.get(a[1]).get(a[3]).simd("f32x4.sub").set(t[3]);
      y.push(t[0], t[1], t[2], t[3]);
    } else {
      const [a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i] = a;
      const [t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i] = t;
      c.get(a0r).get(a2r).simd("f32x4.add").set(t0r);
      c.get(a0i).get(a2i).simd("f32x4.add").set(t0i);
      c.get(a0r).get(a2r).simd("f32x4.sub").set(t1r);
      c.get(a0i).get(a2i).simd("f32x4.sub").set(t1i);
      c.get(a1r).get(a3r).simd("f32x4.add").set(t2r);
      c.get(a1i).get(a3i).simd("f32x4.add").set(t2i);
      c.get(a1i).get(a3i).simd("f32x4.sub").set(t3r);
      c.get(a3r).get(a1r).simd("f32x4.sub").set(t3i);
      // a is free now: y0 = t0 + t2, y1 = t1 + t3, y2 = t0 - t2, y3 = t1 - t3.
      c.get(t0r).get(t2r).simd("f32x4.add").set(a0r);
      c.get(t0i).get(t2i).simd("f32x4.add").set(a0i);
      c.get(t1r).get(t3r).simd("f32x4.add").set(a1r);
      c.get(t1i).get(t3i).simd("f32x4.add").set(a1i);
      c.get(t0r).get(t2r).simd("f32x4.sub").set(a2r);
      c.get(t0i).get(t2i).simd("f32x4.sub").set(a2i);
      c.get(t1r).get(t3r).simd("f32x4.sub").set(a3r);
      c.get(t1i).get(t3i).simd("f32x4.sub").set(a3i);
      y.push(...a);
    }
    for (let j = 0; j < radix; j++) {
      const [yr, yi] = [y[2 * j], y[2 * j + 1]];
      if (j === 0 || !hasTwiddles) {
        c.get(o).get(yr).simdMem("v128.store", 4, j * outStep);
        c.get(o).get(yi).simdMem("v128.store", 4, j * outStep + V);
      } else {
        // Leaves re then im; the im store needs the address under it, so re goes through t.
        complexMul(c, yr, yi, w[2 * (j - 1)], w[2 * (j - 1) + 1]);
        c.set(t[1]).set(t[0]);
        c.get(o).get(t[0]).simdMem("v128.store", 4, j * outStep);
        c.get(o).get(t[1]).simdMem("v128.store", 4, j * outStep + V);
      }
    }
    c.get(o).i32(C).op("i32.add").set(o);
    c.get(q).i32(C).op("i32.add").tee(q).get(p).i32(C * s).op("i32.add").op("i32.ne").brIf(0);
    c.end();
    // The outputs of block p + 1 start C s (radix - 1) bytes past where block p's q loop left o.
    if (radix > 1) c.get(o).i32(C * s * (radix - 1)).op("i32.add").set(o);
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

function buildPlan(layout: StftLayout, fb: FilterbankRows, logEpsilon: number): Plan | null {
  const { nFft, winLength, hopLength, wStart, window } = layout;
  const h = nFft >> 1;
  const rad = radices(h);
  if (rad === null || nFft < 8) return null;
  const nBins = h + 1;
  const tables: Float32Array[] = [];
  const keep = (a: Float32Array | null): number => {
    if (a === null) throw new RangeError("heap full");
    tables.push(a);
    return a.byteOffset;
  };
  try {
    const win = keep(table(window));
    const frame = keep(table(new Float32Array(4 * nFft))); // zeros outside the window, for good
    const work = [keep(table(new Float32Array(8 * h))), keep(table(new Float32Array(8 * h)))];
    const power = keep(table(new Float32Array(4 * nBins)));
    // Untangling: cos and −sin of 2 pi k / n for k < h.
    const untangle: number[] = [];
    for (let k = 0; k < h; k++) {
      untangle.push(Math.cos((2 * Math.PI * k) / nFft), -Math.sin((2 * Math.PI * k) / nFft));
    }
    const unt = keep(table(untangle));
    const stageTw: number[] = [];
    {
      let len = h;
      for (const r of rad) {
        const m = len / r;
        stageTw.push(m > 1 ? keep(table(stageTwiddles(r, m))) : 0);
        len = m;
      }
    }
    // Mel weights of each row's nonzero span, packed row after row.
    const melW: number[] = [];
    for (let r = 0; r < fb.nRows; r++) {
      for (let k = fb.start[r]; k < fb.end[r]; k++) melW.push(fb.weights[r * fb.nCols + k]);
    }
    const mel = keep(table(melW));
    const tail = heapAlloc("float32", 4 * fb.nRows) as Float32Array | undefined;
    if (tail === undefined) throw new RangeError("heap full");

    const c = new WasmCode(4);
    const [SIGNAL, OUT, N_GROUPS, ROW_BYTES] = [0, 1, 2, 3];
    const g = c.local(ValType.i32), sig = c.local(ValType.i32), out = c.local(ValType.i32);
    const i = c.local(ValType.i32), wv = c.local(ValType.f32);
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
    // Framing: sample i of frame l (signal + 4 (l hop + wStart + i)) times w[i] into lane l of
    // frame slot wStart + i; i counts bytes of the window.
    c.i32(0).set(i);
    c.begin("loop");
    c.get(i).i32(addr(win)).op("i32.add").mem("f32.load").set(wv);
    for (let l = 0; l < 4; l++) {
      c.get(i).i32(2).op("i32.shl");
      c.get(sig).get(i).op("i32.add").mem("f32.load", 4 * (l * hopLength + wStart)).get(wv).op("f32.mul");
      c.mem("f32.store", frame + V * wStart + 4 * l);
    }
    c.get(i).i32(4).op("i32.add").tee(i).i32(4 * winLength).op("i32.ne").brIf(0);
    c.end();
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
    // Mel rows, unrolled over each row's nonzero weights, then log(acc + eps) to out[row, 4g..].
    c.get(out).set(row);
    let wAt = mel;
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
      if (r + 1 < fb.nRows) c.get(row).get(ROW_BYTES).op("i32.add").set(row);
    }
    c.get(sig).i32(V * hopLength).op("i32.add").set(sig);
    c.get(out).i32(V).op("i32.add").set(out);
    c.get(g).i32(1).op("i32.add").tee(g).get(N_GROUPS).op("i32.ne").brIf(0);
    c.end();
    c.end();
    const kernel = compileKernel<LogMelKernel>("logMel", new Array(4).fill(ValType.i32), c);
    return { kernel, tail, tables };
  } catch (err) {
    for (const a of tables) heapFree(a);
    if (err instanceof RangeError && err.message === "heap full") return null;
    throw err;
  }
}

const plans = new Map<string, Plan | null>();

/**
 * log(mel_fb |STFT|^2 + logEpsilon) of `samples` as [fb.nRows, layout.nFrames] (row-major), or
 * null when this path does not take the layout (see the file header). `planKey` names the
 * window, the filterbank and the epsilon, which the cached kernel has baked in.
 */
export function wasmLogMel(
  samples: Float32Array,
  layout: StftLayout,
  fb: FilterbankRows,
  options: { logEpsilon: number; planKey: string },
): Float32Array | null {
  const { nFft, hopLength, pad, nFrames } = layout;
  const key = `${options.planKey}/${nFft}/${layout.winLength}/${hopLength}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = buildPlan(layout, fb, options.logEpsilon);
    plans.set(key, plan);
  }
  if (plan === null) return null;
  const n = samples.length;
  const nGroups = Math.ceil(nFrames / 4);
  // The padded signal, long enough for every lane of the last group.
  const paddedLen = Math.max(n + 2 * pad, (4 * nGroups - 1) * hopLength + nFft);
  const signal = heapAlloc("float32", paddedLen) as Float32Array | undefined;
  const heapOut = signal && heapAlloc("float32", fb.nRows * nFrames) as Float32Array | undefined;
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
    const rowBytes = 4 * nFrames;
    const nFull = nFrames >> 2;
    plan.kernel(signal.byteOffset, heapOut.byteOffset, nFull, rowBytes);
    const out = new Float32Array(fb.nRows * nFrames);
    out.set(heapOut);
    const nLeft = nFrames - 4 * nFull;
    if (nLeft > 0) {
      const tail = plan.tail;
      plan.kernel(signal.byteOffset + 4 * 4 * nFull * hopLength, tail.byteOffset, 1, V);
      for (let r = 0; r < fb.nRows; r++) {
        for (let l = 0; l < nLeft; l++) out[r * nFrames + 4 * nFull + l] = tail[4 * r + l];
      }
    }
    return out;
  } finally {
    heapFree(signal);
    heapFree(heapOut);
  }
}
