/**
 * Audio as a model wants it: mono at the model's sample rate, whatever the file holds. Every
 * entry point that reads audio for a model (transcribe, train's eval and infer, the dataset
 * and batch loaders) goes through `readAudioAt`, so a 44.1 kHz stereo file is resampled and
 * mixed down instead of being turned into features at the wrong rate (which gives garbage
 * transcripts without any error).
 *
 * Contract: channels are averaged (audio.ts `downmix`), then resampled with the band-limited
 * resampler (resample.ts). The first converted file of a process is reported on stderr in one
 * line; the rest are converted silently (the note says so), so a whole 44.1 kHz corpus does not
 * print a line per file. `DENO_CTC_QUIET` silences the note.
 *
 * Not here: decoding (audio.ts), gain normalisation.
 */
import { envGet } from "../../ops/env.ts";
import { decodeAudioChannels, downmix } from "./audio.ts";
import { resample } from "./resample.ts";

/** What `readAudioAt` did to one file. */
export interface AudioConversion {
  /** The file. */
  path: string;
  /** Its own rate in Hz. */
  fromRate: number;
  /** The rate it was converted to. */
  toRate: number;
  /** Its channel count (1 when mono). */
  nChannels: number;
}

/** Options of `readAudioAt`. */
export interface ReadAudioAtOptions {
  /** Called for each file that needed conversion; default: one note on stderr per process. */
  onConversion?: (c: AudioConversion) => void;
}

let hasNoted = false;

/** The default `onConversion`: one stderr line for the first converted file of the process. */
export function noteFirstConversion(c: AudioConversion): void {
  if (hasNoted || envGet("DENO_CTC_QUIET")) return;
  hasNoted = true;
  const layout = c.nChannels === 1 ? "mono" : `${c.nChannels}-channel`;
  const what = [
    c.fromRate !== c.toRate ? `resampled from ${c.fromRate} Hz to ${c.toRate} Hz` : "",
    c.nChannels !== 1 ? "mixed down to mono" : "",
  ].filter((s) => s).join(" and ");
  console.error(
    `note: ${c.path} is ${layout} ${c.fromRate} Hz audio: ${what} (further conversions not reported)`,
  );
}

/**
 * Reads a WAV or FLAC file as mono Float32 samples at `sampleRate` (synchronously).
 *
 * @example
 * ```ts
 * const samples = readAudioAt("clip_44k_stereo.flac", 16000); // mono, 16 kHz
 * ```
 */
export function readAudioAt(
  path: string,
  sampleRate: number,
  options: ReadAudioAtOptions = {},
): Float32Array {
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) {
    throw new RangeError(
      `readAudioAt: sample rate must be a positive integer, got ${sampleRate} for ${path}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read audio file (${e instanceof Error ? e.message : String(e)})`);
  }
  const { channels, sampleRate: fromRate } = decodeAudioChannels(bytes, path);
  const mono = downmix(channels);
  if (fromRate === sampleRate && channels.length === 1) return mono;
  (options.onConversion ?? noteFirstConversion)({
    path,
    fromRate,
    toRate: sampleRate,
    nChannels: channels.length,
  });
  return fromRate === sampleRate ? mono : resample(mono, fromRate, sampleRate);
}
