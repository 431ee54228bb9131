import assert from "node:assert/strict";
import { join } from "node:path";
import { readAudioHeader } from "../../data/audio_duration.ts";
import { readManifest } from "../../data/manifest.ts";
import { drawSpeaker, filterSentences, hasEspeak, synthesizeCorpus, VOICE_SPLITS } from "../../data/synth.ts";
import { Vocabulary } from "../../data/vocabulary.ts";

const haveEspeak = hasEspeak();
if (!haveEspeak) {
  console.warn(
    "SKIPPED: synth tests that run espeak-ng (espeak-ng not found; apt-get install espeak-ng sox)",
  );
}

Deno.test({
  name:
    "synthesizeCorpus() speaks 3 sentences into 16 kHz mono 16-bit WAVs with a manifest, and a re-run skips them",
  ignore: !haveEspeak,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const sentences = ["hello world", "it's a test", "one two three"];
    const res = await synthesizeCorpus(sentences, { outDir: dir, seed: 3, concurrency: 2 });
    assert.equal(res.nSynthesized, 3);
    const entries = readManifest(join(dir, "manifest.csv"));
    assert.deepEqual(entries.map((e) => e.transcript), sentences);
    for (const e of entries) {
      const h = readAudioHeader(e.audioPath);
      assert.equal(h.sampleRate, 16000);
      assert.equal(h.nChannels, 1);
      assert.ok(h.durationS > 0.3 && h.durationS < 5, `${e.audioPath}: ${h.durationS} s`);
      assert.equal(e.nBytes, 44 + 2 * h.nSamples);
    }
    assert.deepEqual([...Deno.readDirSync(join(dir, "wav"))].map((d) => d.name).sort(), [
      "utt00000.wav",
      "utt00001.wav",
      "utt00002.wav",
    ]);
    const again = await synthesizeCorpus(sentences, { outDir: dir, seed: 3, manifestName: "nemo.json" });
    assert.equal(again.nSynthesized, 0);
    assert.equal(again.nSkipped, 3);
    const nemo = readManifest(join(dir, "nemo.json"));
    assert.deepEqual(nemo.map((e) => e.audioPath), entries.map((e) => e.audioPath));
    assert.ok(nemo.every((e) => e.durationS! > 0.3));
    await assert.rejects(
      () => synthesizeCorpus(["hello world", "something else", "one two three"], { outDir: dir, seed: 3 }),
      /utt00001\.wav was made for "it's a test", not "something else"/,
    );
  },
});

Deno.test({
  name: "synthesizeCorpus() with the toolkit resampler writes 16 kHz audio of the same length as sox",
  ignore: !haveEspeak,
  fn: async () => {
    const a = Deno.makeTempDirSync(), b = Deno.makeTempDirSync();
    await synthesizeCorpus(["good morning"], { outDir: a, seed: 1, resampler: "sox" });
    await synthesizeCorpus(["good morning"], { outDir: b, seed: 1, resampler: "toolkit" });
    const ha = readAudioHeader(join(a, "wav", "utt00000.wav"));
    const hb = readAudioHeader(join(b, "wav", "utt00000.wav"));
    assert.equal(hb.sampleRate, 16000);
    assert.ok(Math.abs(ha.nSamples - hb.nSamples) <= 2, `${ha.nSamples} vs ${hb.nSamples}`);
  },
});

Deno.test("speaker draws depend only on seed and index, and the held-out split shares no voice or variant", () => {
  const set = VOICE_SPLITS.train;
  assert.deepEqual(drawSpeaker(set, 5, 17), drawSpeaker(set, 5, 17));
  const draws = Array.from({ length: 200 }, (_, i) => drawSpeaker(set, 5, i));
  assert.ok(new Set(draws.map((d) => d.voice)).size === set.voices.length);
  assert.notDeepEqual(draws.slice(0, 20), Array.from({ length: 20 }, (_, i) => drawSpeaker(set, 6, i)));
  const { train, heldOut } = VOICE_SPLITS;
  assert.equal(train.voices.filter((v) => heldOut.voices.includes(v)).length, 0);
  assert.equal(train.variants.filter((v) => heldOut.variants.includes(v)).length, 0);
});

Deno.test("filterSentences() keeps in-vocabulary sentences within the length limit, once each", () => {
  const v = Vocabulary.english();
  const kept = filterSentences(
    ["hello  world ", "Hello", "a very long sentence indeed", "x1", "hello world", ""],
    v,
    {
      maxChars: 12,
    },
  );
  assert.deepEqual(kept, ["hello world"]);
});
