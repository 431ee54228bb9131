/**
 * Spectral features compatible with librosa 0.11: log-mel spectrogram, log power spectrogram
 * and MFCC, each returned as an [F, T] row-major Float32Array with a readonly `shape`.
 *
 * Contract: the steps run in OpenSeq2Seq's order: dither (seeded) -> pre-emphasis -> |STFT|^2
 * (stft.ts) -> mel filterbank (mel.ts, applied sparsely: each bin feeds its two adjacent triangles)
 * -> log -> normalisation (normalize.ts) -> zero frames up to a multiple of `padTo`. Defaults are
 * OpenSeq2Seq/Jasper's analysis parameters: 16 kHz, nFft 512, winLength 320 (20 ms), hopLength 160
 * (10 ms), periodic Hann, centred frames with zero padding, 64 Slaney-normalised Slaney-scale mels
 * from 0 Hz to sampleRate/2, natural log with epsilon 1e-20. The signal-conditioning steps
 * (pre-emphasis, dither, normalisation) default to off, so the functions equal librosa's own; turn
 * them on (or use computeFeatures) for the full Jasper pipeline.
 *
 * Two paths for the log-mel chain, chosen as the cpu op kernels are (`DENO_CTC_CPU_KERNELS=ts|wasm`,
 * ops/backends/cpu/wasm/kernel_path.ts): "wasm" (the default) runs stft_wasm.ts's float32 SIMD
 * kernel when nFft is even, at least 8, and nFft/2 has no prime factor above 5; "ts", and every
 * other nFft, runs the float64 TypeScript FFT and mel sums below, which stay the reference.
 *
 * Not handled here: peak normalisation and the python_speech_features pipeline (see psf.ts and
 * compute_features.ts), and any GPU execution (the math sticks to typed arrays so it can move).
 */
import { gemm } from "../../ops/backends/cpu/blas.ts";
import { melFilterbank, type MelFilterbankOptions } from "./mel.ts";
import { type FeatureNormalization, normalizeFeatures, padFrames } from "./normalize.ts";
import { type Matrix2D, withShape } from "./shaped.ts";
import { addDither, preemphasis as preemphasize } from "./signal.ts";
import { powerSpectrogram, StftFrames, stftLayout, type StftOptions } from "./stft.ts";
import { wasmLogMel } from "./stft_wasm.ts";
import { cpuKernelPath } from "../../ops/backends/cpu/wasm/kernel_path.ts";

/** Signal conditioning and post-processing shared by every feature type. */
export interface ConditioningOptions {
  /** Pre-emphasis coefficient (OpenSeq2Seq uses 0.97); default 0 (off). */
  preemphasis?: number;
  /** Standard deviation of Gaussian dither added to the signal (Jasper: 1e-5); default 0 (off). */
  dither?: number;
  /** Seed of the dither noise; default 0. */
  seed?: number;
  /** Normalisation of the result; default "none". */
  normalize?: FeatureNormalization;
  /** Append zero frames so the frame count is a multiple of this (after normalisation); default 0. */
  padTo?: number;
}

/** Options of {@link logMelSpectrogram}. */
export interface LogMelOptions extends StftOptions, ConditioningOptions {
  /** Sample rate in Hz; default 16000. */
  sampleRate?: number;
  /** Number of mel filters; default 64. */
  nMels?: number;
  /** Lowest filter edge in Hz; default 0. */
  fmin?: number;
  /** Highest filter edge in Hz; default sampleRate / 2. */
  fmax?: number;
  /** HTK mel scale instead of Slaney's; default false. */
  htk?: boolean;
  /** Filter normalisation, "slaney" (default) or "none"/null. */
  norm?: MelFilterbankOptions["norm"];
  /** Added before the natural log; default 1e-20 (OpenSeq2Seq). */
  logEpsilon?: number;
}

const STFT_DEFAULTS = { nFft: 512, winLength: 320, hopLength: 160 };

function conditionSignal(samples: Float32Array, o: ConditioningOptions): Float32Array {
  let x = samples;
  if ((o.dither ?? 0) > 0) x = addDither(x, o.dither!, { seed: o.seed ?? 0 });
  if ((o.preemphasis ?? 0) !== 0) x = preemphasize(x, o.preemphasis!);
  return x;
}

function finish(features: Matrix2D, o: ConditioningOptions): Matrix2D {
  normalizeFeatures(features, o.normalize ?? "none");
  return padFrames(features, o.padTo ?? 0);
}

/** A filterbank stored as per-row nonzero spans, so applying it costs ~2 multiply-adds per bin. */
interface SparseRows {
  nRows: number;
  start: Int32Array;
  end: Int32Array;
  weights: Float32Array;
  nCols: number;
  /**
   * Column form, when every column has at most two nonzero weights in adjacent rows (true of
   * mel triangles): column k adds w0[k] p[k] to row lo[k] and w1[k] p[k] to row lo[k] + 1, one
   * pass over the bins with no inner loops. Null otherwise.
   */
  cols: { lo: Int32Array; w0: Float64Array; w1: Float64Array } | null;
}

function sparseRows(m: Matrix2D): SparseRows {
  const [nRows, nCols] = m.shape;
  const start = new Int32Array(nRows);
  const end = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let s = 0;
    while (s < nCols && m[r * nCols + s] === 0) s++;
    let e = nCols;
    while (e > s && m[r * nCols + e - 1] === 0) e--;
    start[r] = s;
    end[r] = e;
  }
  return { nRows, start, end, weights: m, nCols, cols: columnForm(m, nRows, nCols) };
}

function columnForm(m: Float32Array, nRows: number, nCols: number): SparseRows["cols"] {
  const lo = new Int32Array(nCols);
  const w0 = new Float64Array(nCols);
  const w1 = new Float64Array(nCols);
  for (let k = 0; k < nCols; k++) {
    let first = -1;
    let count = 0;
    for (let r = 0; r < nRows; r++) {
      const w = m[r * nCols + k];
      if (w === 0) continue;
      if (first < 0) first = r;
      else if (r !== first + 1) return null;
      count++;
    }
    if (count === 0) continue;
    lo[k] = first;
    w0[k] = m[first * nCols + k];
    w1[k] = count === 2 ? m[(first + 1) * nCols + k] : 0;
  }
  return { lo, w0, w1 };
}

const melCache = new Map<string, SparseRows>();

/** Options of {@link applyFilterbankLog}. */
export interface FilterbankLogOptions {
  /** Added before the log; default 0. */
  logEpsilon?: number;
  /** Exact zero filter outputs become this before the log (python_speech_features uses 2^-52); default 0. */
  zeroTo?: number;
}

/**
 * Applies a filterbank [M, K] to a frame-major power spectrogram [T, K] and returns the natural
 * log of the filter outputs as [M, T], skipping each filter's zero weights.
 *
 * @example
 * ```ts
 * const logMel = applyFilterbankLog(powerSpectrogram(x), melFilterbank({ sampleRate: 16000, nFft: 512 }));
 * ```
 */
export function applyFilterbankLog(
  power: Matrix2D,
  filterbank: Matrix2D,
  options: FilterbankLogOptions = {},
): Matrix2D {
  const fb = sparseFor(filterbank);
  return applySparseLog(power, fb, options.logEpsilon ?? 0, options.zeroTo ?? 0);
}

const sparseByMatrix = new WeakMap<Matrix2D, SparseRows>();
function sparseFor(m: Matrix2D): SparseRows {
  let s = sparseByMatrix.get(m);
  if (s === undefined) {
    s = sparseRows(m);
    sparseByMatrix.set(m, s);
  }
  return s;
}

function applySparseLog(power: Matrix2D, fb: SparseRows, eps: number, zeroTo: number): Matrix2D {
  const [nT, nK] = power.shape;
  if (nK !== fb.nCols) {
    throw new RangeError(`applyFilterbankLog: spectrum has ${nK} bins but the filterbank ${fb.nCols}`);
  }
  const nM = fb.nRows;
  const out = new Float32Array(nM * nT);
  const { start, end, weights } = fb;
  for (let t = 0; t < nT; t++) {
    const pBase = t * nK;
    for (let m = 0; m < nM; m++) {
      const wBase = m * nK;
      let acc = 0;
      for (let k = start[m], e = end[m]; k < e; k++) acc += weights[wBase + k] * power[pBase + k];
      if (acc === 0) acc = zeroTo;
      out[m * nT + t] = Math.log(acc + eps);
    }
  }
  return withShape(out, nM, nT);
}

/**
 * Log-mel spectrogram, log(mel_fb |STFT|^2 + logEpsilon), as an [nMels, nFrames] matrix; equal to
 * `np.log(librosa.feature.melspectrogram(...) + eps)` with the same parameters.
 *
 * @example
 * ```ts
 * const feats = logMelSpectrogram(samples, { sampleRate: 16000, nMels: 64 });
 * const [nMels, nFrames] = feats.shape;
 * ```
 */
export function logMelSpectrogram(samples: Float32Array, options: LogMelOptions = {}): Matrix2D {
  const sampleRate = options.sampleRate ?? 16000;
  const nFft = options.nFft ?? STFT_DEFAULTS.nFft;
  const winLength = options.winLength ?? Math.min(STFT_DEFAULTS.winLength, nFft);
  const hopLength = options.hopLength ?? STFT_DEFAULTS.hopLength;
  const nMels = options.nMels ?? 64;
  const fmin = options.fmin ?? 0;
  const fmax = options.fmax ?? sampleRate / 2;
  const htk = options.htk ?? false;
  const norm = options.norm === undefined ? "slaney" : options.norm;
  const key = `${sampleRate}/${nFft}/${nMels}/${fmin}/${fmax}/${htk}/${norm}`;
  let fb = melCache.get(key);
  if (fb === undefined) {
    fb = sparseRows(melFilterbank({ sampleRate, nFft, nMels, fmin, fmax, htk, norm }));
    melCache.set(key, fb);
  }
  const x = conditionSignal(samples, options);
  const stftOptions = { ...options, nFft, winLength, hopLength };
  const eps = options.logEpsilon ?? 1e-20;
  if (cpuKernelPath() === "wasm") {
    const layout = stftLayout(x.length, stftOptions);
    const planKey = `${key}/${options.window ?? "hann"}/${options.periodicWindow ?? true}`;
    const logMel = wasmLogMel(x, layout, fb, { logEpsilon: eps, planKey });
    if (logMel !== null) return finish(withShape(logMel, fb.nRows, layout.nFrames), options);
  }
  // Frame by frame: power spectrum, then straight to the mels, so the [T, K] power never exists.
  const frames = new StftFrames(x, stftOptions);
  const { nFrames, nBins } = frames;
  const nM = fb.nRows;
  const pow = new Float64Array(nBins);
  const out = new Float32Array(nM * nFrames);
  const { start, end, weights, cols } = fb;
  // One spare row absorbs w1 of the top filter's last column.
  const mel = new Float64Array(nM + 1);
  for (let t = 0; t < nFrames; t++) {
    frames.power(t, pow, 0);
    if (cols !== null) {
      const { lo, w0, w1 } = cols;
      mel.fill(0);
      for (let k = 0; k < nBins; k++) {
        const p = pow[k];
        const j = lo[k];
        mel[j] += w0[k] * p;
        mel[j + 1] += w1[k] * p;
      }
    } else {
      for (let m = 0; m < nM; m++) {
        const wBase = m * nBins;
        let acc = 0;
        for (let k = start[m], e = end[m]; k < e; k++) acc += weights[wBase + k] * pow[k];
        mel[m] = acc;
      }
    }
    for (let m = 0; m < nM; m++) out[m * nFrames + t] = Math.log(mel[m] + eps);
  }
  return finish(withShape(out, nM, nFrames), options);
}

/** Options of {@link logSpectrogram}. */
export interface LogSpectrogramOptions extends StftOptions, ConditioningOptions {
  /** Keep only the first nFeatures bins (OpenSeq2Seq "cut high frequency part"); default all. */
  nFeatures?: number;
  /** Power values below this are raised to it before 10 log10; default 1e-30 (OpenSeq2Seq). */
  powerFloor?: number;
}

/**
 * Log power spectrogram in dB, 10 log10(max(|STFT|^2, powerFloor)), as [nBins, nFrames]. Defaults
 * are OpenSeq2Seq's spectrogram: nFft = winLength = 320, hop 160.
 *
 * @example
 * ```ts
 * const spec = logSpectrogram(samples, { nFeatures: 160 }); // shape [160, nFrames]
 * ```
 */
export function logSpectrogram(samples: Float32Array, options: LogSpectrogramOptions = {}): Matrix2D {
  const nFft = options.nFft ?? 320;
  const winLength = options.winLength ?? nFft;
  const hopLength = options.hopLength ?? 160;
  const floor = options.powerFloor ?? 1e-30;
  const x = conditionSignal(samples, options);
  const power = powerSpectrogram(x, { ...options, nFft, winLength, hopLength });
  const [nT, nK] = power.shape;
  const nF = Math.min(options.nFeatures ?? nK, nK);
  const out = new Float32Array(nF * nT);
  for (let t = 0; t < nT; t++) {
    for (let k = 0; k < nF; k++) {
      const p = power[t * nK + k];
      out[k * nT + t] = 10 * Math.log10(p > floor ? p : floor);
    }
  }
  return finish(withShape(out, nF, nT), options);
}

/** Options of {@link mfcc}. */
export interface MfccOptions extends LogMelOptions {
  /** Number of cepstral coefficients; default 20 (librosa). */
  nMfcc?: number;
  /** Cepstral lifter L: c_n *= 1 + (L/2) sin(pi (n+1) / L) (librosa's form); default 0 (off). */
  lifter?: number;
  /** power_to_db's top_db clamp; default 80 (librosa), null to disable. */
  topDb?: number | null;
}

/** DCT-II with orthonormal scaling as an [nOut, nIn] matrix (scipy.fft.dct(type=2, norm="ortho")). */
export function dctMatrix(nOut: number, nIn: number): Float64Array {
  const d = new Float64Array(nOut * nIn);
  for (let k = 0; k < nOut; k++) {
    const s = k === 0 ? Math.sqrt(1 / nIn) : Math.sqrt(2 / nIn);
    for (let n = 0; n < nIn; n++) d[k * nIn + n] = s * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * nIn));
  }
  return d;
}

/**
 * MFCC as librosa.feature.mfcc computes it from a signal: power_to_db (10 log10 max(S, 1e-10),
 * clamped to top_db below the peak) of the mel spectrogram, DCT-II ortho over mels, optional lifter.
 * Shape [nMfcc, nFrames]. Uses this module's STFT defaults (nFft 512, win 320, hop 160, 64 mels),
 * not librosa's 2048/512/128.
 *
 * @example
 * ```ts
 * const c = mfcc(samples, { nMfcc: 13, nMels: 40 });
 * ```
 */
export function mfcc(samples: Float32Array, options: MfccOptions = {}): Matrix2D {
  const nMfcc = options.nMfcc ?? 20;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  // log(mel + 0) then convert: 10 log10(max(S, amin)) = (10 / ln 10) ln(max(S, amin)).
  const logMel = logMelSpectrogram(samples, { ...options, logEpsilon: 0, normalize: "none", padTo: 0 });
  const nT = logMel.shape[1];
  const lnAmin = Math.log(1e-10);
  const toDb = 10 / Math.LN10;
  let peak = -Infinity;
  for (let i = 0; i < logMel.length; i++) {
    const v = toDb * Math.max(logMel[i], lnAmin);
    logMel[i] = v;
    if (v > peak) peak = v;
  }
  if (topDb !== null) {
    const lo = peak - topDb;
    for (let i = 0; i < logMel.length; i++) if (logMel[i] < lo) logMel[i] = lo;
  }
  const out = dctRows(logMel, nMfcc);
  const lifter = options.lifter ?? 0;
  if (lifter > 0) {
    for (let k = 0; k < nMfcc; k++) {
      const g = 1 + (lifter / 2) * Math.sin((Math.PI * (k + 1)) / lifter);
      for (let t = 0; t < nT; t++) out[k * nT + t] *= g;
    }
  }
  return finish(out, options);
}

/**
 * DCT-II ortho over the rows of an [nIn, T] matrix, keeping nOut coefficients: [nOut, T]. One
 * float64 GEMM [nOut, nIn]×[nIn, T] (OpenBLAS's dgemm when it is loaded, the cpu backend's
 * TypeScript kernel otherwise), so the sums stay in float64 as numpy's.
 */
export function dctRows(m: Matrix2D, nOut: number): Matrix2D {
  const [nIn, nT] = m.shape;
  if (nOut > nIn) throw new RangeError(`dctRows: ${nOut} coefficients requested from ${nIn} inputs`);
  const d = dctMatrix(nOut, nIn);
  const out = new Float64Array(nOut * nT);
  gemm(false, false, nOut, nT, nIn, 1, d, 0, nIn, Float64Array.from(m), 0, nT, 0, out, 0, nT);
  return withShape(Float32Array.from(out), nOut, nT);
}
