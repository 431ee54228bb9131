import assert from "node:assert/strict";
import { join } from "node:path";
import { computeFeatures, type FeatureConfig } from "../../../data/features/compute_features.ts";
import { readAudio } from "../../../data/audio/audio.ts";
import type { Batch } from "../../../data/pipeline/batches.ts";
import { BatchLoader, type LoaderOptions } from "../../../data/pipeline/loader.ts";
import type { ManifestEntry } from "../../../data/pipeline/manifest.ts";
import { readManifest } from "../../../data/pipeline/manifest.ts";
import { Rng } from "../../../data/pipeline/rng.ts";
import { Vocabulary } from "../../../data/pipeline/vocabulary.ts";
import { writeWav } from "../../../data/audio/wav.ts";
import { testWithSharedData } from "../../shared_data.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

const FEATURES: FeatureConfig = { inputType: "logfbank", numFeatures: 40, normPerFeature: true };
const WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"];

/** Writes `n` WAVs of 0.2..1.6 s (chirps plus seeded noise); 8 kHz ones exercise resampling. */
function makeCorpus(n: number): { dir: string; entries: ManifestEntry[] } {
  const dir = makeTestTempDir("loader_test_");
  const rng = new Rng(11);
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < n; i++) {
    const rate = i % 5 === 4 ? 8000 : 16000;
    const len = Math.floor(rate * rng.range(0.2, 1.6));
    const x = new Float32Array(len);
    const f0 = 200 + 50 * i;
    for (let t = 0; t < len; t++) {
      x[t] = 0.3 * Math.sin((2 * Math.PI * f0 * t * (1 + t / len)) / rate) + 0.01 * rng.normal();
    }
    const path = join(dir, `u${i}.wav`);
    writeWav(path, x, rate);
    entries.push({
      audioPath: path,
      transcript: `${WORDS[i % 10]} ${WORDS[(i * 3) % 10]}`,
      source: `m.csv:${i + 2}`,
    });
  }
  return { dir, entries };
}

async function collect(loader: BatchLoader, maxBatches = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) {
    out.push(b);
    if (out.length >= maxBatches) break;
  }
  return out;
}

const corpus = makeCorpus(14);
const base: LoaderOptions = {
  features: FEATURES,
  vocabulary: Vocabulary.english(),
  batchSize: 4,
  nBuckets: 2,
  padTo: 8,
  seed: 5,
};
const augment = {
  speed: { factors: [0.9, 1.0, 1.1] },
  noise: { minDb: -60, maxDb: -40 },
  specAugment: { nFreqMasks: 2, freqWidth: 6, nTimeMasks: 2, timeWidth: 10 },
};

Deno.test("BatchLoader batches hold each utterance's computeFeatures output, padded to a multiple of padTo", async () => {
  using loader = new BatchLoader(corpus.entries, base);
  const batches = await collect(loader);
  assert.equal(batches.length, loader.nBatches);
  assert.equal(batches.reduce((s, b) => s + b.paths.length, 0), 14);
  const v = Vocabulary.english();
  for (const b of batches) {
    assert.equal(b.maxFrames % 8, 0);
    assert.equal(b.nFeatures, 40);
    assert.equal(b.features.length, b.paths.length * 40 * b.maxFrames);
    let tOff = 0;
    for (let k = 0; k < b.paths.length; k++) {
      const a = readAudio(b.paths[k]);
      const x = a.sampleRate === 16000 ? a.samples : null;
      if (x !== null) {
        const f = computeFeatures(x, FEATURES);
        assert.equal(b.featureLengths[k], f.nFrames);
        for (let r = 0; r < 40; r++) {
          const row = b.features.subarray((k * 40 + r) * b.maxFrames, (k * 40 + r + 1) * b.maxFrames);
          assert.deepEqual(row.subarray(0, f.nFrames), f.data.subarray(r * f.nFrames, (r + 1) * f.nFrames));
          assert.ok(row.subarray(f.nFrames).every((y) => y === 0));
        }
      }
      const t = b.targets.subarray(tOff, tOff + b.targetLengths[k]);
      assert.equal(v.decode(t), b.transcripts[k]);
      tOff += b.targetLengths[k];
    }
    assert.equal(tOff, b.targets.length);
  }
});

Deno.test("BatchLoader with 1 and 2 Workers gives batches identical to in-process extraction, augmentation on", async () => {
  const opts = { ...base, augment };
  using inProcess = new BatchLoader(corpus.entries, opts);
  const want = [...(await collect(inProcess)), ...(await collect(inProcess))];
  for (const nWorkers of [1, 2]) {
    using pooled = new BatchLoader(corpus.entries, { ...opts, nWorkers, prefetchBatches: 3 });
    const got = [...(await collect(pooled)), ...(await collect(pooled))];
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) {
      assert.deepEqual(got[i], want[i], `nWorkers ${nWorkers}, batch ${i}`);
    }
  }
});

Deno.test("BatchLoader augmentation repeats for a seed and changes with it", async () => {
  const opts = { ...base, augment, nBuckets: 1 };
  const a = await collect(new BatchLoader(corpus.entries, opts));
  const b = await collect(new BatchLoader(corpus.entries, opts));
  const c = await collect(new BatchLoader(corpus.entries, { ...opts, seed: 6 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.map((x) => x.features), c.map((x) => x.features));
  const plain = await collect(new BatchLoader(corpus.entries, { ...opts, augment: undefined }));
  assert.deepEqual(a.map((x) => x.paths), plain.map((x) => x.paths)); // same plan, different features
  assert.notDeepEqual(a[0].features, plain[0].features);
});

Deno.test("a BatchLoader resumed from a saved state yields the same next batches", async () => {
  const opts = { ...base, augment };
  using first = new BatchLoader(corpus.entries, opts);
  await collect(first); // epoch 0
  await collect(first, 2); // two batches into epoch 1
  const saved = JSON.parse(JSON.stringify(first.state()));
  assert.equal(saved.epoch, 1);
  assert.equal(saved.position, 2);
  const rest = [...(await collect(first)), ...(await collect(first, 2))];
  using resumed = new BatchLoader(corpus.entries, { ...opts, resume: saved, nWorkers: 1 });
  const again = [...(await collect(resumed)), ...(await collect(resumed, 2))];
  assert.deepEqual(again, rest);
  assert.deepEqual(resumed.state(), first.state());
});

Deno.test("BatchLoader drops utterances over maxDurationS and batches only the rest", async () => {
  using loader = new BatchLoader(corpus.entries, { ...base, maxDurationS: 1.0, nBuckets: 2, batchSize: 2 });
  assert.equal(loader.entries.length + loader.nDropped, 14);
  assert.ok(loader.nDropped > 0);
  assert.ok([...loader.durations].every((d) => d <= 1.0));
  const kept = new Set(loader.entries.map((e) => e.audioPath));
  for (const b of await collect(loader)) for (const p of b.paths) assert.ok(kept.has(p));
});

Deno.test("BatchLoader refuses transcripts outside the vocabulary, listing the rows", () => {
  const bad = corpus.entries.map((e, i) => (i === 3 ? { ...e, transcript: "Four!" } : e));
  assert.throws(() => new BatchLoader(bad, base), /m\.csv:5: "F" "!" in "Four!"/);
  using fixed = new BatchLoader(bad, { ...base, normalizeTranscripts: { lowerCase: true, unknown: "drop" } });
  assert.equal(fixed.entries[3].transcript, "four");
});

Deno.test("the feature cache is filled, hit on the next epoch, and a corrupt entry is recomputed identically", async () => {
  const cacheDir = makeTestTempDir("loader_test_");
  const opts = { ...base, cacheDir, augment: { specAugment: augment.specAugment } };
  using loader = new BatchLoader(corpus.entries, opts);
  const e0 = await collect(loader);
  assert.deepEqual(loader.cacheStats(), { hits: 0, misses: 14, corrupt: 0 });
  // Corrupt one entry: flip a payload byte.
  const sub = [...Deno.readDirSync(cacheDir)].find((d) => d.isDirectory)!.name;
  const file = join(cacheDir, sub, [...Deno.readDirSync(join(cacheDir, sub))][0].name);
  const bytes = Deno.readFileSync(file);
  bytes[bytes.length - 1] ^= 0x40;
  Deno.writeFileSync(file, bytes);
  const e1 = await collect(loader);
  assert.deepEqual(loader.cacheStats(), { hits: 13, misses: 15, corrupt: 1 });
  // Same features as a loader without cache, masks included.
  using fresh = new BatchLoader(corpus.entries, { ...opts, cacheDir: undefined });
  assert.deepEqual(e0, await collect(fresh));
  assert.deepEqual(e1, await collect(fresh));
  // Workers share the same cache folder and agree.
  using pooled = new BatchLoader(corpus.entries, { ...opts, nWorkers: 2 });
  assert.deepEqual(await collect(pooled), e0);
});

Deno.test("an unreadable audio file fails the epoch with its path, in-process and from a Worker", async () => {
  const entries = [...corpus.entries.slice(0, 3), {
    audioPath: "/nonexistent/x.wav",
    transcript: "one",
    durationS: 1,
  }];
  for (const nWorkers of [0, 1]) {
    using loader = new BatchLoader(entries, { ...base, batchSize: 4, nWorkers });
    await assert.rejects(() => collect(loader), /\/nonexistent\/x\.wav/, `nWorkers ${nWorkers}`);
  }
});

testWithSharedData(
  "BatchLoader over real speech gives the same batches with 2 Workers as in-process, with augmentation",
  "real/pocketsphinx_misc/manifest.csv",
  async (manifest) => {
    const entries = readManifest(manifest);
    const opts = { ...base, augment, batchSize: 3, nBuckets: 2 };
    using a = new BatchLoader(entries, opts);
    using b = new BatchLoader(entries, { ...opts, nWorkers: 2 });
    const want = await collect(a);
    assert.equal(want.reduce((s, x) => s + x.paths.length, 0), entries.length);
    assert.deepEqual(await collect(b), want);
  },
);
