/**
 * Audio duration from the file header alone (WAV `fmt `/`data` chunks, FLAC STREAMINFO), so a
 * loader can bucket and filter thousands of utterances by duration without decoding them.
 *
 * Does not decode samples and does not handle compressed WAV or FLAC files whose STREAMINFO
 * leaves the total sample count unknown (0); both raise an Error naming the file.
 */
import { maxFlacSamples } from "./flac.ts";

/** Header facts about an audio file. */
export interface AudioHeaderInfo {
  /** Samples per second. */
  sampleRate: number;
  /** Channel count. */
  nChannels: number;
  /** Samples per channel. */
  nSamples: number;
  /** nSamples / sampleRate. */
  durationS: number;
}

function readAt(file: Deno.FsFile, offset: number, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  file.seekSync(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const r = file.readSync(buf.subarray(got));
    if (r === null || r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/**
 * Reads the header of a WAV or FLAC file and returns its rate, channels and duration.
 *
 * @example
 * ```ts
 * const { durationS } = readAudioHeader("clip.wav");
 * ```
 */
export function readAudioHeader(path: string): AudioHeaderInfo {
  using file = Deno.openSync(path, { read: true });
  const head = readAt(file, 0, 42);
  const tag = String.fromCharCode(...head.subarray(0, 4));
  if (tag === "fLaC") {
    if (head.length < 42) throw new Error(`${path}: truncated FLAC header`);
    const dv = new DataView(head.buffer, head.byteOffset, head.length);
    // STREAMINFO body starts at byte 8: 10 bytes of block/frame sizes, then
    // 20 bits rate | 3 bits channels-1 | 5 bits bps-1 | 36 bits total samples.
    const b = 8 + 10;
    const sampleRate = (dv.getUint16(b) << 4) | (head[b + 2] >> 4);
    const nChannels = ((head[b + 2] >> 1) & 7) + 1;
    const nSamples = (head[b + 3] & 0x0f) * 2 ** 32 + dv.getUint32(b + 4);
    if ((head[4] & 0x7f) !== 0) throw new Error(`${path}: FLAC does not start with STREAMINFO`);
    if (nSamples === 0) throw new Error(`${path}: FLAC STREAMINFO has an unknown sample count`);
    if (sampleRate === 0) throw new Error(`${path}: FLAC STREAMINFO has sample rate 0`);
    const fileSize = file.statSync().size;
    if (nSamples > maxFlacSamples(fileSize - 42, nChannels)) {
      throw new Error(
        `${path}: FLAC STREAMINFO declares ${nSamples} samples, more than a file of ${fileSize} bytes can hold`,
      );
    }
    return { sampleRate, nChannels, nSamples, durationS: nSamples / sampleRate };
  }
  if (tag !== "RIFF" || String.fromCharCode(...head.subarray(8, 12)) !== "WAVE") {
    throw new Error(`${path}: neither RIFF/WAVE nor FLAC (starts with "${tag}")`);
  }
  const fileSize = file.statSync().size;
  let off = 12;
  let blockAlign = 0;
  let sampleRate = 0;
  let nChannels = 0;
  while (off + 8 <= fileSize) {
    const ch = readAt(file, off, 24);
    const dv = new DataView(ch.buffer, ch.byteOffset, ch.length);
    const id = String.fromCharCode(...ch.subarray(0, 4));
    let size = dv.getUint32(4, true);
    if (id === "fmt ") {
      if (ch.length < 24) throw new Error(`${path}: truncated fmt chunk at byte ${off}`);
      nChannels = dv.getUint16(10, true);
      sampleRate = dv.getUint32(12, true);
      blockAlign = dv.getUint16(20, true);
    } else if (id === "data") {
      if (blockAlign === 0 || sampleRate === 0) {
        throw new Error(`${path}: data chunk before a valid fmt chunk`);
      }
      // Streams written by some tools carry 0 or 0xFFFFFFFF as size: fall back to the file's end.
      if (size === 0 || size === 0xffffffff || off + 8 + size > fileSize) size = fileSize - off - 8;
      const nSamples = Math.floor(size / blockAlign);
      return { sampleRate, nChannels, nSamples, durationS: nSamples / sampleRate };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk in WAV file`);
}
