import assert from "node:assert/strict";
import { decodeAudio, downmix, readAudio } from "../../../data/audio/audio.ts";
import { writeWav } from "../../../data/audio/wav.ts";
import { testWithSharedData } from "../../shared_data.ts";
import { fixturePath } from "../features/front_end_fixtures.ts";

Deno.test("readAudio() is synchronous and also works with await", async () => {
  const p = fixturePath("audio", "mono16.wav");
  const a = readAudio(p);
  assert.ok(a.samples instanceof Float32Array);
  const b = await readAudio(p);
  assert.deepEqual(b.samples, a.samples);
  assert.equal(a.sampleRate, 16000);
});

Deno.test("readAudio() sniffs FLAC by its magic bytes, whatever the file name", () => {
  const tmp = Deno.makeTempFileSync({ suffix: ".wav" });
  try {
    Deno.copyFileSync(fixturePath("audio", "stereo16_c5.flac"), tmp);
    const a = readAudio(tmp);
    const ref = readAudio(fixturePath("audio", "stereo16.wav"));
    assert.deepEqual(a.samples, ref.samples);
  } finally {
    Deno.removeSync(tmp);
  }
});

Deno.test("readAudio() averages stereo channels into mono", () => {
  const a = readAudio(fixturePath("audio", "stereo16.wav"));
  const bytes = Deno.readFileSync(fixturePath("audio", "stereo16.wav"));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const i = 1234;
  const l = view.getInt16(44 + 4 * i, true) / 32768;
  const r = view.getInt16(44 + 4 * i + 2, true) / 32768;
  assert.equal(a.samples[i], Math.fround((l + r) / 2));
});

Deno.test("downmix() returns the only channel of mono audio unchanged", () => {
  const ch = Float32Array.of(1, 2, 3);
  assert.equal(downmix([ch]), ch);
});

Deno.test("readAudio() names the file when it does not exist", () => {
  assert.throws(() => readAudio("/nonexistent/x.wav"), /\/nonexistent\/x\.wav: cannot read audio file/);
});

Deno.test("decodeAudio() rejects formats other than WAV and FLAC with the magic bytes it saw", () => {
  const mp3 = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(
    () => decodeAudio(mp3, "song.mp3"),
    /song\.mp3: unsupported audio format \(magic bytes 49 44 33 04/,
  );
  assert.throws(() => decodeAudio(new Uint8Array(3), "empty.wav"), /empty\.wav: file too short/);
});

Deno.test("writeWav() output reads back through readAudio()", () => {
  const tmp = Deno.makeTempFileSync({ suffix: ".wav" });
  try {
    const x = Float32Array.from({ length: 321 }, (_, i) => Math.round(Math.sin(i) * 1000) / 32768);
    writeWav(tmp, x, 8000);
    const a = readAudio(tmp);
    assert.equal(a.sampleRate, 8000);
    assert.deepEqual(a.samples, x);
  } finally {
    Deno.removeSync(tmp);
  }
});

testWithSharedData(
  "readAudio() reads a real 16 kHz clip from the shared data",
  "real/misc_clips/wav/cmu_arctic_a0024.wav",
  (path) => {
    const a = readAudio(path);
    assert.equal(a.sampleRate, 16000);
    assert.ok(a.samples.length > 16000 * 2, `only ${a.samples.length} samples`);
    let peak = 0;
    for (const v of a.samples) peak = Math.max(peak, Math.abs(v));
    assert.ok(peak > 0.05 && peak <= 1, `peak ${peak}`);
  },
);
