/**
 * The python_speech_features 0.6 pipelines OpenSeq2Seq's "psf" backend calls, re-implemented
 * from that library's documented algorithm (the package is not installable here).
 *
 * Contract, per psf's sigproc.py / base.py:
 * - framing (`framesig`): frame length and step rounded half-up to samples; 1 frame when the
 *   signal is no longer than a frame, else 1 + ceil((n - len) / step); the tail is zero-padded;
 *   the window (rectangular by default) multiplies each frame.
 * - power spectrum (`powspec`): rfft of each frame padded or truncated to nFft, 1/nFft |X|^2.
 * - `psfLogfbank`: pre-emphasis, power spectrum, integer-bin HTK mel triangles (mel.ts
 *   psfFilterbank), exact zeros replaced by 2^-52, natural log.
 * - `psfMfcc`: log filterbank energies, DCT-II ortho, first numCep, lifter 1 + (L/2) sin(pi n / L)
 *   with n from 0; `appendEnergy` puts log frame energy in coefficient 0.
 * - `psfLogPowerSpectrogram` (`logpowspec`): 10 log10(max(powspec, 1e-30)), minus its maximum when
 *   `normalizeToMax` (psf's norm=1 default).
 * Outputs are [F, T] row-major (psf returns [T, F]).
 *
 * Not handled: psf's delta features and ssc.
 */
import { applyFilterbankLog, dctRows } from "./features.ts";
import { psfFilterbank } from "./mel.ts";
import { type Matrix2D, withShape } from "./shaped.ts";
import { preemphasis } from "./signal.ts";
import { realFftPlan } from "./stft.ts";

/** psf's round_half_up for the positive sample counts used here. */
function roundHalfUp(x: number): number {
  // Tolerate float error such as 0.025 * 16000 = 400.00000000000006 before rounding half up.
  return Math.floor(Math.round(x * 1e9) / 1e9 + 0.5);
}

/** Options of {@link psfPowerSpectrogram}. */
export interface PsfFramingOptions {
  /** Frame length in samples (rounded half up). */
  frameLength: number;
  /** Frame step in samples (rounded half up). */
  frameStep: number;
  /** FFT length; frames are zero-padded or truncated to it. */
  nFft: number;
  /** Window of frameLength samples multiplied into each frame; default rectangular. */
  window?: Float64Array;
}

/** Number of frames psf's framesig makes from n samples (frameLength, frameStep in samples, rounded half up). */
export function psfFrameCount(n: number, framing: { frameLength: number; frameStep: number }): number {
  const len = roundHalfUp(framing.frameLength);
  const step = roundHalfUp(framing.frameStep);
  return n <= len ? 1 : 1 + Math.ceil((n - len) / step);
}

/**
 * psf's powspec(framesig(x)): 1/nFft |rfft(frame, nFft)|^2, frame-major [T, nFft/2+1].
 *
 * @example
 * ```ts
 * const p = psfPowerSpectrogram(x, { frameLength: 320, frameStep: 160, nFft: 512 });
 * ```
 */
export function psfPowerSpectrogram(
  samples: Float32Array | Float64Array,
  options: PsfFramingOptions,
): Matrix2D {
  const len = roundHalfUp(options.frameLength);
  const step = roundHalfUp(options.frameStep);
  const nFft = options.nFft;
  const win = options.window;
  if (win !== undefined && win.length !== len) {
    throw new RangeError(`psfPowerSpectrogram: window has ${win.length} samples, frames ${len}`);
  }
  const n = samples.length;
  const nFrames = psfFrameCount(n, { frameLength: len, frameStep: step });
  const plan = realFftPlan(nFft);
  const nBins = plan.nBins;
  const used = Math.min(len, nFft);
  const frame = new Float64Array(nFft);
  const out = new Float32Array(nFrames * nBins);
  const scale = 1 / nFft;
  for (let t = 0; t < nFrames; t++) {
    const origin = t * step;
    for (let i = 0; i < used; i++) {
      const j = origin + i;
      const v = j < n ? samples[j] : 0;
      frame[i] = win === undefined ? v : v * win[i];
    }
    const base = t * nBins;
    plan.powerInto(frame, out, base);
    for (let k = 0; k < nBins; k++) out[base + k] *= scale;
  }
  return withShape(out, nFrames, nBins);
}

/** Options of {@link psfLogfbank} and {@link psfMfcc} (psf's argument names in camelCase). */
export interface PsfFbankOptions {
  /** Sample rate in Hz; default 16000. */
  sampleRate?: number;
  /** Window length in seconds; default 0.025 (psf). */
  winLen?: number;
  /** Window step in seconds; default 0.01. */
  winStep?: number;
  /** Number of filters; default 26. */
  nFilters?: number;
  /** FFT length; default 512. */
  nFft?: number;
  /** Lowest filter edge in Hz; default 0. */
  lowFreq?: number;
  /** Highest filter edge in Hz; default sampleRate / 2. */
  highFreq?: number;
  /** Pre-emphasis coefficient; default 0.97. */
  preemph?: number;
  /** Window multiplied into each frame (winLen * sampleRate samples); default rectangular. */
  window?: Float64Array;
}

function fbankPower(samples: Float32Array, o: PsfFbankOptions): { power: Matrix2D; fb: Matrix2D } {
  const sampleRate = o.sampleRate ?? 16000;
  const nFft = o.nFft ?? 512;
  const x = preemphasis(samples, o.preemph ?? 0.97);
  const power = psfPowerSpectrogram(x, {
    frameLength: (o.winLen ?? 0.025) * sampleRate,
    frameStep: (o.winStep ?? 0.01) * sampleRate,
    nFft,
    window: o.window,
  });
  const fb = psfFilterbank({
    sampleRate,
    nFft,
    nFilters: o.nFilters ?? 26,
    lowFreq: o.lowFreq,
    highFreq: o.highFreq,
  });
  return { power, fb };
}

/**
 * psf.logfbank: natural log of mel filterbank energies, [nFilters, T].
 *
 * @example
 * ```ts
 * const f = psfLogfbank(x, { sampleRate: 16000, winLen: 0.02, winStep: 0.01, nFilters: 64 });
 * ```
 */
export function psfLogfbank(samples: Float32Array, options: PsfFbankOptions = {}): Matrix2D {
  const { power, fb } = fbankPower(samples, options);
  return applyFilterbankLog(power, fb, { zeroTo: Number.EPSILON });
}

/** Options of {@link psfMfcc}. */
export interface PsfMfccOptions extends PsfFbankOptions {
  /** Number of cepstral coefficients kept; default 13. */
  numCep?: number;
  /** Lifter L (0 = off); default 22. */
  cepLifter?: number;
  /** Replace coefficient 0 with the log frame energy; default true (psf). */
  appendEnergy?: boolean;
}

/**
 * psf.mfcc: DCT-II ortho of log filterbank energies, liftered, [numCep, T].
 *
 * @example
 * ```ts
 * const c = psfMfcc(x, { numCep: 40, nFilters: 80, cepLifter: 80, appendEnergy: false, winLen: 0.02 });
 * ```
 */
export function psfMfcc(samples: Float32Array, options: PsfMfccOptions = {}): Matrix2D {
  const { power, fb } = fbankPower(samples, options);
  const logFb = applyFilterbankLog(power, fb, { zeroTo: Number.EPSILON });
  const numCep = options.numCep ?? 13;
  const out = dctRows(logFb, numCep);
  const nT = out.shape[1];
  const L = options.cepLifter ?? 22;
  if (L > 0) {
    for (let k = 0; k < numCep; k++) {
      const g = 1 + (L / 2) * Math.sin((Math.PI * k) / L);
      for (let t = 0; t < nT; t++) out[k * nT + t] *= g;
    }
  }
  if (options.appendEnergy ?? true) {
    const nK = power.shape[1];
    for (let t = 0; t < nT; t++) {
      let e = 0;
      for (let k = 0; k < nK; k++) e += power[t * nK + k];
      out[t] = Math.log(e === 0 ? Number.EPSILON : e);
    }
  }
  return out;
}

/** Options of {@link psfLogPowerSpectrogram}. */
export interface PsfLogPowOptions extends PsfFramingOptions {
  /** Subtract the maximum (psf logpowspec norm=1); default true. */
  normalizeToMax?: boolean;
}

/**
 * psf.sigproc.logpowspec(framesig(x)): 10 log10 of the power spectrum floored at 1e-30, [nBins, T].
 *
 * @example
 * ```ts
 * const s = psfLogPowerSpectrogram(x, { frameLength: 320, frameStep: 160, nFft: 320 });
 * ```
 */
export function psfLogPowerSpectrogram(
  samples: Float32Array | Float64Array,
  options: PsfLogPowOptions,
): Matrix2D {
  const power = psfPowerSpectrogram(samples, options);
  const [nT, nK] = power.shape;
  const out = new Float32Array(nK * nT);
  let peak = -Infinity;
  for (let t = 0; t < nT; t++) {
    for (let k = 0; k < nK; k++) {
      const p = power[t * nK + k];
      const v = 10 * Math.log10(p > 1e-30 ? p : 1e-30);
      out[k * nT + t] = v;
      if (v > peak) peak = v;
    }
  }
  if (options.normalizeToMax ?? true) {
    for (let i = 0; i < out.length; i++) out[i] -= peak;
  }
  return withShape(out, nK, nT);
}
