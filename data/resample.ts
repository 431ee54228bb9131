/**
 * Band-limited resampling by any ratio with a Kaiser-windowed sinc (polyphase).
 *
 * Contract: `resample(x, fromRate, toRate)` returns ceil(n * toRate / fromRate) samples, the
 * input treated as zero outside [0, n). When both rates are integers and the reduced ratio L/M
 * has few phases (L <= 2048) each output phase gets its own exact filter row (polyphase);
 * otherwise (e.g. speed perturbation by 16000 -> 16000 / 1.1) the taps come from a finely
 * tabulated prototype filter, interpolated linearly, as resampy does. The low-pass cutoff sits at `rolloff` times the lower of
 * the two Nyquist frequencies, so downsampling also filters out what would alias. Each phase's
 * taps are normalised to sum to one, so DC passes exactly.
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

  let L = 0;
  let M = 0;
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    L = toRate / g;
    M = fromRate / g;
  }
  // Exact polyphase rows only when there are few phases; otherwise the table would cost more to
  // build than the resampling itself (e.g. 16000 -> 14437 Hz has L = 14437).
  const isExact = L > 0 && L <= 2048 && L * width <= 1 << 20;
  if (isExact) {
    const key = `x${L}/${M}/${zeros}/${beta}/${rolloff}`;
    let table = tableCache.get(key);
    if (table === undefined) {
      table = buildTable(L, (p) => p / L, K, cutoff, halfWidth, beta);
      if (tableCache.size >= 16) tableCache.delete(tableCache.keys().next().value!);
      tableCache.set(key, table);
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
