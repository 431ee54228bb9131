import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readAudio } from "../../../data/audio/audio.ts";
import { readAudioHeader } from "../../../data/audio/audio_duration.ts";
import { readManifest } from "../../../data/pipeline/manifest.ts";
import { encodeWav } from "../../../data/audio/wav.ts";
import { testWithSharedData } from "../../shared_data.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

const flac = fileURLToPath(
  new URL("../../fixtures/librispeech/LibriSpeech/dev-clean/84/121123/84-121123-0001.flac", import.meta.url),
);

Deno.test("readAudioHeader() gives a FLAC's rate, channels and exact sample count from STREAMINFO", () => {
  const h = readAudioHeader(flac);
  assert.equal(h.sampleRate, 16000);
  assert.equal(h.nChannels, 1);
  assert.equal(h.nSamples, readAudio(flac).samples.length);
  assert.equal(h.durationS, h.nSamples / 16000);
});

Deno.test("readAudioHeader() refuses a FLAC sample count the file is far too small to hold", async () => {
  const dir = await Deno.makeTempDir({ prefix: "audio_header_" });
  try {
    const bytes = Deno.readFileSync(flac);
    bytes[21] |= 0x0f; // the top 4 of STREAMINFO's 36 sample-count bits: about 2^36 samples
    const path = join(dir, "huge.flac");
    Deno.writeFileSync(path, bytes);
    assert.throws(() => readAudioHeader(path), /huge\.flac: FLAC STREAMINFO declares \d+ samples, more than/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readAudioHeader() reads WAVs with extra chunks before the data and rejects other files", () => {
  const dir = makeTestTempDir("audio_duration_test_");
  const wav = encodeWav(new Float32Array(12345), 22050);
  // Insert a LIST chunk between fmt and data, as many tools write.
  const list = new Uint8Array([..."LIST"].map((c) => c.charCodeAt(0)).concat([5, 0, 0, 0, 1, 2, 3, 4, 5, 0]));
  const withList = new Uint8Array(wav.length + list.length);
  withList.set(wav.subarray(0, 36));
  withList.set(list, 36);
  withList.set(wav.subarray(36), 36 + list.length);
  const p = join(dir, "a.wav");
  Deno.writeFileSync(p, withList);
  const h = readAudioHeader(p);
  assert.deepEqual([h.sampleRate, h.nChannels, h.nSamples], [22050, 1, 12345]);
  Deno.writeFileSync(join(dir, "b.mp3"), new Uint8Array(64).fill(0x49));
  assert.throws(() => readAudioHeader(join(dir, "b.mp3")), /b\.mp3: neither RIFF\/WAVE nor FLAC/);
});

testWithSharedData(
  "readAudioHeader() durations of real WAVs equal their decoded lengths",
  "real/pocketsphinx_misc/manifest.csv",
  (manifest) => {
    for (const e of readManifest(manifest)) {
      const h = readAudioHeader(e.audioPath);
      assert.equal(h.nSamples, readAudio(e.audioPath).samples.length, e.audioPath);
      assert.equal(e.nBytes, Deno.statSync(e.audioPath).size);
    }
  },
);
