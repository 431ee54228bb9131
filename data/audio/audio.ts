/**
 * The audio entry point: read a WAV or FLAC file (sniffed by its magic bytes, not its name) and
 * return mono Float32 samples at the file's own rate.
 *
 * Contract: synchronous (so `readAudio(p)` and `await readAudio(p)` both work); multichannel
 * audio is averaged to mono; integer PCM is scaled so a B-bit value v reads as v / 2^(B-1).
 * Does not resample (see resample.ts) and does not normalise gain.
 */
import { decodeFlac, isFlac } from "./flac.ts";
import { type DecodedAudio, decodeWav, isWav } from "./wav.ts";

export { type DecodedAudio, decodeWav, encodeWav, type WavWriteOptions, writeWav } from "./wav.ts";
export { decodeFlac, type FlacDecodeOptions } from "./flac.ts";

/** Mono audio: samples in [-1, 1) and their rate in Hz. */
export interface Audio {
  /** Mono samples (channels averaged). */
  samples: Float32Array;
  /** Samples per second. */
  sampleRate: number;
}

/** Averages channels into one (returns the only channel itself when there is one). */
export function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  const nCh = channels.length;
  for (let c = 0; c < nCh; c++) {
    const ch = channels[c];
    for (let i = 0; i < n; i++) out[i] += ch[i];
  }
  const inv = 1 / nCh;
  for (let i = 0; i < n; i++) out[i] *= inv;
  return out;
}

/**
 * Decodes WAV or FLAC bytes into separate channels, choosing the decoder by magic bytes.
 *
 * @param bytes the whole file
 * @param name the file name, used only in error messages
 */
export function decodeAudioChannels(bytes: Uint8Array, name: string): DecodedAudio {
  if (isWav(bytes)) return decodeWav(bytes, name);
  if (isFlac(bytes)) return decodeFlac(bytes, name);
  if (bytes.length < 12) throw new Error(`${name}: file too short (${bytes.length} bytes) to be WAV or FLAC`);
  const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new Error(`${name}: unsupported audio format (magic bytes ${magic}; expected RIFF/WAVE or fLaC)`);
}

/**
 * Decodes WAV or FLAC bytes into mono Float32 samples.
 *
 * @param bytes the whole file
 * @param name the file name, used only in error messages
 * @example
 * ```ts
 * const { samples, sampleRate } = decodeAudio(Deno.readFileSync("a.flac"), "a.flac");
 * ```
 */
export function decodeAudio(bytes: Uint8Array, name: string): Audio {
  const { channels, sampleRate } = decodeAudioChannels(bytes, name);
  return { samples: downmix(channels), sampleRate };
}

/**
 * Reads a WAV or FLAC file into mono Float32 samples (synchronously).
 *
 * @example
 * ```ts
 * const { samples, sampleRate } = readAudio("clip.wav");
 * ```
 */
export function readAudio(path: string): Audio {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read audio file (${e instanceof Error ? e.message : String(e)})`);
  }
  return decodeAudio(bytes, path);
}
