import assert from "node:assert/strict";
import { decodeFlac } from "../../data/flac.ts";
import { decodeWav } from "../../data/wav.ts";
import { fixturePath } from "./front_end_fixtures.ts";

function read(name: string): Uint8Array {
  return Deno.readFileSync(fixturePath("audio", name));
}

// Each FLAC was encoded by sox/libFLAC from the WAV beside it (tests/fixtures/audio/make_audio.py).
for (
  const [flac, wav, bits, nCh] of [
    ["mono16_c0.flac", "mono16.wav", 16, 1],
    ["mono16_c5.flac", "mono16.wav", 16, 1],
    ["mono16_c8.flac", "mono16.wav", 16, 1],
    ["stereo16_c5.flac", "stereo16.wav", 16, 2],
    ["stereo24_c0.flac", "stereo24.wav", 24, 2],
    ["stereo24_c8.flac", "stereo24.wav", 24, 2],
    ["mono24_wasted.flac", "mono24_wasted.wav", 24, 1],
  ] as const
) {
  Deno.test(`decodeFlac() decodes ${flac} bit-exactly against its WAV source`, () => {
    const got = decodeFlac(read(flac), flac);
    const ref = decodeWav(read(wav), wav);
    assert.equal(got.bitsPerSample, bits);
    assert.equal(got.sampleRate, ref.sampleRate);
    assert.equal(got.channels.length, nCh);
    for (let c = 0; c < nCh; c++) {
      // Float32 holds every 16- and 24-bit integer exactly, so equality here is bit-exactness.
      assert.deepEqual(got.channels[c], ref.channels[c], `channel ${c} differs`);
    }
  });
}

Deno.test("decodeFlac() checks STREAMINFO's MD5 of the samples", () => {
  const bytes = read("mono16_c5.flac").slice();
  // STREAMINFO body starts at byte 8; its MD5 is the last 16 of its 34 bytes.
  bytes[8 + 18] ^= 0xff;
  assert.throws(() => decodeFlac(bytes, "md5.flac"), /md5\.flac: FLAC MD5 of decoded samples does not match/);
  assert.equal(decodeFlac(bytes, "md5.flac", { verifyMd5: false }).channels[0].length, 11200);
});

Deno.test("decodeFlac() reports a truncated file with its name", () => {
  const bytes = read("stereo16_c5.flac");
  assert.throws(
    () => decodeFlac(bytes.subarray(0, bytes.length - 500), "cut.flac"),
    /cut\.flac: truncated FLAC/,
  );
  assert.throws(() => decodeFlac(bytes.subarray(0, 20), "head.flac"), /head\.flac: truncated FLAC metadata/);
});

Deno.test("decodeFlac() reports a corrupted frame through its CRC", () => {
  const bytes = read("mono16_c8.flac").slice();
  bytes[bytes.length - 3000] ^= 0x10;
  assert.throws(
    () => decodeFlac(bytes, "flip.flac"),
    /flip\.flac: FLAC frame CRC-16 mismatch at byte \d+/,
  );
});

Deno.test("decodeFlac() reports lost frame sync at the first frame's byte offset", () => {
  const bytes = read("mono16_c0.flac").slice();
  // First frame follows the metadata; find it by its sync code 0xFFF8.
  let off = 4;
  for (let last = false; !last;) {
    last = (bytes[off] & 0x80) !== 0;
    off += 4 + ((bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3]);
  }
  assert.equal(bytes[off], 0xff);
  bytes[off] = 0x00;
  assert.throws(
    () => decodeFlac(bytes, "sync.flac"),
    new RegExp(`sync\\.flac: lost FLAC frame sync at byte ${off}`),
  );
});

Deno.test("decodeFlac() rejects a stream without the fLaC magic", () => {
  assert.throws(
    () => decodeFlac(new TextEncoder().encode("OggS\0\0\0\0"), "ogg.flac"),
    /ogg\.flac: not a FLAC stream/,
  );
});
