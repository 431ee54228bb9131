/**
 * Band-limited resampling by any ratio with a Kaiser-windowed sinc (polyphase).
 *
 * Contract: `resample(x, fromRate, toRate)` returns ceil(n * toRate / fromRate) samples, the
 * input treated as zero outside [0, n). Output sample j is a dot product of the input around
 * time j * fromRate / toRate with one of L precomputed filter rows (polyphase), where L/M is the
 * ratio: exact for integer rates with L <= 2048 (rows computed directly), otherwise the nearest
 * fraction with L <= 4096 within 1e-7 relative (speed factors like 1 / 1.1 are exact fractions)
 * with rows interpolated from a finely tabulated prototype filter. Ratios with no such fraction
 * take the taps straight from the prototype per output sample, as resampy does (about 3x
 * slower). The low-pass cutoff sits at `rolloff` times the lower of the two Nyquist frequencies,
 * so downsampling also removes what would alias. Each phase's taps are normalised to sum to one,
 * so DC passes exactly.
 *
 * Not handled: streaming/chunked input (the whole signal is in memory) and multichannel input.
 * The filter follows Smith, "Digital Audio Resampling" (ccrma.stanford.edu/~jos/resample), the
 * scheme resampy's `kaiser_best` uses.
 */

/** Options of {@link resample}. */
export interface ResampleOptions {
  /** Zero crossings of the sinc kept on each side (filter half-length); default 64. */
  zeroCrossings?: number;
  /** Kaiser window beta; default 10 (about 100 dB side-lobe rejection). */
  kaiserBeta?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency; default 0.945. */
  rolloff?: number;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for x < 50). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Builds filter rows: row p holds taps for an output that falls `frac_p` input samples after an
 * input sample k; tap q multiplies x[k - K + q], q in [0, 2K]. Rows are normalised to sum 1.
 */
function buildTable(
  nPhases: number,
  phaseFrac: (p: number) => number,
  K: number,
  cutoff: number,
  halfWidth: number,
  beta: number,
): Float32Array {
  const width = 2 * K + 1;
  const table = new Float32Array(nPhases * width);
  const i0Beta = besselI0(beta);
  const row = new Float64Array(width);
  for (let p = 0; p < nPhases; p++) {
    const frac = phaseFrac(p);
    let sum = 0;
    for (let q = 0; q < width; q++) {
      const d = frac + K - q; // output time minus input time, in input samples
      let h = 0;
      if (Math.abs(d) < halfWidth) {
        const x = d / halfWidth;
        const w = besselI0(beta * Math.sqrt(1 - x * x)) / i0Beta;
        const a = Math.PI * cutoff * d;
        h = cutoff * (a === 0 ? 1 : Math.sin(a) / a) * w;
      }
      row[q] = h;
      sum += h;
    }
    const base = p * width;
    for (let q = 0; q < width; q++) table[base + q] = row[q] / sum;
  }
  return table;
}

const tableCache = new Map<string, Float32Array>();
let cachedFloats = 0;

/**
 * The fraction L/M closest to x among continued-fraction convergents with L <= maxL, or [0, 0]
 * when none is within `relTol` of x.
 */
function rationalApprox(x: number, maxL: number, relTol: number): [number, number] {
  let h0 = 0;
  let h1 = 1;
  let k0 = 1;
  let k1 = 0;
  let v = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(v);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (h2 > maxL) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    if (Math.abs(h1 / k1 - x) <= relTol * x) return [h1, k1];
    const frac = v - a;
    if (frac < 1e-15) break;
    v = 1 / frac;
  }
  return [0, 0];
}

/** Polyphase rows like buildTable, but interpolated from the scale-free prototype g (cheap to build). */
function buildTableFromPrototype(L: number, K: number, scale: number, g: Float64Array): Float32Array {
  const width = 2 * K + 1;
  const table = new Float32Array(L * width);
  const row = new Float64Array(width);
  const tabLen = g.length - 1;
  const uStep = scale * PROTO_PRECISION;
  for (let p = 0; p < L; p++) {
    const frac = p / L;
    let sum = 0;
    for (let q = 0; q < width; q++) {
      const d = frac + K - q;
      const u = (d < 0 ? -d : d) * uStep;
      const i = Math.floor(u);
      const w = i >= tabLen ? 0 : g[i] + (u - i) * (g[i + 1] - g[i]);
      row[q] = w;
      sum += w;
    }
    const base = p * width;
    for (let q = 0; q < width; q++) table[base + q] = row[q] / sum;
  }
  return table;
}

/** Prototype samples per unit of u (one zero crossing); linear interpolation error is ~1e-7. */
const PROTO_PRECISION = 1024;

/** g(u) for u in [0, zeros] at PROTO_PRECISION points per unit, plus a trailing zero. */
function prototype(zeros: number, beta: number, rolloff: number): Float64Array {
  const key = `p${zeros}/${beta}/${rolloff}`;
  const cached = protoCache.get(key);
  if (cached !== undefined) return cached;
  const len = zeros * PROTO_PRECISION + 1;
  const g = new Float64Array(len + 1);
  const i0Beta = besselI0(beta);
  for (let i = 0; i < len; i++) {
    const u = i / PROTO_PRECISION;
    const x = u / zeros;
    const a = Math.PI * rolloff * u;
    g[i] = rolloff * (a === 0 ? 1 : Math.sin(a) / a) * besselI0(beta * Math.sqrt(Math.max(0, 1 - x * x))) /
      i0Beta;
  }
  protoCache.set(key, g);
  return g;
}
const protoCache = new Map<string, Float64Array>();

/**
 * Resamples mono audio from `fromRate` to `toRate` (any positive ratio) with a Kaiser-windowed
 * sinc low-pass. Also serves speed perturbation: resampling by 1/speed and playing back at the
 * original rate.
 *
 * @example
 * ```ts
 * const at16k = resample(samples48k, 48000, 16000);
 * const faster = resample(samples, 16000, 16000 / 1.1); // speed perturbation by 1.1
 * ```
 */
export function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Float32Array {
  if (!(fromRate > 0) || !(toRate > 0) || !Number.isFinite(fromRate) || !Number.isFinite(toRate)) {
    throw new RangeError(`resample: rates must be positive and finite, got ${fromRate} -> ${toRate}`);
  }
  if (fromRate === toRate) return samples.slice();
  const n = samples.length;
  const ratio = toRate / fromRate;
  const nOut = Math.max(0, Math.ceil(n * ratio - 1e-9));
  const zeros = options.zeroCrossings ?? 64;
  const beta = options.kaiserBeta ?? 10;
  const rolloff = options.rolloff ?? 0.945;
  const scale = Math.min(1, ratio);
  const cutoff = rolloff * scale; // in cycles per input sample x 2 (1 = input Nyquist)
  const halfWidth = zeros / scale; // in input samples
  const K = Math.ceil(halfWidth);
  const width = 2 * K + 1;
  const out = new Float32Array(nOut);

  // Polyphase rows need a ratio L/M with few phases. Integer rates give it exactly (rows computed
  // directly); any other ratio (speed factors such as 1 / 1.1, random speeds) is replaced by its
  // closest fraction with L <= 4096 when that is within 1e-7 relative (timing drifts by at most
  // 1e-7 of the duration: 0.03 samples over 20 s at 16 kHz, far below any clock's tolerance), and
  // the rows come from the tabulated prototype. Otherwise per-tap interpolation handles it.
  let L = 0;
  let M = 0;
  let isDirect = false;
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    L = toRate / g;
    M = fromRate / g;
    isDirect = L <= 2048 && L * width <= 1 << 20;
  }
  if (!isDirect) {
    [L, M] = rationalApprox(ratio, 4096, 1e-7);
    if (L * width > 1 << 21) L = 0;
  }
  if (L > 0) {
    const key = `${isDirect ? "x" : "p"}${L}/${M}/${zeros}/${beta}/${rolloff}`;
    let table = tableCache.get(key);
    if (table === undefined) {
      table = isDirect
        ? buildTable(L, (p) => p / L, K, cutoff, halfWidth, beta)
        : buildTableFromPrototype(L, K, scale, prototype(zeros, beta, rolloff));
      // Bounded cache: at most 16 tables and about 16 MB of rows.
      while (tableCache.size > 0 && (tableCache.size >= 16 || cachedFloats + table.length > 1 << 22)) {
        const oldest = tableCache.keys().next().value!;
        cachedFloats -= tableCache.get(oldest)!.length;
        tableCache.delete(oldest);
      }
      tableCache.set(key, table);
      cachedFloats += table.length;
    }
    // Output j sits at input time j * M / L = k + phase / L.
    const stepInt = Math.floor(M / L);
    const stepFrac = M % L;
    let k = 0;
    let phase = 0;
    for (let j = 0; j < nOut; j++) {
      const base = phase * width;
      const start = k - K;
      let acc = 0;
      if (start >= 0 && start + width <= n) {
        for (let q = 0; q < width; q++) acc += samples[start + q] * table[base + q];
      } else {
        const qLo = start < 0 ? -start : 0;
        const qHi = start + width > n ? n - start : width;
        for (let q = qLo; q < qHi; q++) acc += samples[start + q] * table[base + q];
      }
      out[j] = acc;
      k += stepInt;
      phase += stepFrac;
      if (phase >= L) {
        phase -= L;
        k++;
      }
    }
    return out;
  }

  // Arbitrary ratio (or a huge L): the scale-free prototype g(u) = rolloff sinc(rolloff u) w(u / zeros),
  // tabulated finely, gives h(d) = scale g(scale d); taps are renormalised per output sample.
  const g = prototype(zeros, beta, rolloff);
  const tabLen = g.length - 1;
  const step = fromRate / toRate;
  const uStep = scale * PROTO_PRECISION;
  const taps = new Float64Array(width);
  for (let j = 0; j < nOut; j++) {
    const t = j * step;
    const k = Math.floor(t);
    const frac = t - k;
    const start = k - K;
    const qLo = start < 0 ? -start : 0;
    const qHi = start + width > n ? n - start : width;
    // Weights over the full filter span (so edges see zeros, as in the exact path), then the sum.
    let wSum = 0;
    for (let q = 0; q < width; q++) {
      const d = frac + K - q;
      const u = (d < 0 ? -d : d) * uStep;
      const i = Math.floor(u);
      const w = i >= tabLen ? 0 : g[i] + (u - i) * (g[i + 1] - g[i]);
      taps[q] = w;
      wSum += w;
    }
    let acc = 0;
    for (let q = qLo; q < qHi; q++) acc += samples[start + q] * taps[q];
    out[j] = wSum !== 0 ? acc / wSum : 0;
  }
  return out;
}
