/**
 * The training data path of a config (models/training_data.ts) and the trainer's Worker-loader
 * path: validation errors, the old fields mapped onto `data.augment`, a seeded and resumable
 * batch stream (N steps = N/2 steps + resume, loss for loss), the mix share, and augmentation
 * reaching the batches the trainer gets. Audio is a few short synthetic WAVs; the model is tiny.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { writeWav } from "../../data/audio/wav.ts";
import { fsddSpeaker, fsddTrainingEntries } from "../../data/corpora/dev_sets.ts";
import type { Batch } from "../../data/pipeline/batches.ts";
import type { BatchLoader } from "../../data/pipeline/loader.ts";
import { type ManifestEntry, writeManifest } from "../../data/pipeline/manifest.ts";
import { Rng } from "../../data/pipeline/rng.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { overrideConfig } from "../../models/configs/mod.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { type StepLog, train } from "../../models/trainer.ts";
import {
  makeTrainingLoader,
  resolveAugment,
  usesLoader,
  validateDataConfig,
} from "../../models/training_data.ts";
import { testWithSharedData } from "../shared_data.ts";

const WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"];

/** `n` short WAVs (tones with seeded noise) named `<prefix><i>.wav`, with their entries. */
function makeWavs(
  dir: string,
  n: number,
  prefix: string,
  transcript: (i: number) => string,
): ManifestEntry[] {
  const rng = new Rng(prefix.length * 7 + n);
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < n; i++) {
    const rate = 16000;
    const len = Math.floor(rate * rng.range(0.15, 0.35));
    const x = new Float32Array(len);
    const f0 = 180 + 40 * i;
    for (let t = 0; t < len; t++) x[t] = 0.3 * Math.sin((2 * Math.PI * f0 * t) / rate) + 0.02 * rng.normal();
    const path = join(dir, `${prefix}${i}.wav`);
    writeWav(path, x, rate);
    entries.push({ audioPath: path, transcript: transcript(i), durationS: len / rate });
  }
  return entries;
}

function tinyConfig(dir: string, data: Partial<SpeechConfig["data"]>, maxSteps: number): SpeechConfig {
  return {
    name: "tiny",
    vocabulary: "english",
    features: { inputType: "logfbank", numFeatures: 8, padTo: 8 },
    encoder: {
      kind: "tdnn",
      activation: "relu",
      bnMomentum: 0.1,
      bnEps: 1e-3,
      blocks: [
        { repeat: 1, kernel: 5, stride: 2, channels: 12, dropout: 0.1 },
        { repeat: 1, kernel: 1, channels: 16, dropout: 0.1 },
      ],
    },
    data: { train: [join(dir, "train.csv")], eval: [], infer: [], batchSize: 2, ...data },
    optimizer: { kind: "novograd", beta1: 0.9, beta2: 0.5, weightDecay: 0.001 },
    lrPolicy: { kind: "cosine", lr: 0.01, warmupSteps: 2, decaySteps: 20 },
    training: {
      maxSteps,
      iterSize: 1,
      logEvery: 1,
      evalEvery: 1000,
      saveEvery: 1000,
      keepCheckpoints: 2,
      maxNonFiniteSteps: 3,
      seed: 5,
      logDir: join(dir, "run"),
    },
    decoder: { kind: "greedy" },
  };
}

const waveformAugment = {
  speed: { range: [0.9, 1.1] as [number, number], filter: "kaiser_fast" as const },
  noiseSnr: { minSnrDb: 5, maxSnrDb: 20 },
  specAugment: { nFreqMasks: 1, freqWidth: 2, nTimeMasks: 1, timeWidth: 3 },
};

async function withCorpus(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    writeManifest(join(dir, "train.csv"), makeWavs(dir, 8, "u", (i) => WORDS[i % 10]));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const error = console.error;
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.error = error;
  }
}

async function firstBatches(loader: BatchLoader, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch()) {
    out.push(b);
    if (out.length >= n) break;
  }
  return out;
}

Deno.test("validateDataConfig lists every bad augmentation and mix field by its path in one error", () => {
  const cfg = tinyConfig("/nowhere", {
    augment: {
      reverb: { probability: 1.5, minRt60S: 0.8, maxRt60S: 0.2 },
      noiseSnr: { minSnrDb: 5, maxSnrDb: 30, colors: ["white", "purple" as "white"] },
      speed: {},
    },
    mix: [{ manifest: "a.csv", share: 0.7 }, { manifest: "", share: 0.4 }],
    nWorkers: 0,
  }, 1);
  assert.throws(() => validateDataConfig(cfg), (e: Error) => {
    assert.match(e.message, /^tiny: /);
    assert.match(e.message, /data\.augment\.reverb\.probability: expected a number in \[0, 1\], got 1\.5/);
    assert.match(e.message, /data\.augment\.reverb: the minimum 0\.8 exceeds the maximum 0\.2/);
    assert.match(
      e.message,
      /data\.augment\.noiseSnr\.colors: expected a non-empty list of white, pink, brown/,
    );
    assert.match(e.message, /data\.augment\.speed: give either factors or range/);
    assert.match(e.message, /data\.mix\[1\]\.manifest: expected a manifest path/);
    assert.match(e.message, /data\.mix: the shares sum to 1\.1/);
    assert.match(e.message, /data\.nWorkers: expected an integer >= 1, got 0/);
    return true;
  });
});

Deno.test("validateDataConfig names an unknown augmentation part and an old field given beside its new form", () => {
  const unknown = tinyConfig("/nowhere", { augment: { echo: {} } as never }, 1);
  assert.throws(
    () => validateDataConfig(unknown),
    /data\.augment\.echo: unknown part \(known: speed, reverb/,
  );
  const both = tinyConfig(
    "/nowhere",
    { augment: { noise: { minDb: -90, maxDb: -60 } }, noiseDb: [-80, -50] },
    1,
  );
  assert.throws(() => validateDataConfig(both), /data\.augment\.noise and data\.noiseDb both given/);
  validateDataConfig(
    tinyConfig("/nowhere", { augment: waveformAugment, mix: [{ manifest: "a", share: 0.1 }] }, 1),
  );
});

Deno.test("the old speedPerturbation, noiseDb and mask fields map onto data.augment and choose the loader path", () => {
  const old = tinyConfig("/nowhere", {
    speedPerturbation: [0.95, 1.05],
    noiseDb: [-90, -60],
    freqMasks: { count: 2, width: 6 },
  }, 1);
  assert.deepEqual(resolveAugment(old.data), {
    speed: { range: [0.95, 1.05] },
    noise: { minDb: -90, maxDb: -60 },
    specAugment: { nFreqMasks: 2, freqWidth: 6, nTimeMasks: 0, timeWidth: 0 },
  });
  assert.deepEqual(resolveAugment({ ...old.data, speedPerturbation: [0.9, 1, 1.1] })?.speed, {
    factors: [0.9, 1, 1.1],
  });
  assert.equal(usesLoader(old), true);
  // Masks alone stay on the in-process path; a mix alone takes the loader.
  const masks = tinyConfig("/nowhere", { freqMasks: { count: 1, width: 3 } }, 1);
  assert.equal(usesLoader(masks), false);
  assert.equal(usesLoader(tinyConfig("/nowhere", { mix: [{ manifest: "a", share: 0.1 }] }, 1)), true);
  assert.equal(resolveAugment(tinyConfig("/nowhere", {}, 1).data), undefined);
});

Deno.test("--data.augment and --data.mix take JSON on the command line and are then validated", () => {
  let cfg = overrideConfig(tinyConfig("/nowhere", {}, 1), "data.augment", '{"gain":{"minDb":-6,"maxDb":6}}');
  cfg = overrideConfig(cfg, "data.mix", '[{"manifest":"fsdd.csv","share":0.1}]');
  assert.deepEqual(cfg.data.augment, { gain: { minDb: -6, maxDb: 6 } });
  assert.deepEqual(cfg.data.mix, [{ manifest: "fsdd.csv", share: 0.1 }]);
  validateDataConfig(cfg);
  const bad = overrideConfig(cfg, "data.augment", '{"gain":{"minDb":6,"maxDb":-6}}');
  assert.throws(() => validateDataConfig(bad), /data\.augment\.gain: the minimum 6 exceeds the maximum -6/);
});

Deno.test("training from the loader is resumable: N steps and N/2 steps + resume give identical losses", () =>
  withCorpus(async (dir) => {
    const data = { augment: waveformAugment, nWorkers: 1 };
    const losses = (logs: StepLog[]) => logs.map((l) => [l.step, l.epoch, l.loss]);
    const whole: StepLog[] = [];
    const full = tinyConfig(dir, data, 6);
    full.training.logDir = join(dir, "whole");
    await quietly(() => train(full, { onLog: (l) => whole.push(l) }));
    // 8 utterances in batches of 2: 4 batches an epoch, so the resumed run crosses an epoch end.
    assert.deepEqual(whole.map((l) => l.epoch), [0, 0, 0, 0, 1, 1]);
    const split: StepLog[] = [];
    const half = tinyConfig(dir, data, 3);
    half.training.logDir = join(dir, "split");
    await quietly(() => train(half, { onLog: (l) => split.push(l) }));
    await quietly(() =>
      train({ ...half, training: { ...half.training, maxSteps: 6 } }, {
        resume: true,
        onLog: (l) => split.push(l),
      })
    );
    assert.deepEqual(losses(split), losses(whole));
    // And the stream is the loader's, seeded: another seed trains on other batches.
    const other: StepLog[] = [];
    const reseeded = tinyConfig(dir, data, 2);
    reseeded.training.logDir = join(dir, "other");
    reseeded.training.seed = 6;
    await quietly(() => train(reseeded, { onLog: (l) => other.push(l) }));
    assert.notDeepEqual(other.map((l) => l.loss), whole.slice(0, 2).map((l) => l.loss));
  }));

Deno.test("augmentation reaches the trainer's batches: equal for one seed, different for another and from none", () =>
  withCorpus(async (dir) => {
    const vocab = Vocabulary.english();
    const batchesOf = async (cfg: SpeechConfig) => {
      using loader = makeTrainingLoader(cfg, vocab, { nWorkers: 1 });
      return await firstBatches(loader, 2);
    };
    const cfg = tinyConfig(dir, { augment: waveformAugment }, 1);
    const a = await batchesOf(cfg);
    const b = await batchesOf(cfg);
    assert.deepEqual(a, b);
    const reseeded = await batchesOf({ ...cfg, training: { ...cfg.training, seed: 9 } });
    assert.notDeepEqual(reseeded.map((x) => x.features), a.map((x) => x.features));
    // Same seed, same plan, no augmentation: the same utterances with other features.
    const plain = await batchesOf({ ...cfg, data: { ...cfg.data, augment: undefined } });
    assert.deepEqual(plain.map((x) => x.paths), a.map((x) => x.paths));
    assert.notDeepEqual(plain.map((x) => x.features), a.map((x) => x.features));
  }));

Deno.test("a mix manifest gets its share of every epoch, drawn evenly over its utterances, transcripts normalised", () =>
  withCorpus(async (dir) => {
    const pool = makeWavs(dir, 30, "mix", (i) => `${WORDS[i % 10].toUpperCase()}!`);
    writeManifest(join(dir, "mix.csv"), pool);
    const cfg = tinyConfig(dir, { mix: [{ manifest: join(dir, "mix.csv"), share: 0.2 }] }, 1);
    cfg.data.batchSize = 5;
    using loader = makeTrainingLoader(cfg, Vocabulary.english(), { nWorkers: 1 });
    // 8 main utterances at 80 %: 2 mixed in per epoch (round(0.2 * 8 / 0.8)).
    assert.equal(loader.nEpochUtterances, 10);
    const nEpochs = 60;
    const counts = new Map<string, number>();
    for (let e = 0; e < nEpochs; e++) {
      let mixed = 0, main = 0;
      for await (const batch of loader.epoch()) {
        batch.paths.forEach((p, k) => {
          if (p.includes("/mix")) {
            mixed++;
            counts.set(p, (counts.get(p) ?? 0) + 1);
            assert.match(batch.transcripts[k], /^[a-z]+$/);
          } else main++;
        });
      }
      assert.deepEqual([main, mixed], [8, 2], `epoch ${e}`);
    }
    // Each pool utterance is in an epoch with p = 2/30: over 60 epochs Binomial(60, 1/15),
    // mean 4, sd 1.93; every count within 4.5 sd and most of the pool seen.
    const p = 2 / 30, mean = nEpochs * p, sd = Math.sqrt(nEpochs * p * (1 - p));
    for (const [path, c] of counts) assert.ok(Math.abs(c - mean) <= 4.5 * sd, `${path}: ${c} draws`);
    assert.ok(counts.size >= 25, `only ${counts.size} of 30 pool utterances drawn`);
  }));

Deno.test("a mix share larger than its manifest can give is refused, naming the manifest", () =>
  withCorpus((dir) => {
    writeManifest(join(dir, "small_mix.csv"), makeWavs(dir, 2, "few", () => "one"));
    const cfg = tinyConfig(dir, { mix: [{ manifest: join(dir, "small_mix.csv"), share: 0.5 }] }, 1);
    assert.throws(
      () => makeTrainingLoader(cfg, Vocabulary.english(), { nWorkers: 1 }),
      /small_mix\.csv: a share of 0\.5 needs 8 utterances per epoch but it holds 2/,
    );
  }));

testWithSharedData(
  "FSDD's training side mixes in at 20 % of an epoch, leave-one-speaker-out, its transcripts as written",
  "real/fsdd/manifest.csv",
  (fsddManifest) =>
    withCorpus(async (dir) => {
      const sharedData = dirname(dirname(dirname(fsddManifest)));
      const mixPath = join(dir, "fsdd_train.csv");
      writeManifest(mixPath, fsddTrainingEntries(sharedData, "george"));
      const cfg = tinyConfig(dir, { mix: [{ manifest: mixPath, share: 0.2 }] }, 1);
      using loader = makeTrainingLoader(cfg, Vocabulary.english(), { nWorkers: 1 });
      const mixed: Batch[] = [];
      for await (const b of loader.epoch()) mixed.push(b);
      const paths = mixed.flatMap((b) => b.paths);
      const fsdd = paths.filter((p) => p.includes("/fsdd/"));
      assert.equal(paths.length, 10);
      assert.equal(fsdd.length, 2);
      for (const p of fsdd) assert.notEqual(fsddSpeaker(p), "george");
      const digits = new Set(WORDS);
      for (const b of mixed) {
        b.transcripts.forEach((t, k) => b.paths[k].includes("/fsdd/") && assert.ok(digits.has(t), t));
      }
    }),
);
