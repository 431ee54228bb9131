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
export { powerSpectrogram, StftFrames, type StftOptions } from "./stft.ts";
export {
  hzToMel,
  melFilterbank,
  type MelFilterbankOptions,
  melToHz,
  psfFilterbank,
  type PsfFilterbankOptions,
} from "./mel.ts";
export { addDither, type DitherOptions, peakNormalize, preemphasis } from "./signal.ts";
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

// Data pipeline: manifests, vocabularies, augmentation, batches, loader, corpora.
// The seeded generator (`Rng`, `RngState`) is exported once, from ops/.
export {
  formatManifest,
  type ManifestEntry,
  type ManifestFormat,
  manifestFormatOf,
  parseCsvManifest,
  parseJsonlManifest,
  readManifest,
  writeManifest,
  type WriteManifestOptions,
} from "./manifest.ts";
export { type AudioHeaderInfo, readAudioHeader } from "./audio_duration.ts";
export {
  type BlankPosition,
  checkTranscripts,
  ENGLISH_CHARS,
  findOutOfVocabulary,
  normalizeTranscript,
  type OutOfVocabularyRow,
  parseVocabulary,
  readVocabulary,
  type TranscriptNormalizeOptions,
  Vocabulary,
  writeVocabulary,
} from "./vocabulary.ts";
export { changeSpeed, drawSpeedFactor, speedPerturb, type SpeedPerturbConfig } from "./speed_perturb.ts";
export { addNoise, addNoiseAtDb, drawNoiseDb, type NoiseConfig } from "./noise.ts";
export { type AppliedMask, applySpecAugment, type SpecAugmentConfig } from "./spec_augment.ts";
export {
  type Batch,
  type EpochPlanOptions,
  filterByDuration,
  padBatch,
  planEpoch,
  type UtteranceFeatures,
} from "./batches.ts";
export {
  type AugmentConfig,
  type ExtractedFeatures,
  extractFeatures,
  type ExtractSetup,
  hasWaveformAugmentation,
} from "./extract.ts";
export { type CachedFeatures, crc32, FeatureCache, hashConfig } from "./feature_cache.ts";
export { BatchLoader, type LoaderOptions, type LoaderState } from "./loader.ts";
export { gunzip, isGzip, readTar, readTarFile, type TarEntry } from "./tar.ts";
export { downloadFile, type DownloadOptions, md5File, parseMd5List } from "./download.ts";
export {
  importLibriSpeechFolder,
  importLibriSpeechTarballs,
  LIBRISPEECH_SUBSETS,
  type LibriSpeechImportOptions,
  type LibriSpeechImportResult,
  librispeechUrl,
  normalizeLibriSpeechTranscript,
  parseTransFile,
} from "./librispeech.ts";
export {
  drawSpeaker,
  filterSentences,
  hasEspeak,
  speak,
  type SpeakerDraw,
  synthesizeCorpus,
  type SynthOptions,
  type SynthResult,
  VOICE_SPLITS,
  type VoiceSet,
} from "./synth.ts";
export {
  ACCENT_FOLDER,
  accentName,
  type AccentOptions,
  type AccentVoice,
  espeakDataDir,
  generateAccents,
  prepareEspeakData,
} from "./synth_accents.ts";
