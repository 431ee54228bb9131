/**
 * RIFF/WAVE decoding and encoding.
 *
 * Contract: `decodeWav` reads PCM 8 (unsigned), 16, 24 and 32-bit integer samples and 32/64-bit
 * IEEE float samples, in plain `WAVE_FORMAT_PCM`/`WAVE_FORMAT_IEEE_FLOAT` files and in
 * `WAVE_FORMAT_EXTENSIBLE` files whose sub-format is one of those two, with any number of channels
 * and any sample rate. Integers are scaled so that a B-bit value v reads as v / 2^(B-1) (8-bit:
 * (u - 128) / 128), which keeps 8-24 bit samples exact in Float32. `encodeWav` writes 16/24/32-bit
 * PCM or 32-bit float.
 *
 * Not handled: compressed WAVE formats (A-law, mu-law, ADPCM), RF64/W64 (files over 4 GiB),
 * and cue/list metadata (skipped). Every malformed input raises an Error naming the file.
 */

/** Audio decoded into separate channels, before any downmix. */
export interface DecodedAudio {
  /** Samples per second per channel. */
  sampleRate: number;
  /** Bits per stored sample (8, 16, 24, 32 or 64). */
  bitsPerSample: number;
  /** One Float32Array per channel, all the same length, integer PCM scaled to [-1, 1). */
  channels: Float32Array[];
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourCC(bytes: Uint8Array, off: number): string {
  return String.fromCharCode(bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]);
}

/** True when `bytes` starts like a RIFF/WAVE file. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourCC(bytes, 0) === "RIFF" && fourCC(bytes, 8) === "WAVE";
}

/**
 * Decodes a RIFF/WAVE file held in memory.
 *
 * @param bytes the whole file
 * @param name the file name, used only in error messages
 * @example
 * ```ts
 * const { sampleRate, channels } = decodeWav(Deno.readFileSync("a.wav"), "a.wav");
 * ```
 */
export function decodeWav(bytes: Uint8Array, name: string): DecodedAudio {
  if (bytes.length < 12) throw new Error(`${name}: truncated WAV, only ${bytes.length} bytes`);
  if (!isWav(bytes)) throw new Error(`${name}: not a RIFF/WAVE file (bad magic bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 12;
  let format = -1;
  let nChannels = 0;
  let sampleRate = 0;
  let bitsPerSample = 0;
  let blockAlign = 0;
  let dataOff = -1;
  let dataLen = 0;
  while (off + 8 <= bytes.length) {
    const id = fourCC(bytes, off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === "fmt ") {
      if (size < 16 || body + size > bytes.length) {
        throw new Error(`${name}: truncated or too short 'fmt ' chunk (${size} bytes) at byte ${off}`);
      }
      format = view.getUint16(body, true);
      nChannels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      blockAlign = view.getUint16(body + 12, true);
      bitsPerSample = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40) throw new Error(`${name}: WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is only ${size} bytes`);
        // The sub-format GUID starts with the plain format tag; the rest is the fixed KSDATAFORMAT suffix.
        format = view.getUint16(body + 24, true);
      }
    } else if (id === "data") {
      dataOff = body;
      dataLen = size;
      if (body + size > bytes.length) {
        // Streaming writers leave the size at 0 or 0xFFFFFFFF; a real size that overruns means truncation.
        if (size === 0 || size === 0xffffffff) dataLen = bytes.length - body;
        else {
          throw new Error(
            `${name}: truncated WAV, data chunk declares ${size} bytes but only ${
              bytes.length - body
            } remain`,
          );
        }
      }
      if (format !== -1) break;
    }
    off = body + size + (size & 1);
  }
  if (format === -1) throw new Error(`${name}: WAV has no 'fmt ' chunk before the end of the file`);
  if (dataOff < 0) throw new Error(`${name}: WAV has no 'data' chunk`);
  if (nChannels < 1) throw new Error(`${name}: WAV declares ${nChannels} channels`);
  if (sampleRate < 1) throw new Error(`${name}: WAV declares sample rate ${sampleRate}`);
  const isFloat = format === FORMAT_FLOAT;
  if (format !== FORMAT_PCM && !isFloat) {
    throw new Error(`${name}: unsupported WAV format tag 0x${format.toString(16)} (only PCM and IEEE float)`);
  }
  if (isFloat ? bitsPerSample !== 32 && bitsPerSample !== 64 : ![8, 16, 24, 32].includes(bitsPerSample)) {
    throw new Error(`${name}: unsupported ${isFloat ? "float" : "PCM"} bit depth ${bitsPerSample}`);
  }
  const bytesPerSample = bitsPerSample >> 3;
  const frameBytes = bytesPerSample * nChannels;
  if (blockAlign !== 0 && blockAlign !== frameBytes) {
    throw new Error(
      `${name}: WAV block align ${blockAlign} does not match ${nChannels} x ${bitsPerSample} bits`,
    );
  }
  const nFrames = Math.floor(dataLen / frameBytes);
  const channels: Float32Array[] = [];
  for (let c = 0; c < nChannels; c++) channels.push(new Float32Array(nFrames));
  for (let c = 0; c < nChannels; c++) {
    const out = channels[c];
    let p = dataOff + c * bytesPerSample;
    if (isFloat && bitsPerSample === 32) {
      for (let i = 0; i < nFrames; i++, p += frameBytes) out[i] = view.getFloat32(p, true);
    } else if (isFloat) {
      for (let i = 0; i < nFrames; i++, p += frameBytes) out[i] = view.getFloat64(p, true);
    } else if (bitsPerSample === 8) {
      for (let i = 0; i < nFrames; i++, p += frameBytes) out[i] = (bytes[p] - 128) / 128;
    } else if (bitsPerSample === 16) {
      for (let i = 0; i < nFrames; i++, p += frameBytes) out[i] = view.getInt16(p, true) / 32768;
    } else if (bitsPerSample === 24) {
      for (let i = 0; i < nFrames; i++, p += frameBytes) {
        const v = (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16)) << 8 >> 8;
        out[i] = v / 8388608;
      }
    } else {
      for (let i = 0; i < nFrames; i++, p += frameBytes) out[i] = view.getInt32(p, true) / 2147483648;
    }
  }
  return { sampleRate, bitsPerSample, channels };
}

/** Options of {@link encodeWav} and {@link writeWav}. */
export interface WavWriteOptions {
  /** 16 (default), 24 or 32-bit integer PCM, or 32-bit float when `float` is set. */
  bitsPerSample?: 16 | 24 | 32;
  /** Store IEEE float32 samples instead of integers (bitsPerSample must then be 32). */
  float?: boolean;
}

/**
 * Encodes mono samples in [-1, 1] as a WAV file; integer formats round to nearest and clip.
 *
 * @example
 * ```ts
 * const bytes = encodeWav(new Float32Array(16000), 16000, { bitsPerSample: 24 });
 * ```
 */
export function encodeWav(
  samples: Float32Array,
  sampleRate: number,
  options: WavWriteOptions = {},
): Uint8Array {
  const bits = options.bitsPerSample ?? (options.float ? 32 : 16);
  const isFloat = options.float ?? false;
  if (![16, 24, 32].includes(bits) || (isFloat && bits !== 32)) {
    throw new RangeError(`encodeWav: unsupported bitsPerSample ${bits}${isFloat ? " for float" : ""}`);
  }
  if (!(sampleRate > 0) || !Number.isInteger(sampleRate)) {
    throw new RangeError(`encodeWav: sample rate must be a positive integer, got ${sampleRate}`);
  }
  const bps = bits >> 3;
  const n = samples.length;
  const dataLen = n * bps;
  const out = new Uint8Array(44 + dataLen + (dataLen & 1));
  const view = new DataView(out.buffer);
  const ascii = (off: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[off + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, out.length - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, isFloat ? FORMAT_FLOAT : FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * bps, true);
  view.setUint16(32, bps, true);
  view.setUint16(34, bits, true);
  ascii(36, "data");
  view.setUint32(40, dataLen, true);
  const scale = 2 ** (bits - 1);
  const lo = -scale;
  const hi = scale - 1;
  let p = 44;
  for (let i = 0; i < n; i++, p += bps) {
    if (isFloat) {
      view.setFloat32(p, samples[i], true);
      continue;
    }
    let v = Math.round(samples[i] * scale);
    v = v < lo ? lo : v > hi ? hi : v;
    if (bits === 16) view.setInt16(p, v, true);
    else if (bits === 32) view.setInt32(p, v, true);
    else {
      out[p] = v & 0xff;
      out[p + 1] = (v >> 8) & 0xff;
      out[p + 2] = (v >> 16) & 0xff;
    }
  }
  return out;
}

/**
 * Writes mono samples in [-1, 1] to a WAV file (16-bit PCM unless told otherwise).
 *
 * @example
 * ```ts
 * writeWav("tone.wav", new Float32Array(16000), 16000, { bitsPerSample: 16 });
 * ```
 */
export function writeWav(
  path: string,
  samples: Float32Array,
  sampleRate: number,
  options: WavWriteOptions = {},
): void {
  Deno.writeFileSync(path, encodeWav(samples, sampleRate, options));
}
