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

export * from "./safetensors.ts";
