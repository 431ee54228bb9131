/**
 * Short-time power spectra, framed the way librosa 0.11's `stft` frames.
 *
 * Contract: `powerSpectrogram(x, opts)` returns |STFT|^2 as a frame-major [nFrames, nFft/2+1]
 * matrix. A window of `winLength` samples is zero-padded to `nFft` in the middle (librosa
 * `pad_center`); with `center` the signal is first padded by nFft/2 on both sides (zeros, or
 * reflection with padMode "reflect"), so nFrames = 1 + floor(n / hop) for even nFft. The FFT runs in
 * float64; the result is stored as float32 like librosa's complex64 output.
 *
 * Not handled: complex (phase) output and the inverse transform.
 */
import { RealFft } from "./fft.ts";
import { type Matrix2D, withShape } from "./shaped.ts";
import { analysisWindow, type WindowKind } from "./window.ts";

/** Framing and windowing options of {@link powerSpectrogram}. */
export interface StftOptions {
  /** FFT length; default 512. */
  nFft?: number;
  /** Window length in samples (<= nFft); default nFft. */
  winLength?: number;
  /** Hop between frames in samples; default winLength / 4 (librosa). */
  hopLength?: number;
  /** Window family; default "hann". */
  window?: WindowKind;
  /** Periodic window (librosa/scipy) when true, symmetric (np.hanning) when false; default true. */
  periodicWindow?: boolean;
  /** Pad nFft/2 samples on each side so frame t is centred on sample t * hop; default true. */
  center?: boolean;
  /** Padding for `center`: "constant" zeros (librosa 0.11 default) or "reflect" (librosa < 0.10). */
  padMode?: "constant" | "reflect";
}

const fftCache = new Map<number, RealFft>();

/** A cached real-FFT plan of length n. */
export function realFftPlan(n: number): RealFft {
  let plan = fftCache.get(n);
  if (plan === undefined) {
    plan = new RealFft(n);
    fftCache.set(n, plan);
  }
  return plan;
}

/** The frame geometry of a signal under {@link StftOptions}, validated; shared by every STFT path. */
export interface StftLayout {
  /** FFT length. */
  nFft: number;
  /** Window length in samples. */
  winLength: number;
  /** Hop between frames in samples. */
  hopLength: number;
  /** Samples of centre padding on each side (0 without `center`). */
  pad: number;
  /** Reflection instead of zeros in the centre padding. */
  isReflect: boolean;
  /** Offset of the window inside the nFft frame (librosa util.pad_center). */
  wStart: number;
  /** Number of frames. */
  nFrames: number;
  /** The analysis window, winLength values. */
  window: Float64Array;
}

/**
 * Validates the options against a signal of n samples and lays out its frames: frame t covers
 * padded samples [t hop, t hop + nFft), its window starting wStart samples in.
 */
export function stftLayout(n: number, options: StftOptions = {}): StftLayout {
  const nFft = options.nFft ?? 512;
  const winLength = options.winLength ?? nFft;
  const hopLength = options.hopLength ?? Math.floor(winLength / 4);
  const center = options.center ?? true;
  const padMode = options.padMode ?? "constant";
  if (!Number.isInteger(nFft) || nFft < 2) throw new RangeError(`powerSpectrogram: bad nFft ${nFft}`);
  if (!Number.isInteger(winLength) || winLength < 1 || winLength > nFft) {
    throw new RangeError(`powerSpectrogram: winLength ${winLength} must be in [1, nFft=${nFft}]`);
  }
  if (!Number.isInteger(hopLength) || hopLength < 1) {
    throw new RangeError(`powerSpectrogram: bad hopLength ${hopLength}`);
  }
  const pad = center ? nFft >> 1 : 0;
  if (center && padMode === "reflect" && n <= pad) {
    throw new RangeError(`powerSpectrogram: reflect padding needs more than ${pad} samples, got ${n}`);
  }
  const paddedLen = n + 2 * pad;
  if (paddedLen < nFft) {
    throw new RangeError(
      `powerSpectrogram: signal of ${n} samples is shorter than nFft=${nFft} without centering`,
    );
  }
  return {
    nFft,
    winLength,
    hopLength,
    pad,
    isReflect: padMode === "reflect",
    wStart: (nFft - winLength) >> 1,
    nFrames: 1 + Math.floor((paddedLen - nFft) / hopLength),
    window: analysisWindow(options.window ?? "hann", winLength, { periodic: options.periodicWindow ?? true }),
  };
}

/**
 * Windowed frames of one signal and their power spectra, one frame at a time, so callers can
 * reduce each spectrum (e.g. to mels) without holding the whole [T, K] matrix.
 *
 * @example
 * ```ts
 * const frames = new StftFrames(samples, { nFft: 512, winLength: 320, hopLength: 160 });
 * const p = new Float64Array(frames.nBins);
 * for (let t = 0; t < frames.nFrames; t++) frames.power(t, p, 0);
 * ```
 */
export class StftFrames {
  /** Number of frames. */
  readonly nFrames: number;
  /** Bins per spectrum, nFft/2 + 1. */
  readonly nBins: number;
  #samples: Float32Array;
  #hop: number;
  #pad: number;
  #wStart: number;
  #win: Float64Array;
  #frame: Float64Array;
  #plan: RealFft;
  #isReflect: boolean;

  /** Validates the options and prepares the window and the FFT plan. */
  constructor(samples: Float32Array, options: StftOptions = {}) {
    const layout = stftLayout(samples.length, options);
    this.nFrames = layout.nFrames;
    this.#samples = samples;
    this.#hop = layout.hopLength;
    this.#pad = layout.pad;
    this.#wStart = layout.wStart;
    this.#win = layout.window;
    this.#plan = realFftPlan(layout.nFft);
    this.nBins = this.#plan.nBins;
    this.#frame = new Float64Array(layout.nFft);
    this.#isReflect = layout.isReflect;
  }

  /** |FFT|^2 of windowed frame t into out[offset .. offset + nBins). */
  power(t: number, out: Float32Array | Float64Array, offset: number): void {
    const samples = this.#samples;
    const n = samples.length;
    const win = this.#win;
    const winLength = win.length;
    const frame = this.#frame;
    const wStart = this.#wStart;
    // Sample index (in the unpadded signal) of frame position wStart.
    const origin = t * this.#hop - this.#pad + wStart;
    if (origin >= 0 && origin + winLength <= n) {
      for (let i = 0; i < winLength; i++) frame[wStart + i] = samples[origin + i] * win[i];
    } else {
      for (let i = 0; i < winLength; i++) {
        let j = origin + i;
        if (j < 0 || j >= n) {
          if (!this.#isReflect) {
            frame[wStart + i] = 0;
            continue;
          }
          j = j < 0 ? -j : 2 * (n - 1) - j;
        }
        frame[wStart + i] = samples[j] * win[i];
      }
    }
    this.#plan.powerInto(frame, out, offset);
  }
}

/**
 * |STFT|^2 of `samples` as a frame-major [nFrames, nFft/2+1] Float32Array.
 *
 * @example
 * ```ts
 * const p = powerSpectrogram(samples, { nFft: 512, winLength: 320, hopLength: 160 });
 * const [nFrames, nBins] = p.shape;
 * ```
 */
export function powerSpectrogram(samples: Float32Array, options: StftOptions = {}): Matrix2D {
  const frames = new StftFrames(samples, options);
  const { nFrames, nBins } = frames;
  const out = new Float32Array(nFrames * nBins);
  for (let t = 0; t < nFrames; t++) frames.power(t, out, t * nBins);
  return withShape(out, nFrames, nBins);
}
