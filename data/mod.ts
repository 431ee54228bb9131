/**
 * Public names of `data/`, re-exported by the root mod.ts.
 *
 * @module
 */
// Audio front end: decoding, resampling, features.
export { type Audio, decodeAudio, decodeAudioChannels, downmix, readAudio } from "./audio/audio.ts";
export { type DecodedAudio, decodeWav, encodeWav, type WavWriteOptions, writeWav } from "./audio/wav.ts";
export { decodeFlac, type FlacDecodeOptions } from "./audio/flac.ts";
export { resample, type ResampleOptions } from "./audio/resample.ts";
export {
  type AudioConversion,
  noteFirstConversion,
  readAudioAt,
  type ReadAudioAtOptions,
} from "./audio/model_audio.ts";
export { ComplexFft, RealFft } from "./features/fft.ts";
export { analysisWindow, type WindowKind, type WindowOptions } from "./features/window.ts";
export { type Matrix2D, withShape } from "./features/shaped.ts";
export { powerSpectrogram, StftFrames, type StftOptions } from "./features/stft.ts";
export {
  hzToMel,
  melFilterbank,
  type MelFilterbankOptions,
  melToHz,
  psfFilterbank,
  type PsfFilterbankOptions,
} from "./features/mel.ts";
export { addDither, type DitherOptions, peakNormalize, preemphasis } from "./features/signal.ts";
export {
  type FeatureNormalization,
  normalizeFeatures,
  type NormalizeOptions,
  padFrames,
} from "./features/normalize.ts";
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
} from "./features/features.ts";
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
} from "./features/psf.ts";
export { computeFeatures, type FeatureConfig, type Features } from "./features/compute_features.ts";

export * from "../formats/safetensors.ts";

// Data pipeline: manifests, vocabularies, augmentation, batches, loader, corpora.
// The seeded generator (`Rng`, `RngState`) is exported once, from ops/.
export {
  formatCsvField,
  formatManifest,
  type ManifestEntry,
  type ManifestFormat,
  manifestFormatOf,
  parseCsvManifest,
  parseJsonlManifest,
  readManifest,
  type ReadManifestOptions,
  readManifests,
  writeManifest,
  type WriteManifestOptions,
} from "./pipeline/manifest.ts";
export { type AudioHeaderInfo, readAudioHeader } from "./audio/audio_duration.ts";
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
} from "./pipeline/vocabulary.ts";
export {
  changeSpeed,
  drawSpeedFactor,
  speedPerturb,
  type SpeedPerturbConfig,
} from "./augment/speed_perturb.ts";
export { addNoise, addNoiseAtDb, drawNoiseDb, type NoiseConfig } from "./augment/noise.ts";
export {
  addColoredNoise,
  addNoiseAtSnr,
  coloredNoise,
  type ColoredNoiseConfig,
  meanPower,
  NOISE_COLORS,
  type NoiseColor,
} from "./augment/colored_noise.ts";
export {
  BAND_LIMIT_KINDS,
  bandLimit,
  type BandLimitConfig,
  type BandLimitKind,
  butterworth4InPlace,
  randomBandLimit,
} from "./augment/band_limit.ts";
export { convolveSame, randomReverb, type ReverbConfig, syntheticRir } from "./augment/reverb.ts";
export { applyGainDb, type GainConfig, randomGain } from "./augment/gain.ts";
export { type AppliedMask, applySpecAugment, type SpecAugmentConfig } from "./augment/spec_augment.ts";
export {
  type Batch,
  type EpochPlanOptions,
  filterByDuration,
  padBatch,
  planEpoch,
  type UtteranceFeatures,
} from "./pipeline/batches.ts";
export {
  type AugmentConfig,
  augmentWaveform,
  type ExtractedFeatures,
  extractFeatures,
  type ExtractSetup,
  hasWaveformAugmentation,
} from "./pipeline/extract.ts";
export { type CachedFeatures, crc32, FeatureCache, hashConfig } from "./pipeline/feature_cache.ts";
export { BatchLoader, type LoaderOptions, type LoaderState, type MixPool } from "./pipeline/loader.ts";
export { gunzip, isGzip, readTar, readTarFile, type TarEntry } from "./corpora/tar.ts";
export { downloadFile, type DownloadOptions, md5File, parseMd5List } from "./corpora/download.ts";
export {
  importLibriSpeechFolder,
  importLibriSpeechTarballs,
  LIBRISPEECH_SUBSETS,
  type LibriSpeechImportOptions,
  type LibriSpeechImportResult,
  librispeechUrl,
  normalizeLibriSpeechTranscript,
  parseTransFile,
} from "./corpora/librispeech.ts";
export {
  drawSpeaker,
  filterSentences,
  fliteArgs,
  type FliteVoice,
  hasEspeak,
  hasFlite,
  speak,
  type SpeakerDraw,
  type SynthEngine,
  synthesizeCorpus,
  type SynthOptions,
  type SynthResult,
  VOICE_SPLITS,
  type VoiceSet,
} from "./corpora/synth.ts";
export {
  ACCENT_FOLDER,
  accentName,
  type AccentOptions,
  type AccentVoice,
  espeakDataDir,
  generateAccents,
  prepareEspeakData,
} from "./corpora/synth_accents.ts";
export {
  EVAL_BUCKETS,
  EVAL_MIN_WORDS,
  EvalSentenceIndex,
  evaluationPrompts,
  isEvalSentence,
  lmTextLines,
  promptsOfSplit,
  REPO_PROMPTS_EVAL_FROM_LINE,
  splitRepoPrompts,
  trainingPrompts,
} from "./corpora/text_split.ts";
export {
  type DevSet,
  type DevSetOptions,
  DIGIT_WORDS,
  FSDD_SPEAKERS,
  fsddSpeaker,
  fsddTrainingEntries,
  makeDevSets,
  REAL_CLIP_FOLDERS,
} from "./corpora/dev_sets.ts";
