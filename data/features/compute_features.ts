/**
 * One entry point for model input features, driven by an OpenSeq2Seq-like typed config; the
 * data pipeline and the models call this.
 *
 * Contract (OpenSeq2Seq speech_utils.py, both backends):
 * - "librosa": peak normalisation x / (max|x| + 1e-5) on the int16 scale OpenSeq2Seq reads WAVs
 *   at, then seeded dither, then per type: logfbank = pre-emphasis 0.97, |STFT|^2 with
 *   n_fft = numFft (default 2^ceil(log2(window samples))), log(mel + 1e-20); spectrogram =
 *   |STFT|^2 with n_fft = window samples, 10 log10(max(p, 1e-30)), first F bins; mfcc = pre-emphasis,
 *   librosa-style MFCC over 2F mels (OpenSeq2Seq passes a linear STFT power as `S` to
 *   librosa.feature.mfcc, which skips the mel and log steps; we compute the MFCC it meant instead).
 *   Window: np.hanning (symmetric Hann) unless told otherwise. Then per-feature or global mean/std
 *   normalisation. `padTo` is not applied per utterance, as in OpenSeq2Seq, where the batch is
 *   padded later (so nFrames stays the true length).
 * - "psf": peak normalisation scaled to int16 (x 32767, truncated), zero padding of the signal so the
 *   frame count is a multiple of `padTo` (default 8), then psf logfbank (rectangular window,
 *   nfft 512), mfcc (nfilt 2F, lifter 2F, no energy) or spectrogram (np.hanning frames,
 *   logpowspec with NFFT = window samples, first F bins); always one global mean/std normalisation.
 * The input is mono audio at `sampleRate`, scaled to [-1, 1) as readAudio returns it.
 *
 * Not handled: augmentation (speed perturbation, noise, masks) — the pipeline applies those.
 */
import { logMelSpectrogram, logSpectrogram, mfcc } from "./features.ts";
import { type FeatureNormalization, normalizeFeatures } from "./normalize.ts";
import { psfLogfbank, psfLogPowerSpectrogram, psfMfcc } from "./psf.ts";
import { type Matrix2D, withShape } from "./shaped.ts";
import { analysisWindow, type WindowKind } from "./window.ts";

/** The feature settings of an OpenSeq2Seq speech data layer, in camelCase. */
export interface FeatureConfig {
  /** Feature type (`input_type`). */
  inputType: "logfbank" | "spectrogram" | "mfcc";
  /** Number of features per frame (`num_audio_features`). */
  numFeatures: number;
  /** Sample rate of the samples in Hz (`sample_freq`); default 16000. */
  sampleRate?: number;
  /** Analysis window in seconds (`window_size`); default 0.02. */
  windowSize?: number;
  /** Hop in seconds (`window_stride`); default 0.01. */
  windowStride?: number;
  /** OpenSeq2Seq backend whose pipeline to follow; default "librosa" (the one its docs recommend). */
  backend?: "librosa" | "psf";
  /** Window family for the librosa backend and the psf spectrogram; default "hann". */
  window?: WindowKind;
  /** Periodic window instead of numpy's symmetric np.hanning; default false (OpenSeq2Seq). */
  periodicWindow?: boolean;
  /** FFT length for logfbank/mfcc in the librosa backend (`num_fft`); default 2^ceil(log2(window samples)). */
  numFft?: number;
  /** Dither standard deviation after peak normalisation (librosa backend); default 0. */
  dither?: number;
  /** Dither seed; default 0. */
  seed?: number;
  /** Per-feature instead of global normalisation (`norm_per_feature`, librosa backend); default false. */
  normPerFeature?: boolean;
  /** Overrides the normalisation entirely (e.g. "none"); default from normPerFeature/backend. */
  normalize?: FeatureNormalization;
  /** psf backend: pad the signal so the frame count is a multiple of this (`pad_to`); default 8. */
  padTo?: number;
  /** Pre-emphasis for logfbank and mfcc (librosa backend); default 0.97. */
  preemphasis?: number;
  /** Scale the signal by 1 / (peak + 1e-5) first, as OpenSeq2Seq always does; default true. */
  peakNormalize?: boolean;
  /** Mel scale of the librosa backend: HTK when true; default false (Slaney). */
  htk?: boolean;
  /** Mel filter normalisation of the librosa backend; default "slaney". */
  melNorm?: "slaney" | "none";
  /** Lowest mel edge in Hz (librosa backend); default 0. */
  fmin?: number;
  /** Highest mel edge in Hz (librosa backend); default floor(sampleRate / 2). */
  fmax?: number;
  /** Epsilon inside log for logfbank (librosa backend); default 1e-20. */
  logEpsilon?: number;
  /** Centre frames (librosa backend); default true. */
  center?: boolean;
  /** Padding for centred frames: "constant" (librosa 0.11) or "reflect" (librosa < 0.10); default "constant". */
  padMode?: "constant" | "reflect";
}

/** Features of one utterance: data is [nFeatures, nFrames] row-major. */
export interface Features {
  /** [nFeatures, nFrames] row-major values. */
  data: Float32Array;
  /** Rows: features per frame. */
  nFeatures: number;
  /** Columns: frames. */
  nFrames: number;
  /** Duration of the audio in seconds before any padding. */
  duration: number;
}

/** Samples in `seconds` at `rate`, truncated like Python's int(), tolerant of float error. */
function samplesIn(seconds: number, rate: number): number {
  return Math.floor(seconds * rate + 1e-9);
}

/**
 * Computes model input features from mono samples with an OpenSeq2Seq-style config.
 *
 * @example
 * ```ts
 * const { samples } = readAudio("clip.wav");
 * const f = computeFeatures(samples, { inputType: "logfbank", numFeatures: 64, backend: "librosa",
 *   dither: 1e-5, normPerFeature: true });
 * // f.data is [64, f.nFrames]
 * ```
 */
export function computeFeatures(samples: Float32Array, config: FeatureConfig): Features {
  const sr = config.sampleRate ?? 16000;
  const F = config.numFeatures;
  if (!Number.isInteger(F) || F < 1) {
    throw new RangeError(`computeFeatures: numFeatures must be >= 1, got ${F}`);
  }
  const type = config.inputType;
  if (type !== "logfbank" && type !== "spectrogram" && type !== "mfcc") {
    throw new RangeError(`computeFeatures: unknown inputType "${type}" (logfbank, spectrogram or mfcc)`);
  }
  const backend = config.backend ?? "librosa";
  const winSize = config.windowSize ?? 0.02;
  const winStride = config.windowStride ?? 0.01;
  const nWin = samplesIn(winSize, sr);
  const nHop = samplesIn(winStride, sr);
  const duration = samples.length / sr;
  const isPeak = config.peakNormalize ?? true;
  // OpenSeq2Seq normalises the int16 values v it reads: v * (1 / (max|v| + 1e-5)) in float32.
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]);
    if (a > peak) peak = a;
  }
  const gain16 = isPeak ? Math.fround(1 / (peak * 32768 + 1e-5)) : 1 / 32768;
  let out: Matrix2D;
  if (backend === "librosa") {
    const x = scaled(samples, gain16, { length: 0 });
    const window = config.window ?? "hann";
    const periodicWindow = config.periodicWindow ?? false;
    const common = {
      sampleRate: sr,
      hopLength: nHop,
      window,
      periodicWindow,
      center: config.center ?? true,
      padMode: config.padMode ?? "constant",
      dither: config.dither ?? 0,
      seed: config.seed ?? 0,
    } as const;
    const numFft = config.numFft ?? 2 ** Math.ceil(Math.log2(winSize * sr));
    if (type === "logfbank") {
      out = logMelSpectrogram(x, {
        ...common,
        nFft: numFft,
        winLength: nWin,
        nMels: F,
        fmin: config.fmin ?? 0,
        fmax: config.fmax ?? Math.floor(sr / 2),
        htk: config.htk ?? false,
        norm: config.melNorm ?? "slaney",
        logEpsilon: config.logEpsilon ?? 1e-20,
        preemphasis: config.preemphasis ?? 0.97,
      });
    } else if (type === "spectrogram") {
      if (F > (nWin >> 1) + 1) {
        throw new RangeError(`computeFeatures: spectrogram numFeatures ${F} exceeds ${(nWin >> 1) + 1} bins`);
      }
      out = logSpectrogram(x, { ...common, nFft: nWin, winLength: nWin, nFeatures: F });
    } else {
      out = mfcc(x, {
        ...common,
        nFft: numFft,
        winLength: nWin,
        nMfcc: F,
        nMels: 2 * F,
        fmin: config.fmin ?? 0,
        fmax: config.fmax ?? Math.floor(sr / 2),
        htk: config.htk ?? false,
        norm: config.melNorm ?? "slaney",
        preemphasis: config.preemphasis ?? 0.97,
      });
    }
    normalizeFeatures(out, config.normalize ?? (config.normPerFeature ? "per_feature" : "global"));
  } else if (backend === "psf") {
    const padTo = config.padTo ?? 8;
    const n = samples.length;
    let len = n;
    const frames = 1 + Math.ceil((n - nWin) / nHop);
    if (padTo > 0 && frames % padTo !== 0) len = n + (padTo - (frames % padTo)) * nHop;
    // int16 conversion of the peak-normalised signal: x 32767, truncated toward zero (numpy astype).
    const x = scaled(samples, gain16, { length: len, toInt16: true });
    const psfCommon = { sampleRate: sr, winLen: winSize, winStep: winStride, nFft: 512, preemph: 0.97 };
    if (type === "logfbank") {
      out = psfLogfbank(x, { ...psfCommon, nFilters: F, lowFreq: 0, highFreq: sr / 2 });
    } else if (type === "mfcc") {
      out = psfMfcc(x, { ...psfCommon, numCep: F, nFilters: 2 * F, cepLifter: 2 * F, appendEnergy: false });
    } else {
      if (F > (nWin >> 1) + 1) {
        throw new RangeError(`computeFeatures: spectrogram numFeatures ${F} exceeds ${(nWin >> 1) + 1} bins`);
      }
      const window = analysisWindow(config.window ?? "hann", nWin, {
        periodic: config.periodicWindow ?? false,
      });
      const full = psfLogPowerSpectrogram(x, { frameLength: nWin, frameStep: nHop, nFft: nWin, window });
      out = firstRows(full, F);
    }
    normalizeFeatures(out, config.normalize ?? "global");
  } else {
    throw new RangeError(`computeFeatures: unknown backend "${backend}" (librosa or psf)`);
  }
  const [nFeatures, nFrames] = out.shape;
  return { data: out, nFeatures, nFrames, duration };
}

/**
 * fl32(32768 x * gain16) into a new array of max(length, n) samples (zero tail); with `toInt16`
 * then fl32(. * 32767) truncated toward zero, numpy's `(normalize_signal(v) * 32767.0).astype(int16)`.
 */
function scaled(
  x: Float32Array,
  gain16: number,
  options: { length: number; toInt16?: boolean },
): Float32Array {
  const out = new Float32Array(Math.max(options.length, x.length));
  const n = x.length;
  if (options.toInt16) {
    for (let i = 0; i < n; i++) out[i] = Math.trunc(Math.fround(Math.fround(x[i] * 32768 * gain16) * 32767));
  } else {
    for (let i = 0; i < n; i++) out[i] = Math.fround(x[i] * 32768 * gain16);
  }
  return out;
}

function firstRows(m: Matrix2D, rows: number): Matrix2D {
  if (rows === m.shape[0]) return m;
  const nT = m.shape[1];
  return withShape(m.slice(0, rows * nT), rows, nT);
}
