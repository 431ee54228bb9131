import assert from "node:assert/strict";
import { decodeWav, encodeWav } from "../../../data/audio/wav.ts";
import { downmix } from "../../../data/audio/audio.ts";
import { fixturePath, readF32 } from "../features/front_end_fixtures.ts";

function decodeFixture(name: string) {
  return decodeWav(Deno.readFileSync(fixturePath("audio", name)), name);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (
  const [name, rate, bits, nCh] of [
    ["pcm_u8.wav", 16000, 8, 1],
    ["pcm32.wav", 16000, 32, 1],
    ["float32_stereo.wav", 22050, 32, 2],
    ["float64.wav", 8000, 64, 1],
    ["pcm24_3ch_ext.wav", 16000, 24, 3],
  ] as const
) {
  Deno.test(`decodeWav() reads ${name} like libsndfile (scaling, channels, rate)`, () => {
    const d = decodeFixture(name);
    assert.equal(d.sampleRate, rate);
    assert.equal(d.bitsPerSample, bits);
    assert.equal(d.channels.length, nCh);
    const expected = readF32(fixturePath("audio", name.replace(".wav", ".expected.f32")));
    // The mixdown is averaged in float32 here and in float64 by numpy: allow one float32 rounding.
    assert.ok(maxAbsDiff(downmix(d.channels), expected) <= 1e-7, "mono mixdown differs from libsndfile's");
  });
}

Deno.test("decodeWav() reads 16-bit PCM so that value v reads as v / 32768", () => {
  const d = decodeFixture("mono16.wav");
  const bytes = Deno.readFileSync(fixturePath("audio", "mono16.wav"));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(d.channels[0][100], view.getInt16(44 + 200, true) / 32768);
  assert.equal(d.channels[0].length, (bytes.length - 44) / 2);
});

for (
  const options of [{ bitsPerSample: 16 }, { bitsPerSample: 24 }, { bitsPerSample: 32 }, {
    float: true,
  }] as const
) {
  Deno.test(`encodeWav() and decodeWav() round-trip ${JSON.stringify(options)} within one quantisation step`, () => {
    const x = new Float32Array(999);
    for (let i = 0; i < x.length; i++) x[i] = 0.9 * Math.sin(i * 0.05) * Math.cos(i * 0.001);
    x[5] = -1;
    x[6] = 1.5; // clips to the largest positive code in integer formats
    const d = decodeWav(encodeWav(x, 16000, options), "roundtrip.wav");
    const bits = "float" in options ? 0 : options.bitsPerSample;
    assert.equal(d.sampleRate, 16000);
    assert.equal(d.channels[0].length, x.length);
    const y = d.channels[0];
    assert.equal(y[5], -1);
    if (bits === 0) {
      assert.deepEqual(y, x);
    } else {
      assert.equal(y[6], Math.fround((2 ** (bits - 1) - 1) / 2 ** (bits - 1)));
      let m = 0;
      for (let i = 0; i < x.length; i++) if (i !== 6) m = Math.max(m, Math.abs(y[i] - x[i]));
      assert.ok(m <= 0.5 / 2 ** (bits - 1) + 1e-9, `round-trip error ${m}`);
    }
  });
}

Deno.test("decodeWav() rejects a truncated data chunk and names the file", () => {
  const bytes = Deno.readFileSync(fixturePath("audio", "mono16.wav"));
  assert.throws(() => decodeWav(bytes.subarray(0, 1000), "cut.wav"), /cut\.wav: truncated WAV, data chunk/);
  assert.throws(() => decodeWav(bytes.subarray(0, 8), "tiny.wav"), /tiny\.wav: truncated WAV/);
});

Deno.test("decodeWav() rejects files that are not RIFF/WAVE", () => {
  const bytes = new TextEncoder().encode("RIFX....WAVEfmt nonsense and more");
  assert.throws(() => decodeWav(bytes, "x.wav"), /x\.wav: not a RIFF\/WAVE file/);
});

Deno.test("decodeWav() rejects compressed WAV formats such as A-law with the format tag", () => {
  const bytes = encodeWav(new Float32Array(10), 8000);
  new DataView(bytes.buffer).setUint16(20, 6, true); // WAVE_FORMAT_ALAW
  assert.throws(() => decodeWav(bytes, "alaw.wav"), /alaw\.wav: unsupported WAV format tag 0x6/);
});

Deno.test("decodeWav() rejects a file without a data chunk", () => {
  const bytes = encodeWav(new Float32Array(10), 8000).slice(0, 36);
  new DataView(bytes.buffer).setUint32(4, 28, true);
  assert.throws(() => decodeWav(bytes, "nodata.wav"), /nodata\.wav: WAV has no 'data' chunk/);
});

Deno.test("decodeWav() rejects an unsupported bit depth", () => {
  const bytes = encodeWav(new Float32Array(10), 8000);
  new DataView(bytes.buffer).setUint16(34, 12, true);
  assert.throws(() => decodeWav(bytes, "b12.wav"), /b12\.wav: unsupported PCM bit depth 12/);
});

Deno.test("decodeWav() skips unknown chunks, including odd-sized ones with a pad byte", () => {
  const plain = encodeWav(Float32Array.of(0.5, -0.25), 16000);
  const extra = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]); // "LIST", 3 bytes + pad
  const bytes = new Uint8Array(plain.length + extra.length);
  bytes.set(plain.subarray(0, 36));
  bytes.set(extra, 36);
  bytes.set(plain.subarray(36), 36 + extra.length);
  assert.deepEqual(decodeWav(bytes, "list.wav").channels[0], Float32Array.of(0.5, -0.25));
});

Deno.test("decodeWav() reads a streamed WAV whose data size was left at 0xFFFFFFFF", () => {
  const bytes = encodeWav(Float32Array.of(0.25, -0.5, 0.75), 16000);
  new DataView(bytes.buffer).setUint32(40, 0xffffffff, true);
  assert.deepEqual(decodeWav(bytes, "stream.wav").channels[0], Float32Array.of(0.25, -0.5, 0.75));
});
