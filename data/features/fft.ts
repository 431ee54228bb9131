/**
 * Fast Fourier transforms of any length on Float64Arrays, with precomputed twiddles.
 *
 * Contract: `ComplexFft(n)` is a mixed-radix Stockham autosort FFT (radix 4, 2, 3 and 5 kernels,
 * a direct DFT kernel for any other prime factor), so n = 320, 400 or 512 all run in
 * O(n log n) without bit reversal. `RealFft(n)` transforms n real samples to the n/2+1
 * non-negative-frequency bins; for even n it packs the input into an n/2-point complex FFT and
 * untangles the halves (the standard "two reals for one complex" trick). Forward transforms use
 * the e^{-2 pi i k t / n} sign and no scaling, as numpy.fft.rfft does.
 *
 * Not handled: inverse real transforms, and lengths with large prime factors stay correct but
 * cost O(n p) per stage for a prime factor p.
 */

interface Stage {
  radix: number;
  /** Number of butterflies per stride position (sub-length / radix). */
  m: number;
  /** Stride: product of the radices already applied. */
  s: number;
  /** Twiddles w^(j p) for p < m, j < radix, at [p * radix + j]. */
  twRe: Float64Array;
  twIm: Float64Array;
}

function factorize(n: number): number[] {
  const f: number[] = [];
  while (n % 4 === 0) {
    f.push(4);
    n /= 4;
  }
  if (n % 2 === 0) {
    f.push(2);
    n /= 2;
  }
  for (let p = 3; p * p <= n; p += 2) {
    while (n % p === 0) {
      f.push(p);
      n /= p;
    }
  }
  if (n > 1) f.push(n);
  return f;
}

/**
 * A complex FFT plan for a fixed length, transforming separate real and imaginary arrays in place.
 *
 * @example
 * ```ts
 * const fft = new ComplexFft(320);
 * const re = new Float64Array(320), im = new Float64Array(320);
 * re[1] = 1;
 * fft.forward(re, im); // re[k] + i im[k] = e^{-2 pi i k / 320}
 * ```
 */
export class ComplexFft {
  /** Transform length. */
  readonly size: number;
  #stages: Stage[] = [];
  #workRe: Float64Array;
  #workIm: Float64Array;

  /** Plans a transform of length n (any positive integer). */
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`ComplexFft: length must be a positive integer, got ${n}`);
    }
    this.size = n;
    this.#workRe = new Float64Array(n);
    this.#workIm = new Float64Array(n);
    let len = n;
    let s = 1;
    for (const radix of factorize(n)) {
      const m = len / radix;
      const twRe = new Float64Array(m * radix);
      const twIm = new Float64Array(m * radix);
      for (let p = 0; p < m; p++) {
        for (let j = 0; j < radix; j++) {
          const a = (-2 * Math.PI * j * p) / len;
          twRe[p * radix + j] = Math.cos(a);
          twIm[p * radix + j] = Math.sin(a);
        }
      }
      this.#stages.push({ radix, m, s, twRe, twIm });
      len = m;
      s *= radix;
    }
  }

  /** Forward transform in place: X[k] = sum_t x[t] e^{-2 pi i k t / n}. */
  forward(re: Float64Array, im: Float64Array): void {
    let xr = re;
    let xi = im;
    let yr = this.#workRe;
    let yi = this.#workIm;
    for (const st of this.#stages) {
      runStage(st, xr, xi, yr, yi);
      const tr = xr;
      const ti = xi;
      xr = yr;
      xi = yi;
      yr = tr;
      yi = ti;
    }
    if (xr !== re) {
      re.set(xr);
      im.set(xi);
    }
  }

  /**
   * Transform of z[t] = x[2t] + i x[2t+1] (t < n) into re, im, reading x directly in the first
   * radix-4 stage instead of packing it first. Returns false (doing nothing) when the first
   * radix is not 4.
   */
  forwardInterleaved(x: Float64Array, re: Float64Array, im: Float64Array): boolean {
    const stages = this.#stages;
    if (stages.length === 0 || stages[0].radix !== 4) return false;
    const nStages = stages.length;
    // The last stage must land in (re, im): stage i writes there when nStages - 1 - i is even.
    let yr = (nStages - 1) % 2 === 0 ? re : this.#workRe;
    let yi = (nStages - 1) % 2 === 0 ? im : this.#workIm;
    radix4FirstInterleaved(stages[0], x, yr, yi);
    let xr = yr;
    let xi = yi;
    yr = xr === re ? this.#workRe : re;
    yi = xi === im ? this.#workIm : im;
    for (let i = 1; i < nStages; i++) {
      const st = stages[i];
      runStage(st, xr, xi, yr, yi);
      const tr = xr;
      const ti = xi;
      xr = yr;
      xi = yi;
      yr = tr;
      yi = ti;
    }
    return true;
  }
}

/** First radix-4 stage (s = 1) reading z[t] = x[2t] + i x[2t+1] straight from the real input. */
function radix4FirstInterleaved(st: Stage, x: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, twRe, twIm } = st;
  const m2 = 2 * m;
  for (let p = 0; p < m; p++) {
    const t = 4 * p;
    const i0 = 2 * p;
    const a0r = x[i0];
    const a0i = x[i0 + 1];
    const a1r = x[i0 + m2];
    const a1i = x[i0 + m2 + 1];
    const a2r = x[i0 + 2 * m2];
    const a2i = x[i0 + 2 * m2 + 1];
    const a3r = x[i0 + 3 * m2];
    const a3i = x[i0 + 3 * m2 + 1];
    const t0r = a0r + a2r;
    const t0i = a0i + a2i;
    const t1r = a0r - a2r;
    const t1i = a0i - a2i;
    const t2r = a1r + a3r;
    const t2i = a1i + a3i;
    const t3r = a1i - a3i;
    const t3i = a3r - a1r;
    yr[t] = t0r + t2r;
    yi[t] = t0i + t2i;
    const b1r = t1r + t3r;
    const b1i = t1i + t3i;
    const w1r = twRe[t + 1];
    const w1i = twIm[t + 1];
    yr[t + 1] = b1r * w1r - b1i * w1i;
    yi[t + 1] = b1r * w1i + b1i * w1r;
    const b2r = t0r - t2r;
    const b2i = t0i - t2i;
    const w2r = twRe[t + 2];
    const w2i = twIm[t + 2];
    yr[t + 2] = b2r * w2r - b2i * w2i;
    yi[t + 2] = b2r * w2i + b2i * w2r;
    const b3r = t1r - t3r;
    const b3i = t1i - t3i;
    const w3r = twRe[t + 3];
    const w3i = twIm[t + 3];
    yr[t + 3] = b3r * w3r - b3i * w3i;
    yi[t + 3] = b3r * w3i + b3i * w3r;
  }
}

function runStage(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  if (st.radix === 4) radix4(st, xr, xi, yr, yi);
  else if (st.radix === 2) radix2(st, xr, xi, yr, yi);
  else if (st.radix === 5) radix5(st, xr, xi, yr, yi);
  else if (st.radix === 3) radix3(st, xr, xi, yr, yi);
  else radixGeneric(st, xr, xi, yr, yi);
}

const SIN_3 = Math.sqrt(3) / 2;
const C1_5 = Math.cos((2 * Math.PI) / 5);
const C2_5 = Math.cos((4 * Math.PI) / 5);
const S1_5 = Math.sin((2 * Math.PI) / 5);
const S2_5 = Math.sin((4 * Math.PI) / 5);

/** Radix-3 stage: y1,2 = a0 - (a1 + a2)/2 -/+ i (sqrt 3 / 2)(a1 - a2), then twiddles. */
function radix3(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = twRe[3 * p + 1];
    const w1i = twIm[3 * p + 1];
    const w2r = twRe[3 * p + 2];
    const w2i = twIm[3 * p + 2];
    for (let q = 0; q < s; q++) {
      const i0 = s * p + q;
      const a0r = xr[i0];
      const a0i = xi[i0];
      const a1r = xr[i0 + sm];
      const a1i = xi[i0 + sm];
      const a2r = xr[i0 + 2 * sm];
      const a2i = xi[i0 + 2 * sm];
      const br = a1r + a2r;
      const bi = a1i + a2i;
      const mr = a0r - 0.5 * br;
      const mi = a0i - 0.5 * bi;
      // -i sqrt(3)/2 (a1 - a2)
      const rr = SIN_3 * (a1i - a2i);
      const ri = -SIN_3 * (a1r - a2r);
      const o = 3 * s * p + q;
      yr[o] = a0r + br;
      yi[o] = a0i + bi;
      const y1r = mr + rr;
      const y1i = mi + ri;
      yr[o + s] = y1r * w1r - y1i * w1i;
      yi[o + s] = y1r * w1i + y1i * w1r;
      const y2r = mr - rr;
      const y2i = mi - ri;
      yr[o + 2 * s] = y2r * w2r - y2i * w2i;
      yi[o + 2 * s] = y2r * w2i + y2i * w2r;
    }
  }
}

/**
 * Radix-5 stage with the symmetric form of the 5-point DFT: with b1 = a1 + a4, b2 = a2 + a3,
 * d1 = a1 - a4, d2 = a2 - a3: y1,4 = a0 + c1 b1 + c2 b2 -/+ i (s1 d1 + s2 d2) and
 * y2,3 = a0 + c2 b1 + c1 b2 -/+ i (s2 d1 - s1 d2), then twiddles.
 */
function radix5(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const t = 5 * p;
    for (let q = 0; q < s; q++) {
      const i0 = s * p + q;
      const a0r = xr[i0];
      const a0i = xi[i0];
      const a1r = xr[i0 + sm];
      const a1i = xi[i0 + sm];
      const a2r = xr[i0 + 2 * sm];
      const a2i = xi[i0 + 2 * sm];
      const a3r = xr[i0 + 3 * sm];
      const a3i = xi[i0 + 3 * sm];
      const a4r = xr[i0 + 4 * sm];
      const a4i = xi[i0 + 4 * sm];
      const b1r = a1r + a4r;
      const b1i = a1i + a4i;
      const b2r = a2r + a3r;
      const b2i = a2i + a3i;
      const d1r = a1r - a4r;
      const d1i = a1i - a4i;
      const d2r = a2r - a3r;
      const d2i = a2i - a3i;
      const m1r = a0r + C1_5 * b1r + C2_5 * b2r;
      const m1i = a0i + C1_5 * b1i + C2_5 * b2i;
      const m2r = a0r + C2_5 * b1r + C1_5 * b2r;
      const m2i = a0i + C2_5 * b1i + C1_5 * b2i;
      // -i X = (X.im, -X.re)
      const e1r = S1_5 * d1i + S2_5 * d2i;
      const e1i = -(S1_5 * d1r + S2_5 * d2r);
      const e2r = S2_5 * d1i - S1_5 * d2i;
      const e2i = -(S2_5 * d1r - S1_5 * d2r);
      const o = 5 * s * p + q;
      yr[o] = a0r + b1r + b2r;
      yi[o] = a0i + b1i + b2i;
      let zr = m1r + e1r;
      let zi = m1i + e1i;
      yr[o + s] = zr * twRe[t + 1] - zi * twIm[t + 1];
      yi[o + s] = zr * twIm[t + 1] + zi * twRe[t + 1];
      zr = m2r + e2r;
      zi = m2i + e2i;
      yr[o + 2 * s] = zr * twRe[t + 2] - zi * twIm[t + 2];
      yi[o + 2 * s] = zr * twIm[t + 2] + zi * twRe[t + 2];
      zr = m2r - e2r;
      zi = m2i - e2i;
      yr[o + 3 * s] = zr * twRe[t + 3] - zi * twIm[t + 3];
      yi[o + 3 * s] = zr * twIm[t + 3] + zi * twRe[t + 3];
      zr = m1r - e1r;
      zi = m1i - e1i;
      yr[o + 4 * s] = zr * twRe[t + 4] - zi * twIm[t + 4];
      yi[o + 4 * s] = zr * twIm[t + 4] + zi * twRe[t + 4];
    }
  }
}

// Stockham DIF stage: for p < m, q < s, inputs a_k = x[q + s (p + k m)], outputs
// y[q + s (radix p + j)] = (sum_k a_k w_radix^{j k}) w_len^{j p}.
function radix2(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const wr = twRe[2 * p + 1];
    const wi = twIm[2 * p + 1];
    const inBase = s * p;
    const outBase = 2 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = inBase + q;
      const i1 = i0 + sm;
      const ar = xr[i0];
      const ai = xi[i0];
      const br = xr[i1];
      const bi = xi[i1];
      const o0 = outBase + q;
      yr[o0] = ar + br;
      yi[o0] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      yr[o0 + s] = dr * wr - di * wi;
      yi[o0 + s] = dr * wi + di * wr;
    }
  }
}

function radix4(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, s, twRe, twIm } = st;
  if (m === 1) return radix4Last(s, xr, xi, yr, yi);
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const t = 4 * p;
    const w1r = twRe[t + 1];
    const w1i = twIm[t + 1];
    const w2r = twRe[t + 2];
    const w2i = twIm[t + 2];
    const w3r = twRe[t + 3];
    const w3i = twIm[t + 3];
    const inBase = s * p;
    const outBase = 4 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = inBase + q;
      const a0r = xr[i0];
      const a0i = xi[i0];
      const a1r = xr[i0 + sm];
      const a1i = xi[i0 + sm];
      const a2r = xr[i0 + 2 * sm];
      const a2i = xi[i0 + 2 * sm];
      const a3r = xr[i0 + 3 * sm];
      const a3i = xi[i0 + 3 * sm];
      const t0r = a0r + a2r;
      const t0i = a0i + a2i;
      const t1r = a0r - a2r;
      const t1i = a0i - a2i;
      const t2r = a1r + a3r;
      const t2i = a1i + a3i;
      // (a1 - a3) * (-i)
      const t3r = a1i - a3i;
      const t3i = a3r - a1r;
      const o0 = outBase + q;
      yr[o0] = t0r + t2r;
      yi[o0] = t0i + t2i;
      const b1r = t1r + t3r;
      const b1i = t1i + t3i;
      yr[o0 + s] = b1r * w1r - b1i * w1i;
      yi[o0 + s] = b1r * w1i + b1i * w1r;
      const b2r = t0r - t2r;
      const b2i = t0i - t2i;
      yr[o0 + 2 * s] = b2r * w2r - b2i * w2i;
      yi[o0 + 2 * s] = b2r * w2i + b2i * w2r;
      const b3r = t1r - t3r;
      const b3i = t1i - t3i;
      yr[o0 + 3 * s] = b3r * w3r - b3i * w3i;
      yi[o0 + 3 * s] = b3r * w3i + b3i * w3r;
    }
  }
}

/** The last radix-4 stage (m = 1): every twiddle is 1, so the butterflies need no multiplications. */
function radix4Last(s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  for (let q = 0; q < s; q++) {
    const a0r = xr[q];
    const a0i = xi[q];
    const a1r = xr[q + s];
    const a1i = xi[q + s];
    const a2r = xr[q + 2 * s];
    const a2i = xi[q + 2 * s];
    const a3r = xr[q + 3 * s];
    const a3i = xi[q + 3 * s];
    const t0r = a0r + a2r;
    const t0i = a0i + a2i;
    const t1r = a0r - a2r;
    const t1i = a0i - a2i;
    const t2r = a1r + a3r;
    const t2i = a1i + a3i;
    const t3r = a1i - a3i;
    const t3i = a3r - a1r;
    yr[q] = t0r + t2r;
    yi[q] = t0i + t2i;
    yr[q + s] = t1r + t3r;
    yi[q + s] = t1i + t3i;
    yr[q + 2 * s] = t0r - t2r;
    yi[q + 2 * s] = t0i - t2i;
    yr[q + 3 * s] = t1r - t3r;
    yi[q + 3 * s] = t1i - t3i;
  }
}

const smallDft = new Map<
  number,
  { re: Float64Array; im: Float64Array; scratchRe: Float64Array; scratchIm: Float64Array }
>();

function radixGeneric(
  st: Stage,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const { radix: r, m, s, twRe, twIm } = st;
  let dft = smallDft.get(r);
  if (dft === undefined) {
    dft = {
      re: new Float64Array(r * r),
      im: new Float64Array(r * r),
      scratchRe: new Float64Array(r),
      scratchIm: new Float64Array(r),
    };
    for (let j = 0; j < r; j++) {
      for (let k = 0; k < r; k++) {
        const a = (-2 * Math.PI * ((j * k) % r)) / r;
        dft.re[j * r + k] = Math.cos(a);
        dft.im[j * r + k] = Math.sin(a);
      }
    }
    smallDft.set(r, dft);
  }
  const dr = dft.re;
  const di = dft.im;
  const sm = s * m;
  const ar = dft.scratchRe;
  const ai = dft.scratchIm;
  for (let p = 0; p < m; p++) {
    const inBase = s * p;
    const outBase = r * s * p;
    for (let q = 0; q < s; q++) {
      for (let k = 0; k < r; k++) {
        ar[k] = xr[inBase + q + k * sm];
        ai[k] = xi[inBase + q + k * sm];
      }
      for (let j = 0; j < r; j++) {
        let sr = 0;
        let si = 0;
        const row = j * r;
        for (let k = 0; k < r; k++) {
          const cr = dr[row + k];
          const ci = di[row + k];
          sr += ar[k] * cr - ai[k] * ci;
          si += ar[k] * ci + ai[k] * cr;
        }
        const wr = twRe[p * r + j];
        const wi = twIm[p * r + j];
        const o = outBase + q + j * s;
        yr[o] = sr * wr - si * wi;
        yi[o] = sr * wi + si * wr;
      }
    }
  }
}

/**
 * A real-input FFT plan: n real samples to bins 0..n/2 (n/2+1 of them, numpy.fft.rfft's layout).
 *
 * @example
 * ```ts
 * const rfft = new RealFft(512);
 * const re = new Float64Array(257), im = new Float64Array(257);
 * rfft.forward(new Float64Array(512).fill(1), re, im); // re[0] === 512
 * ```
 */
export class RealFft {
  /** Transform length (number of real input samples). */
  readonly size: number;
  /** Number of output bins, floor(n/2) + 1. */
  readonly nBins: number;
  #half: ComplexFft;
  #zr: Float64Array;
  #zi: Float64Array;
  #cos: Float64Array;
  #sin: Float64Array;
  #isEven: boolean;

  /** Plans a transform of n real samples (any positive integer; even n is twice as fast). */
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`RealFft: length must be a positive integer, got ${n}`);
    }
    this.size = n;
    this.nBins = (n >> 1) + 1;
    this.#isEven = n % 2 === 0 && n > 1;
    const h = this.#isEven ? n >> 1 : n;
    this.#half = new ComplexFft(h);
    this.#zr = new Float64Array(h);
    this.#zi = new Float64Array(h);
    this.#cos = new Float64Array(this.nBins);
    this.#sin = new Float64Array(this.nBins);
    for (let k = 0; k < this.nBins; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.#sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** x: n real samples (read only) -> re, im: the nBins non-negative-frequency bins. */
  forward(x: Float64Array, re: Float64Array, im: Float64Array): void {
    const zr = this.#zr;
    const zi = this.#zi;
    if (!this.#isEven) {
      zr.set(x.subarray(0, this.size));
      zi.fill(0);
      this.#half.forward(zr, zi);
      for (let k = 0; k < this.nBins; k++) {
        re[k] = zr[k];
        im[k] = zi[k];
      }
      return;
    }
    const h = this.size >> 1;
    for (let t = 0; t < h; t++) {
      zr[t] = x[2 * t];
      zi[t] = x[2 * t + 1];
    }
    this.#half.forward(zr, zi);
    // X[k] = E_k + e^{-2 pi i k / n} O_k with E = (Z_k + conj Z_{h-k}) / 2, O = (Z_k - conj Z_{h-k}) / 2i.
    const c = this.#cos;
    const sn = this.#sin;
    for (let k = 0; k <= h; k++) {
      const k1 = k === h ? 0 : k;
      const k2 = k === 0 ? 0 : h - k;
      const ar = zr[k1];
      const ai = zi[k1];
      const br = zr[k2];
      const bi = -zi[k2];
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      // (a - b) / 2i = ((ai - bi) - i (ar - br)) / 2
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = c[k];
      const wi = -sn[k];
      re[k] = er + or * wr - oi * wi;
      im[k] = ei + or * wi + oi * wr;
    }
  }

  /** Power spectrum |X[k]|^2 of x into out[0..nBins), using the scratch arrays re, im. */
  power(x: Float64Array, out: Float64Array, re: Float64Array, im: Float64Array): void {
    this.forward(x, re, im);
    const nb = this.nBins;
    for (let k = 0; k < nb; k++) out[k] = re[k] * re[k] + im[k] * im[k];
  }

  /**
   * Power spectrum of x written to out[offset .. offset + nBins); the untangling of the packed
   * half-length transform and the squared magnitude are fused in one loop.
   */
  powerInto(x: Float64Array, out: Float32Array | Float64Array, offset: number): void {
    const zr = this.#zr;
    const zi = this.#zi;
    if (!this.#isEven) {
      zr.set(x.subarray(0, this.size));
      zi.fill(0);
      this.#half.forward(zr, zi);
      for (let k = 0; k < this.nBins; k++) out[offset + k] = zr[k] * zr[k] + zi[k] * zi[k];
      return;
    }
    const h = this.size >> 1;
    if (!this.#half.forwardInterleaved(x, zr, zi)) {
      for (let t = 0; t < h; t++) {
        zr[t] = x[2 * t];
        zi[t] = x[2 * t + 1];
      }
      this.#half.forward(zr, zi);
    }
    const c = this.#cos;
    const sn = this.#sin;
    // Bins 0 and h: Z_0 = E + i O with E, O real.
    out[offset] = (zr[0] + zi[0]) * (zr[0] + zi[0]);
    out[offset + h] = (zr[0] - zi[0]) * (zr[0] - zi[0]);
    for (let k = 1; k < h; k++) {
      const ar = zr[k];
      const ai = zi[k];
      const br = zr[h - k];
      const bi = -zi[h - k];
      const er = ar + br;
      const ei = ai + bi;
      const or = ai - bi;
      const oi = br - ar;
      const wr = c[k];
      const wi = -sn[k];
      // Twice X[k], hence the 1/4.
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      out[offset + k] = 0.25 * (xr * xr + xi * xi);
    }
  }
}
