/**
 * Mel scales and mel filterbanks.
 *
 * Contract: `melFilterbank` reproduces librosa 0.11's `librosa.filters.mel` (Slaney or HTK mel
 * scale, triangles in Hz between mel-spaced edges, "slaney" area normalisation or none) as a
 * [nMels, nFft/2+1] row-major Float32Array. `psfFilterbank` reproduces python_speech_features
 * 0.6's `get_filterbanks` (HTK scale, triangles snapped to integer FFT bins
 * floor((nfft+1) f / sr)). Both are computed in float64 and stored as float32, as librosa does.
 *
 * Not handled: librosa's p-norm (`norm=1, 2, inf`) filter normalisations.
 */
import { type Matrix2D, withShape } from "./shaped.ts";

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

/** Hz to mel: HTK (2595 log10(1 + f/700)) or Slaney (linear below 1 kHz, log above), as librosa. */
export function hzToMel(hz: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + hz / 700);
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

/** Mel to Hz, the inverse of {@link hzToMel}. */
export function melToHz(mel: number, htk = false): number {
  if (htk) return 700 * (10 ** (mel / 2595) - 1);
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** numpy.linspace(a, b, n) with its exact arithmetic (a + i * step, last point set to b). */
function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const step = n > 1 ? (b - a) / (n - 1) : 0;
  for (let i = 0; i < n; i++) out[i] = i * step + a;
  if (n > 1) out[n - 1] = b;
  return out;
}

/** Options of {@link melFilterbank}. */
export interface MelFilterbankOptions {
  /** Sample rate in Hz. */
  sampleRate: number;
  /** FFT length; the filterbank has nFft/2+1 columns. */
  nFft: number;
  /** Number of mel filters (rows); default 128 as librosa. */
  nMels?: number;
  /** Lowest edge in Hz; default 0. */
  fmin?: number;
  /** Highest edge in Hz; default sampleRate / 2. */
  fmax?: number;
  /** HTK mel scale instead of Slaney's; default false. */
  htk?: boolean;
  /** "slaney" (default): divide each triangle by its width in Hz / 2; "none" or null: peak 1. */
  norm?: "slaney" | "none" | null;
}

/**
 * The mel filterbank of librosa.filters.mel as a [nMels, nFft/2+1] row-major matrix.
 *
 * @example
 * ```ts
 * const fb = melFilterbank({ sampleRate: 16000, nFft: 512, nMels: 64 });
 * fb.shape; // [64, 257]
 * ```
 */
export function melFilterbank(options: MelFilterbankOptions): Matrix2D {
  const { sampleRate, nFft } = options;
  const nMels = options.nMels ?? 128;
  const fmin = options.fmin ?? 0;
  const fmax = options.fmax ?? sampleRate / 2;
  const htk = options.htk ?? false;
  const norm = options.norm === undefined ? "slaney" : options.norm;
  if (!(sampleRate > 0) || !Number.isInteger(nFft) || nFft < 2 || !Number.isInteger(nMels) || nMels < 1) {
    throw new RangeError(`melFilterbank: bad sampleRate ${sampleRate}, nFft ${nFft} or nMels ${nMels}`);
  }
  if (!(fmin >= 0) || !(fmax > fmin)) {
    throw new RangeError(`melFilterbank: need 0 <= fmin < fmax, got ${fmin}, ${fmax}`);
  }
  if (norm !== "slaney" && norm !== "none" && norm !== null) {
    throw new RangeError(`melFilterbank: unknown norm "${norm}" (expected "slaney", "none" or null)`);
  }
  const nBins = Math.floor(nFft / 2) + 1;
  const fftFreqs = new Float64Array(nBins);
  for (let k = 0; k < nBins; k++) fftFreqs[k] = k / (nFft * (1 / sampleRate));
  const mels = linspace(hzToMel(fmin, htk), hzToMel(fmax, htk), nMels + 2);
  const edges = mels.map((m) => melToHz(m, htk));
  const out = new Float32Array(nMels * nBins);
  for (let i = 0; i < nMels; i++) {
    const lo = edges[i];
    const mid = edges[i + 1];
    const hi = edges[i + 2];
    const d0 = mid - lo;
    const d1 = hi - mid;
    // Slaney: scale each triangle to unit area (2 / bandwidth in Hz), computed in float32 as librosa.
    const enorm = norm === "slaney" ? Math.fround(2 / (hi - lo)) : 1;
    for (let k = 0; k < nBins; k++) {
      const lower = (fftFreqs[k] - lo) / d0;
      const upper = (hi - fftFreqs[k]) / d1;
      const w = Math.max(0, Math.min(lower, upper));
      out[i * nBins + k] = norm === "slaney" ? Math.fround(w) * enorm : w;
    }
  }
  return withShape(out, nMels, nBins);
}

/** Options of {@link psfFilterbank}. */
export interface PsfFilterbankOptions {
  /** Sample rate in Hz. */
  sampleRate: number;
  /** FFT length; nFft/2+1 columns. */
  nFft: number;
  /** Number of filters; default 26 as python_speech_features. */
  nFilters?: number;
  /** Lowest edge in Hz; default 0. */
  lowFreq?: number;
  /** Highest edge in Hz; default sampleRate / 2. */
  highFreq?: number;
}

/**
 * python_speech_features' `get_filterbanks`: HTK-mel-spaced triangles on integer FFT bins, peak 1.
 *
 * @example
 * ```ts
 * const fb = psfFilterbank({ sampleRate: 16000, nFft: 512, nFilters: 40 }); // shape [40, 257]
 * ```
 */
export function psfFilterbank(options: PsfFilterbankOptions): Matrix2D {
  const { sampleRate, nFft } = options;
  const nFilters = options.nFilters ?? 26;
  const lowFreq = options.lowFreq ?? 0;
  const highFreq = options.highFreq || sampleRate / 2;
  const nBins = Math.floor(nFft / 2) + 1;
  const mels = linspace(hzToMel(lowFreq, true), hzToMel(highFreq, true), nFilters + 2);
  const bin = mels.map((m) => Math.floor(((nFft + 1) * melToHz(m, true)) / sampleRate));
  const out = new Float32Array(nFilters * nBins);
  for (let j = 0; j < nFilters; j++) {
    for (let i = bin[j]; i < bin[j + 1]; i++) out[j * nBins + i] = (i - bin[j]) / (bin[j + 1] - bin[j]);
    for (let i = bin[j + 1]; i < bin[j + 2]; i++) {
      out[j * nBins + i] = (bin[j + 2] - i) / (bin[j + 2] - bin[j + 1]);
    }
  }
  return withShape(out, nFilters, nBins);
}
