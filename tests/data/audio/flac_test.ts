import assert from "node:assert/strict";
import { decodeFlac } from "../../../data/audio/flac.ts";
import { decodeWav } from "../../../data/audio/wav.ts";
import { fixturePath } from "../features/front_end_fixtures.ts";

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

/** MSB-first bit writer for hand-built FLAC streams. */
class BitWriter {
  bits: number[] = [];
  put(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) & 1);
  }
  signed(value: number, n: number): void {
    this.put(value < 0 ? value + 2 ** n : value, n);
  }
  unary(q: number): void {
    for (let i = 0; i < q; i++) this.bits.push(0);
    this.bits.push(1);
  }
  alignToByte(): void {
    while (this.bits.length % 8) this.bits.push(0);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.bits.length >> 3);
    for (let i = 0; i < out.length; i++) {
      for (let b = 0; b < 8; b++) out[i] = (out[i] << 1) | this.bits[8 * i + b];
    }
    return out;
  }
}

function crc(bytes: Uint8Array, poly: number, width: number): number {
  let c = 0;
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  for (const byte of bytes) {
    c ^= byte << (width - 8);
    for (let b = 0; b < 8; b++) c = c & top ? ((c << 1) ^ poly) & mask : (c << 1) & mask;
  }
  return c;
}

Deno.test("decodeFlac() handles side/right stereo, escaped Rice partitions, wasted bits and variable block size", () => {
  // One 16-sample stereo frame built by hand. Side (17 bits) is FIXED order 1 with one escaped
  // partition (raw 6-bit residuals) and one Rice partition (k = 2); right is VERBATIM with 2 wasted bits.
  const n = 16;
  const side = [300];
  const residuals = [5, -7, 31, -32, 0, 1, -1, 2, -3, 4, -5, 6, 0, 1, -2];
  for (const r of residuals) side.push(side[side.length - 1] + r);
  const right14 = Array.from({ length: n }, (_, i) => (i * 977) % 8192 - 4096);
  const right = right14.map((v) => v * 4);
  const left = side.map((s, i) => s + right[i]);

  const head = new BitWriter();
  head.put(0x664c6143, 32); // "fLaC"
  head.put(0x80, 8); // last metadata block, STREAMINFO
  head.put(34, 24);
  head.put(n, 16);
  head.put(n, 16);
  head.put(0, 24);
  head.put(0, 24);
  head.put(16000, 20);
  head.put(1, 3); // 2 channels
  head.put(15, 5); // 16 bits
  head.put(0, 4);
  head.put(n, 32); // total samples
  for (let i = 0; i < 16; i++) head.put(0, 8); // no MD5
  const frame = new BitWriter();
  frame.put(0x3ffe, 14);
  frame.put(0, 1);
  frame.put(1, 1); // variable block size
  frame.put(6, 4); // block size - 1 in 8 bits below
  frame.put(0, 4); // rate from STREAMINFO
  frame.put(9, 4); // side/right
  frame.put(4, 3); // 16 bits
  frame.put(0, 1);
  frame.put(0, 8); // coded sample number 0
  frame.put(n - 1, 8);
  frame.put(crc(frame.bytes(), 0x07, 8), 8);
  // Subframe 0: side, FIXED order 1.
  frame.put(0, 1);
  frame.put(9, 6);
  frame.put(0, 1);
  frame.signed(side[0], 17);
  frame.put(0, 2); // 4-bit Rice parameters
  frame.put(1, 4); // partition order 1: 2 partitions of 8 samples (first holds 7 residuals)
  frame.put(15, 4); // escape
  frame.put(6, 5); // 6-bit raw residuals
  for (let i = 0; i < 7; i++) frame.signed(residuals[i], 6);
  frame.put(2, 4); // Rice k = 2
  for (let i = 7; i < 15; i++) {
    const r = residuals[i];
    const u = r >= 0 ? 2 * r : -2 * r - 1;
    frame.unary(u >> 2);
    frame.put(u & 3, 2);
  }
  // Subframe 1: right, VERBATIM with 2 wasted bits (flag, then unary 2 - 1).
  frame.put(0, 1);
  frame.put(1, 6);
  frame.put(1, 1);
  frame.unary(1);
  for (const v of right14) frame.signed(v, 14);
  frame.alignToByte();
  frame.put(crc(frame.bytes(), 0x8005, 16), 16);
  const a = head.bytes();
  const b = frame.bytes();
  const stream = new Uint8Array(a.length + b.length);
  stream.set(a);
  stream.set(b, a.length);

  const d = decodeFlac(stream, "handmade.flac");
  assert.equal(d.sampleRate, 16000);
  assert.deepEqual(Array.from(d.channels[0], (v) => v * 32768), left);
  assert.deepEqual(Array.from(d.channels[1], (v) => v * 32768), right);
});

Deno.test("decodeFlac() decodes a stream whose STREAMINFO leaves the sample count unknown (0)", () => {
  const bytes = read("stereo16_c5.flac").slice();
  // Total samples: the low 4 bits of STREAMINFO byte 13 and bytes 14-17 (body starts at byte 8).
  bytes[8 + 13] &= 0xf0;
  bytes.fill(0, 8 + 14, 8 + 18);
  const got = decodeFlac(bytes, "unknown_length.flac");
  const ref = decodeWav(read("stereo16.wav"), "stereo16.wav");
  assert.deepEqual(got.channels[1], ref.channels[1]);
});

Deno.test("decodeFlac() skips an ID3v2 tag in front of the stream", () => {
  const flac = read("mono16_c5.flac");
  const tag = new Uint8Array(10 + 20);
  tag.set([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 20]);
  const bytes = new Uint8Array(tag.length + flac.length);
  bytes.set(tag);
  bytes.set(flac, tag.length);
  assert.deepEqual(decodeFlac(bytes, "id3.flac").channels[0], decodeFlac(flac, "plain.flac").channels[0]);
});

/** A copy of `bytes` whose STREAMINFO declares `nSamples` (36 bits) samples. */
function withTotalSamples(bytes: Uint8Array, nSamples: number): Uint8Array {
  const out = bytes.slice();
  // STREAMINFO body at byte 8; total samples: the low 4 bits of byte 21, then bytes 22..25.
  out[21] = (out[21] & 0xf0) | Math.floor(nSamples / 2 ** 32);
  new DataView(out.buffer).setUint32(22, nSamples % 2 ** 32);
  return out;
}

Deno.test("decodeFlac() refuses a STREAMINFO sample count of 2^36 - 1 before allocating for it", () => {
  // Found by tests/fuzz (FLAC seed 1 input 26): the count sized the output buffers directly.
  const bad = withTotalSamples(read("mono16_c5.flac"), 2 ** 36 - 1);
  assert.throws(
    () => decodeFlac(bad, "huge.flac"),
    /^Error: huge\.flac: FLAC STREAMINFO declares 68719476735 samples but \d+ bytes of frames hold at most \d+$/,
  );
});

Deno.test("decodeFlac() refuses frames that run past the sample count STREAMINFO declares", () => {
  const good = read("mono16_c5.flac");
  const declared = decodeFlac(good, "good.flac").channels[0].length;
  assert.throws(
    () => decodeFlac(withTotalSamples(good, declared - 100), "short.flac"),
    /short\.flac: FLAC frame at byte \d+ runs past the \d+ samples declared in STREAMINFO/,
  );
});
