/**
 * Public names of `data/`, re-exported by the root mod.ts.
 *
 * @module
 */
// Audio front end: decoding, resampling, features.
export { type Audio, decodeAudio, decodeAudioChannels, downmix, readAudio } from "./audio.ts";
export { type DecodedAudio, decodeWav, encodeWav, type WavWriteOptions, writeWav } from "./wav.ts";
export { decodeFlac, type FlacDecodeOptions } from "./flac.ts";
export { resample, type ResampleOptions } from "./resample.ts";
export { ComplexFft, RealFft } from "./fft.ts";
export { analysisWindow, type WindowKind, type WindowOptions } from "./window.ts";
export { type Matrix2D, withShape } from "./shaped.ts";
export { powerSpectrogram, type StftOptions } from "./stft.ts";
export {
  hzToMel,
  melFilterbank,
  type MelFilterbankOptions,
  melToHz,
  psfFilterbank,
  type PsfFilterbankOptions,
} from "./mel.ts";
export { addDither, peakNormalize, preemphasis } from "./signal.ts";
export {
  type FeatureNormalization,
  normalizeFeatures,
  type NormalizeOptions,
  padFrames,
} from "./normalize.ts";
export {
  applyFilterbankLog,
  type ConditioningOptions,
  dctMatrix,
  dctRows,
  type FilterbankLogOptions,
  type LogMelOptions,
  logMelSpectrogram,
  logSpectrogram,
  type LogSpectrogramOptions,
  mfcc,
  type MfccOptions,
} from "./features.ts";
export {
  type PsfFbankOptions,
  psfFrameCount,
  type PsfFramingOptions,
  psfLogfbank,
  psfLogPowerSpectrogram,
  type PsfLogPowOptions,
  psfMfcc,
  type PsfMfccOptions,
  psfPowerSpectrogram,
} from "./psf.ts";
export { computeFeatures, type FeatureConfig, type Features } from "./compute_features.ts";

export * from "./safetensors.ts";
