import assert from "node:assert/strict";
import { join } from "node:path";
import { readAudioHeader } from "../../../data/audio/audio_duration.ts";
import { readManifest } from "../../../data/pipeline/manifest.ts";
import {
  drawSpeaker,
  filterSentences,
  fliteArgs,
  hasEspeak,
  hasFlite,
  speak,
  synthesizeCorpus,
  VOICE_SPLITS,
} from "../../../data/corpora/synth.ts";
import { ACCENT_FOLDER, generateAccents } from "../../../data/corpora/synth_accents.ts";
import { Vocabulary } from "../../../data/pipeline/vocabulary.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

const haveEspeak = hasEspeak();
if (!hasFlite()) console.warn("SKIPPED: synth tests that run flite (flite not found; apt-get install flite)");
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
    const dir = makeTestTempDir("synth_test_");
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
  name: "synthesizeCorpus() writes the same bytes every run, with either resampler",
  ignore: !haveEspeak,
  fn: async () => {
    for (const resampler of ["sox", "toolkit"] as const) {
      const [a, b] = [makeTestTempDir("synth_test_"), makeTestTempDir("synth_test_")];
      await synthesizeCorpus(["good morning to you"], { outDir: a, seed: 1, resampler });
      await synthesizeCorpus(["good morning to you"], { outDir: b, seed: 1, resampler });
      const [wa, wb] = [a, b].map((d) => Deno.readFileSync(join(d, "wav", "utt00000.wav")));
      assert.ok(wa.length > 1000 && wa.every((v, i) => v === wb[i]) && wa.length === wb.length, resampler);
    }
  },
});

Deno.test({
  name: "synthesizeCorpus() with the toolkit resampler writes 16 kHz audio of the same length as sox",
  ignore: !haveEspeak,
  fn: async () => {
    const a = makeTestTempDir("synth_test_"), b = makeTestTempDir("synth_test_");
    await synthesizeCorpus(["good morning"], { outDir: a, seed: 1, resampler: "sox" });
    await synthesizeCorpus(["good morning"], { outDir: b, seed: 1, resampler: "toolkit" });
    const ha = readAudioHeader(join(a, "wav", "utt00000.wav"));
    const hb = readAudioHeader(join(b, "wav", "utt00000.wav"));
    assert.equal(hb.sampleRate, 16000);
    assert.ok(Math.abs(ha.nSamples - hb.nSamples) <= 2, `${ha.nSamples} vs ${hb.nSamples}`);
  },
});

Deno.test("speaker draws depend only on seed and index, and the held-out split shares no voice or variant", () => {
  // The espeak-ng part of the training set (flite's share is tested below).
  const set = { ...VOICE_SPLITS.train, flite: undefined };
  assert.deepEqual(drawSpeaker(set, 5, 17), drawSpeaker(set, 5, 17));
  const draws = Array.from({ length: 400 }, (_, i) => drawSpeaker(set, 5, i));
  const voices = new Set(draws.map((d) => d.voice).filter((v) => !v.startsWith(`${ACCENT_FOLDER}/`)));
  assert.equal(voices.size, set.voices.length);
  // About half the utterances are in generated accents, drawn from all of them.
  const accents = draws.filter((d) => d.voice.startsWith(`${ACCENT_FOLDER}/`));
  assert.ok(accents.length > 160 && accents.length < 240, `${accents.length} of 400`);
  assert.ok(new Set(accents.map((d) => d.voice)).size > 40);
  // Adding accents to a set changes the voice of those utterances and nothing else.
  const plain = { ...set, generatedAccents: undefined };
  for (let i = 0; i < 50; i++) {
    assert.deepEqual({ ...drawSpeaker(set, 5, i), voice: "" }, { ...drawSpeaker(plain, 5, i), voice: "" });
  }
  assert.notDeepEqual(draws.slice(0, 20), Array.from({ length: 20 }, (_, i) => drawSpeaker(set, 6, i)));
  const { train, heldOut } = VOICE_SPLITS;
  assert.equal(train.voices.filter((v) => heldOut.voices.includes(v)).length, 0);
  // Adding flite to a set changes only the utterances it speaks.
  for (let i = 0; i < 200; i++) {
    const d = drawSpeaker(train, 5, i);
    if (d.engine !== "flite") assert.deepEqual(d, drawSpeaker(set, 5, i));
  }
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

Deno.test("generated accents are reproducible, recombine only the training voices' rules, with vowel shifts and formant scaling", () => {
  const a = generateAccents({ count: 60, seed: 7 });
  assert.deepEqual(a, generateAccents({ count: 60, seed: 7 }));
  assert.notDeepEqual(a, generateAccents({ count: 60, seed: 8 }));
  assert.equal(new Set(a.map((v) => v.text)).size, 60);
  assert.equal(a[7].name, `${ACCENT_FOLDER}/a07`);
  const text = a.map((v) => v.text).join("\n");
  // Nothing of the held-out voices: their phoneme tables, h-dropping, their rhythm line.
  assert.doesNotMatch(text, /phonemes (en-n|en-wm|en-us-nyc)\b/);
  assert.doesNotMatch(text, /replace \d+ h NULL|160 150 {2}180 180/);
  assert.match(text, /phonemes en-sc/);
  for (const v of a) {
    const vowels = new Set(["i:", "i", "I", "E", "a", "aa", "@", "a#", "3", "V", "u:", "U", "O:", "0", "A:"]);
    for (const d of ["eI", "aI", "OI", "oU", "aU", "i@", "e@", "A@", "O@", "o@", "U@"]) vowels.add(d);
    const shifts = v.text.split("\n").filter((l) => {
      const [word, , from, to] = l.split(" ");
      return word === "replace" && vowels.has(from) && vowels.has(to);
    });
    assert.ok(shifts.length >= 1, v.text);
    const formants = v.text.match(/^formant [123] (\d+) 100 100$/gm)!;
    assert.equal(formants.length, 3);
    for (const f of formants) {
      const pct = Number(f.split(" ")[2]);
      assert.ok(pct >= 92 && pct <= 108, f);
    }
  }
});

Deno.test({
  name: "an utterance in a generated accent is spoken (espeak-ng --path) and differs from the plain voice",
  ignore: !haveEspeak,
  fn: async () => {
    const dir = makeTestTempDir("synth_test_");
    const sentences = ["the strut of butter on the hot bath", "however she had enough to feel"];
    const voiceSet = { voices: ["en-us"], variants: ["m3"], speeds: [160], pitches: [50] };
    await synthesizeCorpus(sentences, { outDir: join(dir, "plain"), voiceSet, seed: 1 });
    const accented = { ...voiceSet, generatedAccents: { count: 4, seed: 3, share: 1 } };
    await synthesizeCorpus(sentences, { outDir: join(dir, "accent"), voiceSet: accented, seed: 1 });
    for (const name of ["utt00000.wav", "utt00001.wav"]) {
      const plain = Deno.readFileSync(join(dir, "plain", "wav", name));
      const accent = Deno.readFileSync(join(dir, "accent", "wav", name));
      assert.ok(accent.length > 16000, name);
      assert.notDeepEqual(accent, plain, name);
    }
    // The same voices with their keys in another order are the same voices: nothing is spoken again.
    const reordered = {
      generatedAccents: { share: 1, seed: 3, count: 4 },
      pitches: [50],
      speeds: [160],
      variants: ["m3"],
      voices: ["en-us"],
    };
    const again = await synthesizeCorpus(sentences, {
      outDir: join(dir, "accent"),
      voiceSet: reordered,
      seed: 1,
    });
    assert.equal(again.nSkipped, 2);
    // The folder remembers its voices: another seed's accents would be mixed in silently.
    await assert.rejects(
      () =>
        synthesizeCorpus(sentences, {
          outDir: join(dir, "accent"),
          voiceSet: { ...voiceSet, generatedAccents: { count: 4, seed: 4, share: 1 } },
          seed: 1,
        }),
      /speakers\.json: this folder's audio was spoken with other voices or seed/,
    );
  },
});

Deno.test("a quarter of the training draws speak through flite's rms and awb voices; the held-out split has none", () => {
  const draws = Array.from({ length: 4000 }, (_, i) => drawSpeaker(VOICE_SPLITS.train, 5, i));
  const flite = draws.filter((d) => d.engine === "flite");
  // Binomial(4000, 0.25): 5 standard deviations.
  assert.ok(Math.abs(flite.length - 1000) < 5 * Math.sqrt(4000 * 0.25 * 0.75), `${flite.length} flite draws`);
  assert.deepEqual([...new Set(flite.map((d) => d.voice))].sort(), ["awb", "rms"]);
  assert.ok(flite.every((d) => d.variant === ""));
  const held = Array.from({ length: 1000 }, (_, i) => drawSpeaker(VOICE_SPLITS.heldOut, 5, i));
  assert.ok(held.every((d) => d.engine === undefined));
  assert.throws(
    () => fliteArgs({ engine: "flite", voice: "en-us", variant: "", speed: 175, pitch: 50 }, "t", "o"),
    /not a training voice/,
  );
});

Deno.test({
  name: "speak() with flite writes 16 kHz mono speech whose length follows the drawn speed",
  ignore: !hasFlite(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "synth_flite_" });
    try {
      const seconds: number[] = [];
      for (const speed of [140, 210]) {
        const path = join(dir, `s${speed}.wav`);
        await speak("-the quick brown fox jumps over the lazy dog", path, {
          engine: "flite",
          voice: "rms",
          variant: "",
          speed,
          pitch: 50,
        });
        const h = readAudioHeader(path);
        assert.equal(h.sampleRate, 16000);
        assert.equal(h.nChannels, 1);
        seconds.push(h.durationS);
      }
      // duration_stretch = 175 / speed: 1.25 at 140 wpm, 0.83 at 210, a ratio of 1.5.
      assert.ok(Math.abs(seconds[0] / seconds[1] - 1.5) < 0.15, `durations ${seconds}`);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["s140.wav", "s210.wav"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
