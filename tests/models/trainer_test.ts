/**
 * The training loop's logging and its handling of non-finite steps, on tiny in-memory
 * utterance sets (random features, short random targets): the JSON lines, the SVG plot,
 * skipped updates that leave every weight and running statistic untouched, and the error
 * after too many non-finite steps in a row.
 */
import assert from "node:assert/strict";
import { Rng } from "../../ops/mod.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import type { UtteranceFeatures } from "../../data/pipeline/batches.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { CtcModel } from "../../models/ctc_model.ts";
import type { UtteranceSet } from "../../models/dataset.ts";
import { loadCheckpoint } from "../../models/checkpoint.ts";
import { learningRate } from "../../models/lr_policy.ts";
import { type StepLog, train } from "../../models/trainer.ts";

const F = 8;

/** Random features and short random targets; items listed in `nanItems` hold a NaN. */
function tinySet(n: number, seed: number, nanItems: number[] = []): UtteranceSet {
  const rng = new Rng(seed);
  const vocab = Vocabulary.english();
  const items: UtteranceFeatures[] = [];
  const durations: number[] = [];
  for (let i = 0; i < n; i++) {
    const nFrames = 24 + rng.int(17);
    const text = Array.from({ length: 2 + rng.int(3) }, () => "abcdefgh"[rng.int(8)]).join("");
    const features = Float32Array.from({ length: F * nFrames }, () => rng.normal());
    // A NaN in every feature row, so that no SpecAugment band can mask them all away.
    if (nanItems.includes(i)) { for (let f = 0; f < F; f++) features[f * nFrames + 1] = NaN; }
    items.push({
      features,
      nFeatures: F,
      nFrames,
      targets: vocab.encode(text),
      transcript: text,
      path: `utt${i}`,
    });
    durations.push(nFrames / 100);
  }
  return { items, durations: Float64Array.from(durations) };
}

function tinyConfig(logDir: string, training: Partial<SpeechConfig["training"]>): SpeechConfig {
  return {
    name: "tiny",
    vocabulary: "english",
    features: { inputType: "logfbank", numFeatures: F, padTo: 8 },
    encoder: {
      kind: "tdnn",
      activation: "relu",
      bnMomentum: 0.1,
      bnEps: 1e-3,
      blocks: [
        { repeat: 1, kernel: 5, stride: 2, channels: 12, dropout: 0.1 },
        { repeat: 2, kernel: 3, channels: 12, dropout: 0.1, residual: true },
        { repeat: 1, kernel: 1, channels: 16, dropout: 0.1 },
      ],
    },
    data: { train: [], eval: [], infer: [], batchSize: 2, freqMasks: { count: 1, width: 3 } },
    optimizer: { kind: "novograd", beta1: 0.9, beta2: 0.5, weightDecay: 0.001 },
    lrPolicy: { kind: "cosine", lr: 0.01, warmupSteps: 2, decaySteps: 20 },
    training: {
      maxSteps: 4,
      iterSize: 1,
      logEvery: 1,
      evalEvery: 1000,
      saveEvery: 1000,
      keepCheckpoints: 2,
      maxNonFiniteSteps: 3,
      seed: 5,
      logDir,
      ...training,
    },
    decoder: { kind: "greedy" },
  };
}

// deno-lint-ignore no-explicit-any
async function readLog(dir: string): Promise<any[]> {
  return (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const old = console.error;
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.error = old;
  }
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "trainer_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("each logged step is a JSON line with loss, lr, gradient norm, step time and audio s/s; eval WER on its schedule", () =>
  withTempDir(async (dir) => {
    const set = tinySet(8, 3);
    const seen: StepLog[] = [];
    const evalSteps: number[] = [];
    const cfg = tinyConfig(dir, { maxSteps: 6, logEvery: 2, evalEvery: 3 });
    const r = await quietly(() =>
      train(cfg, {
        trainSet: set,
        evalSet: set,
        withEval: true,
        onLog: (l) => seen.push(l),
        onEval: (s) => evalSteps.push(s),
      })
    );
    assert.equal(r.steps, 6);
    const lines = await readLog(dir);
    const steps = lines.filter((l) => "loss" in l);
    assert.deepEqual(steps.map((l) => l.step), [0, 2, 4]);
    assert.deepEqual(steps, JSON.parse(JSON.stringify(seen)));
    for (const l of steps) {
      assert.ok(Number.isFinite(l.loss) && l.loss > 0, `loss ${l.loss}`);
      assert.equal(l.lr, learningRate(cfg.lrPolicy, l.step));
      assert.ok(Number.isFinite(l.gradNorm) && l.gradNorm > 0, `gradNorm ${l.gradNorm}`);
      assert.ok(l.stepTimeS > 0 && l.stepTimeS < 60, `stepTimeS ${l.stepTimeS}`);
      // Two utterances of 0.24–0.40 s per step.
      const audioS = l.audioSecondsPerSecond * l.stepTimeS;
      assert.ok(audioS >= 0.48 - 1e-9 && audioS <= 0.8 + 1e-9, `audio per step ${audioS}`);
      assert.equal(l.epoch, Math.floor(l.step / 4));
      assert.equal(l.skipped, undefined);
    }
    const evals = lines.filter((l) => "evalWer" in l);
    assert.deepEqual(evals.map((l) => l.step), [3, 6]);
    assert.deepEqual(evalSteps, [3, 6]);
    for (const e of evals) {
      assert.ok(e.evalWer >= 0 && Number.isFinite(e.evalWer));
      assert.ok(e.evalCer >= 0 && Number.isFinite(e.evalCer));
      assert.ok(e.evalLoss > 0);
    }
    assert.equal(r.lastEval?.wer, evals[1].evalWer);
  }));

Deno.test("a learningRate option replaces the config's policy for every step, and the log shows it", () =>
  withTempDir(async (dir) => {
    const cfg = tinyConfig(dir, { maxSteps: 3 });
    const r = await quietly(() => train(cfg, { trainSet: tinySet(6, 4), learningRate: () => 0 }));
    assert.deepEqual((await readLog(dir)).filter((l) => "loss" in l).map((l) => l.lr), [0, 0, 0]);
    // At rate 0 NovoGrad leaves every weight at its initial value: the option drives the update.
    const fresh = new CtcModel(F, Vocabulary.english().size, cfg.encoder, new Rng(cfg.training.seed));
    for (const [k, t] of fresh.parameters()) {
      assert.deepEqual([...r.model.parameters().get(k)!.dataSync()], [...t.dataSync()], k);
    }
    const dir2 = `${dir}/halves`;
    await quietly(() =>
      train({ ...cfg, training: { ...cfg.training, logDir: dir2 } }, {
        trainSet: tinySet(6, 4),
        learningRate: (step) => 0.5 ** step,
      })
    );
    assert.deepEqual((await readLog(dir2)).filter((l) => "loss" in l).map((l) => l.lr), [1, 0.5, 0.25]);
  }));

Deno.test("the training plot is an SVG with a loss line through every logged step and a WER line", () =>
  withTempDir(async (dir) => {
    const set = tinySet(8, 3);
    await quietly(() =>
      train(tinyConfig(dir, { maxSteps: 6, logEvery: 2, evalEvery: 3 }), {
        trainSet: set,
        evalSet: set,
        withEval: true,
      })
    );
    const svg = await Deno.readTextFile(`${dir}/training.svg`);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1].trim().split(/\s+/));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].length, 3, "one loss point per logged step");
    assert.equal(lines[1].length, 2, "one WER point per evaluation");
    for (const p of lines.flat()) assert.match(p, /^\d+(\.\d)?,\d+(\.\d)?$/);
    assert.match(svg, /eval WER/);
  }));

async function snapshot(model: CtcModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of model.stateDict()) out.set(k, Float32Array.from(await t.data()));
  return out;
}

Deno.test("a step whose features hold NaN is skipped and logged; weights and running statistics stay unchanged", () =>
  withTempDir(async (dir) => {
    // Every utterance holds a NaN, so every step is non-finite; 2 steps stay under the limit of 3.
    const cfg = tinyConfig(dir, { maxSteps: 2 });
    const set = tinySet(4, 3, [0, 1, 2, 3]);
    const r = await quietly(() => train(cfg, { trainSet: set }));
    assert.equal(r.steps, 2);
    const lines = await readLog(dir);
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.equal(l.skipped, true);
      assert.ok(!Number.isFinite(l.loss) || !Number.isFinite(l.gradNorm));
    }
    // The same seed builds the same initial model: nothing may have moved.
    const fresh = new CtcModel(F, Vocabulary.english().size, cfg.encoder, new Rng(cfg.training.seed));
    const want = await snapshot(fresh), got = await snapshot(r.model);
    for (const [k, w] of want) assert.deepEqual(got.get(k), w, k);
  }));

Deno.test("training goes on after a non-finite step, and the running statistics stay finite", () =>
  withTempDir(async (dir) => {
    // Batches of one: exactly one of 8 steps sees the NaN.
    const cfg = tinyConfig(dir, { maxSteps: 8, maxNonFiniteSteps: 2 });
    cfg.data.batchSize = 1;
    const r = await quietly(() => train(cfg, { trainSet: tinySet(8, 3, [5]) }));
    const lines = await readLog(dir);
    assert.equal(lines.length, 8);
    assert.equal(lines.filter((l) => l.skipped).length, 1);
    const skippedAt = lines.findIndex((l) => l.skipped);
    assert.ok(
      lines.slice(skippedAt + 1).every((l) => Number.isFinite(l.loss) && Number.isFinite(l.gradNorm)),
    );
    for (const [k, v] of await snapshot(r.model)) {
      assert.ok(v.every(Number.isFinite), `${k} holds a non-finite value`);
    }
  }));

Deno.test("maxNonFiniteSteps non-finite steps in a row stop training with an error naming the count", () =>
  withTempDir(async (dir) => {
    const cfg = tinyConfig(dir, { maxSteps: 10, maxNonFiniteSteps: 3 });
    await assert.rejects(
      () => quietly(() => train(cfg, { trainSet: tinySet(4, 3, [0, 1, 2, 3]) })),
      (e: Error) => /3 non-finite steps in a row/.test(e.message) && e.message.includes("tiny"),
    );
    const lines = await readLog(dir);
    assert.equal(lines.length, 2, "the third non-finite step throws before it is logged");
    assert.ok(lines.every((l) => l.skipped === true));
  }));

Deno.test("a deadline stops training between steps, saves a checkpoint and resumes from it", () =>
  withTempDir(async (dir) => {
    const set = tinySet(8, 3);
    const cfg = tinyConfig(dir, { maxSteps: 6 });
    let stopAt = Infinity;
    const r = await quietly(() =>
      train(cfg, {
        trainSet: set,
        // Time runs out once step 2 is logged: steps 0-2 are done, step 3 never starts.
        get deadline() {
          return stopAt;
        },
        onLog: (l) => {
          if (l.step === 2) stopAt = 0;
        },
      })
    );
    assert.equal(r.steps, 3);
    assert.ok((await Deno.stat(`${dir}/ckpt-00000003.safetensors`)).isFile);
    const resumed = await quietly(() =>
      train(cfg, { trainSet: set, resume: true, deadline: Date.now() + 600_000 })
    );
    assert.equal(resumed.steps, 6);
  }));

Deno.test("with logEvery 3 the steps skipped between records are counted in the next one, and every record names the backend", () =>
  withTempDir(async (dir) => {
    // Batches of one, in a shuffled order: the NaN utterance is met once per epoch of 6 steps;
    // the record at step 12 covers steps 10-12, so both epochs' skips reach a record (and with
    // this seed step 12, the first of epoch 2, is a finite one).
    const cfg = tinyConfig(dir, { maxSteps: 13, logEvery: 3, maxNonFiniteSteps: 2 });
    cfg.data.batchSize = 1;
    await quietly(() => train(cfg, { trainSet: tinySet(6, 3, [4]) }));
    const lines = await readLog(dir);
    assert.deepEqual(lines.map((l) => l.step), [0, 3, 6, 9, 12]);
    // Two epochs, one NaN step in each: two skips in all, each counted once.
    const counted = lines.reduce((n, l) => n + (l.skippedSinceLastLog ?? 0), 0);
    assert.equal(counted, 2, JSON.stringify(lines));
    for (const l of lines) {
      assert.equal(l.backend, "cpu");
      assert.match(l.device, /^host CPU/);
      if (l.skipped) assert.ok(l.skippedSinceLastLog >= 1);
    }
    assert.equal((await loadCheckpoint(`${dir}/ckpt-00000013.safetensors`)).meta.backend, "cpu");
  }));

Deno.test("maxNonFiniteSteps in a row between two records stop training at the next record (log granularity)", () =>
  withTempDir(async (dir) => {
    const cfg = tinyConfig(dir, { maxSteps: 10, logEvery: 4, maxNonFiniteSteps: 2 });
    await assert.rejects(
      () => quietly(() => train(cfg, { trainSet: tinySet(4, 3, [0, 1, 2, 3]) })),
      (e: Error) => /5 non-finite steps in a row by step 4/.test(e.message),
    );
    // Step 0 was logged (one bad step, under the limit of 2); the limit was passed at step 1,
    // but only the read at step 4 sees it, by then a run of 5 (steps 0-4).
    const lines = await readLog(dir);
    assert.deepEqual(lines.map((l) => l.step), [0]);
  }));
