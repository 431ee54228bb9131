/**
 * Fuzz target: FLAC files through `decodeFlac` (in memory, MD5 checked) and `readAudioHeader`
 * (from the file), seeded with the committed mono/stereo, 16/24-bit, fixed/LPC fixtures. The
 * targeted fields are the metadata block header, STREAMINFO's block and frame sizes, its packed
 * rate/channels/bits/total-samples word (a total of 2^36 - 1 samples among them) and the first
 * frame header.
 */
import { decodeFlac } from "../../data/audio/flac.ts";
import { readAudioHeader } from "../../data/audio/audio_duration.ts";
import type { FieldSpec, FuzzSeed, FuzzTarget } from "./mutate.ts";

const FIXTURES = new URL("../fixtures/audio/", import.meta.url);
const NAMES = [
  "mono16_c0.flac",
  "mono16_c5.flac",
  "mono16_c8.flac",
  "mono24_wasted.flac",
  "stereo16_c5.flac",
];

// STREAMINFO starts at byte 8 (after "fLaC" and its 4-byte block header): all big-endian.
const FLAC_FIELDS: FieldSpec[] = [
  { offset: 4, nBytes: 4, isBigEndian: true }, // last flag, type, length
  { offset: 8, nBytes: 2, isBigEndian: true }, // min block size
  { offset: 10, nBytes: 2, isBigEndian: true }, // max block size
  { offset: 12, nBytes: 4, isBigEndian: true }, // min/max frame size
  { offset: 18, nBytes: 4, isBigEndian: true }, // rate | channels | bits
  { offset: 21, nBytes: 1 }, // bits | total samples (high 4 bits)
  { offset: 22, nBytes: 4, isBigEndian: true }, // total samples (low 32 bits)
];

/** The FLAC target. */
export function flacTarget(): FuzzTarget {
  const seeds: FuzzSeed[] = NAMES.map((n) => ({
    bytes: Deno.readFileSync(new URL(n, FIXTURES)),
    fields: FLAC_FIELDS,
  }));
  return {
    format: "FLAC",
    seeds,
    needsFile: true,
    suffix: ".flac",
    read(bytes, label) {
      decodeFlac(bytes, label);
      readAudioHeader(label);
    },
  };
}
