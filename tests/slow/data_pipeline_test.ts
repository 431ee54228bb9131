/**
 * End-to-end data pipeline on synthetic speech: espeak-ng corpus (train voices and a held-out
 * split with disjoint voices) -> manifests -> BatchLoader with 2 Workers, the feature cache and
 * augmentation over two epochs, checked against in-process extraction. Needs espeak-ng and sox.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BatchLoader } from "../../data/pipeline/loader.ts";
import { readManifest } from "../../data/pipeline/manifest.ts";
import {
  drawSpeaker,
  filterSentences,
  hasEspeak,
  synthesizeCorpus,
  VOICE_SPLITS,
} from "../../data/corpora/synth.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { makeTestTempDir } from "../temp_dir.ts";

const haveEspeak = hasEspeak();
if (!haveEspeak) console.warn("SKIPPED: slow data pipeline test needs espeak-ng and sox");

Deno.test({
  name: "synthetic train and held-out corpora flow through the Worker loader with cache and augmentation",
  ignore: !haveEspeak,
  fn: async () => {
    const dir = makeTestTempDir("data_pipeline_test_");
    const text = Deno.readTextFileSync(
      fileURLToPath(new URL("../../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
    );
    const vocab = Vocabulary.english();
    const sentences = filterSentences(text.split("\n"), vocab, { maxChars: 60 });
    const train = await synthesizeCorpus(sentences.slice(0, 48), { outDir: join(dir, "train"), seed: 1 });
    const held = await synthesizeCorpus(sentences.slice(48, 60), {
      outDir: join(dir, "heldout"),
      seed: 1,
      voiceSet: VOICE_SPLITS.heldOut,
    });
    const trainVoices = new Set(train.entries.map((_, i) => drawSpeaker(VOICE_SPLITS.train, 1, i).voice));
    const heldVoices = new Set(held.entries.map((_, i) => drawSpeaker(VOICE_SPLITS.heldOut, 1, i).voice));
    assert.equal([...heldVoices].filter((v) => trainVoices.has(v)).length, 0);

    const entries = readManifest(train.manifestPath);
    const options = {
      features: { inputType: "logfbank" as const, numFeatures: 64, dither: 1e-5, normPerFeature: true },
      vocabulary: vocab,
      batchSize: 8,
      nBuckets: 3,
      padTo: 16,
      seed: 7,
      cacheDir: join(dir, "cache"),
      augment: { specAugment: { nFreqMasks: 2, freqWidth: 8, nTimeMasks: 2, timeWidth: 20 } },
    };
    using pooled = new BatchLoader(entries, { ...options, nWorkers: 2 });
    using local = new BatchLoader(entries, { ...options, cacheDir: undefined });
    for (let epoch = 0; epoch < 2; epoch++) {
      const a = [];
      for await (const b of pooled) a.push(b);
      const b = [];
      for await (const x of local) b.push(x);
      assert.deepEqual(a, b, `epoch ${epoch}`);
      assert.equal(a.reduce((s, x) => s + x.paths.length, 0), 48);
    }
    // Every utterance now has one cache entry.
    let nEntries = 0;
    for (const d of Deno.readDirSync(options.cacheDir)) {
      nEntries += [...Deno.readDirSync(join(options.cacheDir, d.name))].length;
    }
    assert.equal(nEntries, 48);
    const heldLoader = new BatchLoader(readManifest(held.manifestPath), {
      ...options,
      augment: undefined,
      shuffle: false,
    });
    let n = 0;
    for await (const b of heldLoader) n += b.paths.length;
    assert.equal(n, 12);
  },
});
