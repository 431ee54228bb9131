/**
 * Fuzz target: WAV files through `decodeWav` (in memory) and `readAudioHeader` (from the file),
 * seeded with the committed PCM 8/16/24/32-bit, float and WAVE_FORMAT_EXTENSIBLE fixtures. The
 * targeted fields are the RIFF size, the `fmt ` chunk's size, channels, rate, block align and
 * bits, and the `data` chunk's size.
 */
import { decodeWav } from "../../data/audio/wav.ts";
import { readAudioHeader } from "../../data/audio/audio_duration.ts";
import type { FieldSpec, FuzzSeed, FuzzTarget } from "./mutate.ts";

const FIXTURES = new URL("../fixtures/audio/", import.meta.url);
const NAMES = [
  "mono16.wav",
  "pcm_u8.wav",
  "pcm32.wav",
  "float64.wav",
  "float32_stereo.wav",
  "pcm24_3ch_ext.wav",
];

/** Offsets of the size and count fields of a canonical 44-byte-header WAV. */
function wavFields(bytes: Uint8Array): FieldSpec[] {
  const fields: FieldSpec[] = [
    { offset: 4, nBytes: 4 },
    { offset: 16, nBytes: 4 },
    { offset: 22, nBytes: 2 },
    { offset: 24, nBytes: 4 },
    { offset: 28, nBytes: 4 },
    { offset: 32, nBytes: 2 },
    { offset: 34, nBytes: 2 },
  ];
  // The data chunk's size field, wherever the data chunk starts.
  for (let off = 12; off + 8 <= bytes.length;) {
    const size = new DataView(bytes.buffer, bytes.byteOffset).getUint32(off + 4, true);
    if (String.fromCharCode(...bytes.subarray(off, off + 4)) === "data") {
      fields.push({ offset: off + 4, nBytes: 4 });
      break;
    }
    off += 8 + size + (size & 1);
  }
  return fields;
}

/** The WAV target. */
export function wavTarget(): FuzzTarget {
  const seeds: FuzzSeed[] = NAMES.map((n) => {
    const bytes = Deno.readFileSync(new URL(n, FIXTURES));
    return { bytes, fields: wavFields(bytes) };
  });
  return {
    format: "WAV",
    seeds,
    needsFile: true,
    suffix: ".wav",
    read(bytes, label) {
      decodeWav(bytes, label);
      readAudioHeader(label);
    },
  };
}
