/**
 * Checkpoints: model + optimizer state round trips, last-N pruning, errors that name a damaged
 * file, and the key property of `--continue`: K steps, save, resume to 2K steps gives the same
 * weights as 2K uninterrupted steps (dropout and SpecAugment on, so every random state matters).
 */
import assert from "node:assert/strict";
import { Rng, tensor } from "../../ops/mod.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import type { UtteranceFeatures } from "../../data/pipeline/batches.ts";
import {
  type CheckpointMeta,
  CHECKSUM_KEY,
  exportCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  loadOptimizerState,
  saveCheckpoint,
} from "../../models/checkpoint.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { CtcModel } from "../../models/ctc_model.ts";
import type { TdnnEncoderConfig } from "../../models/tdnn.ts";
import type { UtteranceSet } from "../../models/dataset.ts";
import { NovoGrad } from "../../models/optimizers/novograd.ts";
import { train } from "../../models/trainer.ts";
import { parseSafetensors, serializeSafetensors } from "../../formats/safetensors.ts";

const F = 8;

/** Random features and short random targets; an in-memory stand-in for a manifest. */
function tinySet(n: number, seed: number): UtteranceSet {
  const rng = new Rng(seed);
  const vocab = Vocabulary.english();
  const items: UtteranceFeatures[] = [];
  const durations: number[] = [];
  for (let i = 0; i < n; i++) {
    const nFrames = 24 + rng.int(17);
    const text = Array.from({ length: 2 + rng.int(3) }, () => "abcdefgh"[rng.int(8)]).join("");
    items.push({
      features: Float32Array.from({ length: F * nFrames }, () => rng.normal()),
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

function tinyConfig(logDir: string, maxSteps: number): SpeechConfig {
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
        { repeat: 1, kernel: 5, stride: 2, channels: 12, dropout: 0.2 },
        { repeat: 2, kernel: 3, channels: 12, dropout: 0.2, residual: true },
        { repeat: 1, kernel: 1, channels: 16, dropout: 0.2 },
      ],
    },
    data: {
      train: [],
      eval: [],
      infer: [],
      batchSize: 2,
      freqMasks: { count: 1, width: 3 },
      timeMasks: { count: 1, width: 5 },
    },
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
      seed: 7,
      logDir,
    },
    decoder: { kind: "greedy" },
  };
}

async function stateOf(model: CtcModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of model.stateDict()) out.set(k, Float32Array.from(await t.data()));
  return out;
}

function assertSameState(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) {
      assert.ok(
        Math.abs(x[i] - y[i]) <= 1e-6 * Math.max(1, Math.abs(x[i])),
        `${what}: ${k}[${i}] ${x[i]} vs ${y[i]}`,
      );
    }
  }
}

const quiet = () => {};
const silenceStderr = <T>(fn: () => Promise<T>): Promise<T> => {
  const old = console.error;
  console.error = quiet;
  return fn().finally(() => console.error = old);
};

for (const k of [3, 4]) {
  Deno.test(
    `training ${k} steps, saving and continuing to ${2 * k} equals ${2 * k} uninterrupted steps` +
      (k === 4 ? " (save at an epoch boundary)" : " (save mid-epoch)"),
    async () => {
      // 8 utterances in 4 duration buckets, batches of 2: 4 batches per epoch, so K = 3 stops
      // inside the first epoch and K = 4 exactly at its end.
      const set = tinySet(8, 11);
      const dirA = await Deno.makeTempDir({ prefix: "ckpt_a_" });
      const dirB = await Deno.makeTempDir({ prefix: "ckpt_b_" });
      try {
        const straight = await silenceStderr(() => train(tinyConfig(dirA, 2 * k), { trainSet: set }));
        await silenceStderr(() => train(tinyConfig(dirB, k), { trainSet: set }));
        const resumed = await silenceStderr(() =>
          train(tinyConfig(dirB, 2 * k), { trainSet: set, resume: true })
        );
        assert.equal(resumed.steps, 2 * k);
        assertSameState(await stateOf(straight.model), await stateOf(resumed.model), "resumed vs straight");
        // The losses logged after the resume repeat the uninterrupted run's, step by step.
        const losses = async (dir: string) =>
          (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) => JSON.parse(l))
            .filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss]);
        assert.deepEqual(await losses(dirB), await losses(dirA));
        // The dropout masks differ between steps, so a resume that replayed step K's state
        // at step K + 1 would not match: guard that the run is not trivially deterministic.
        const l = await losses(dirA);
        assert.notEqual(l[k][1], l[k + 1][1]);
      } finally {
        await Deno.remove(dirA, { recursive: true });
        await Deno.remove(dirB, { recursive: true });
      }
    },
  );
}

Deno.test("with gradient accumulation (iterSize 2) over epochs of 5 batches, 6 + 6 steps equal 12", async () => {
  // 9 utterances in 4 buckets make 5 batches per epoch, so accumulation windows straddle epochs.
  const set = tinySet(9, 11);
  const dirA = await Deno.makeTempDir({ prefix: "ckpt_a_" });
  const dirB = await Deno.makeTempDir({ prefix: "ckpt_b_" });
  try {
    const cfg = (dir: string, steps: number) => {
      const c = tinyConfig(dir, steps);
      c.training.iterSize = 2;
      return c;
    };
    const straight = await silenceStderr(() => train(cfg(dirA, 12), { trainSet: set }));
    await silenceStderr(() => train(cfg(dirB, 6), { trainSet: set }));
    const resumed = await silenceStderr(() => train(cfg(dirB, 12), { trainSet: set, resume: true }));
    assertSameState(await stateOf(straight.model), await stateOf(resumed.model), "resumed vs straight");
    // Updates did happen (6 of them): the weights left their initial values.
    const initial = new CtcModel(F, 29, cfg(dirA, 1).encoder, new Rng(7));
    const w0 = await initial.decoder.weight.data(), w = await straight.model.decoder.weight.data();
    assert.ok(w.some((v, i) => Math.abs(v - w0[i]) > 1e-4));
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

for (const k of [3, 4]) {
  Deno.test(
    `a run killed after its periodic checkpoint at step ${k} continues to ${2 * k} as if never stopped`,
    async () => {
      const set = tinySet(8, 11);
      const dirA = await Deno.makeTempDir({ prefix: "ckpt_a_" });
      const dirC = await Deno.makeTempDir({ prefix: "ckpt_c_" });
      try {
        const straight = await silenceStderr(() => train(tinyConfig(dirA, 2 * k), { trainSet: set }));
        // The periodic save inside the loop (saveEvery = k), then the run's later files removed
        // as if it had been killed right after that save.
        const cfg = tinyConfig(dirC, 2 * k);
        cfg.training.saveEvery = k;
        cfg.training.keepCheckpoints = 5;
        await silenceStderr(() => train(cfg, { trainSet: set }));
        const later = listCheckpoints(dirC).at(-1)!;
        assert.match(later, new RegExp(`ckpt-0*${2 * k}\\.safetensors$`));
        await Deno.remove(later);
        await Deno.remove(later.replace(/\.safetensors$/, ".optim.safetensors"));
        assert.match(listCheckpoints(dirC).at(-1)!, new RegExp(`ckpt-0*${k}\\.safetensors$`));
        const resumed = await silenceStderr(() => train(cfg, { trainSet: set, resume: true }));
        assertSameState(await stateOf(straight.model), await stateOf(resumed.model), "resumed vs straight");
        // The log reads as one run: the records written after the checkpoint by the killed
        // run are replaced, not repeated, and the plot covers every step.
        const records = async (dir: string) =>
          (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) => {
            const { stepTimeS: _t, audioSecondsPerSecond: _a, ...rest } = JSON.parse(l);
            return rest;
          });
        assert.deepEqual(await records(dirC), await records(dirA));
        const points = async (dir: string) =>
          (await Deno.readTextFile(`${dir}/training.svg`)).match(/<polyline[^>]*points="([^"]*)"/)![1]
            .trim().split(/\s+/).length;
        assert.equal(await points(dirC), 2 * k);
      } finally {
        await Deno.remove(dirA, { recursive: true });
        await Deno.remove(dirC, { recursive: true });
      }
    },
  );
}

function meta(step: number): CheckpointMeta {
  const vocab = Vocabulary.english();
  return {
    config: tinyConfig("unused", 1),
    vocabulary: [...vocab.chars],
    blankIndex: vocab.blankIndex,
    step,
    epoch: 0,
    batchInEpoch: step,
    rngState: new Rng(1).state(),
    dataRngState: new Rng(2).state(),
  };
}

Deno.test("a checkpoint round-trips model weights, running statistics, optimizer state and metadata", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_rt_" });
  try {
    const cfg = tinyConfig(dir, 1);
    const model = new CtcModel(F, 29, cfg.encoder, new Rng(3));
    const opt = new NovoGrad(model.parameters(), { beta1: 0.9 });
    // Two updates from fake gradients so the slots (m, v) and stepCount are non-trivial.
    for (let s = 0; s < 2; s++) {
      for (const p of model.parameters().values()) {
        p.grad = tensor(Float32Array.from({ length: p.size }, (_, i) => Math.sin(i + s)), p.shape);
      }
      opt.step(0.1);
    }
    const path = await saveCheckpoint(dir, model, opt, meta(2));
    assert.match(path, /ckpt-00000002\.safetensors$/);
    // No temporary files are left behind by the atomic writes.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["ckpt-00000002.optim.safetensors", "ckpt-00000002.safetensors"],
    );

    const loaded = await loadCheckpoint(path);
    assert.deepEqual(loaded.meta, JSON.parse(JSON.stringify(meta(2))));
    const model2 = new CtcModel(F, 29, cfg.encoder, new Rng(99));
    model2.loadStateDict(loaded.state);
    assertSameState(await stateOf(model), await stateOf(model2), "model");

    const opt2 = new NovoGrad(model2.parameters(), { beta1: 0.9 });
    await loadOptimizerState(path, opt2);
    assert.equal(opt2.stepCount, 2);
    const slots = opt.stateDict(), slots2 = opt2.stateDict();
    assert.deepEqual([...slots2.keys()].sort(), [...slots.keys()].sort());
    assert.ok(slots.size >= 2 * model.parameters().size);
    for (const [key, t] of slots) {
      assert.deepEqual(await slots2.get(key)!.data(), await t.data(), key);
    }
    // One more identical update on both keeps them identical (the slots really are in use).
    for (const m of [model, model2]) {
      for (const p of m.parameters().values()) {
        p.grad = tensor(Float32Array.from({ length: p.size }, (_, i) => Math.cos(i)), p.shape);
      }
    }
    opt.step(0.1);
    opt2.step(0.1);
    assertSameState(await stateOf(model), await stateOf(model2), "after one more step");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("only the newest keepCheckpoints checkpoints (and their optimizer files) are kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_keep_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const opt = new NovoGrad(model.parameters());
    for (const step of [5, 10, 15, 20]) await saveCheckpoint(dir, model, opt, meta(step), { keep: 2 });
    assert.deepEqual(listCheckpoints(dir), [
      `${dir}/ckpt-00000015.safetensors`,
      `${dir}/ckpt-00000020.safetensors`,
    ]);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [
        "ckpt-00000015.optim.safetensors",
        "ckpt-00000015.safetensors",
        "ckpt-00000020.optim.safetensors",
        "ckpt-00000020.safetensors",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a save cut short leaves the previous checkpoint as the newest complete one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_cut_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const opt = new NovoGrad(model.parameters());
    const good = await saveCheckpoint(dir, model, opt, meta(10));
    // A crash during the next save: its optimizer file was renamed into place, the model file
    // (written last) only got as far as its temporary file.
    await Deno.copyFile(
      good.replace(/\.safetensors$/, ".optim.safetensors"),
      `${dir}/ckpt-00000020.optim.safetensors`,
    );
    await Deno.writeFile(`${dir}/ckpt-00000020.safetensors.tmp-1-abc`, new Uint8Array(100));
    assert.deepEqual(listCheckpoints(dir), [good]);
    assert.equal((await loadCheckpoint(listCheckpoints(dir).at(-1)!)).meta.step, 10);
    // The next complete save removes the temporary files the killed process left.
    await Deno.writeFile(`${dir}/ckpt-00000020.optim.safetensors.tmp-1-abd`, new Uint8Array(10));
    await Deno.writeFile(`${dir}/notes.tmp-1-abc`, new Uint8Array(1)); // not a checkpoint's: kept
    await saveCheckpoint(dir, model, opt, meta(30));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-")),
      ["notes.tmp-1-abc"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncated or corrupt checkpoint gives an error naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_bad_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const path = await saveCheckpoint(dir, model, null, meta(1));
    const bytes = await Deno.readFile(path);

    const truncated = `${dir}/truncated.safetensors`;
    await Deno.writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(() => loadCheckpoint(truncated), (e: Error) => e.message.includes(truncated));

    const headerOnly = `${dir}/short.safetensors`;
    await Deno.writeFile(headerOnly, bytes.subarray(0, 5));
    await assert.rejects(() => loadCheckpoint(headerOnly), (e: Error) => e.message.includes(headerOnly));

    // A header length far beyond the file.
    const garbage = `${dir}/garbage.safetensors`;
    const g = bytes.slice();
    new DataView(g.buffer).setUint32(0, 0x7fffffff, true);
    await Deno.writeFile(garbage, g);
    await assert.rejects(() => loadCheckpoint(garbage), (e: Error) => e.message.includes(garbage));

    // Valid safetensors without deno-ctc metadata (e.g. the optimizer file) is refused by name.
    const opt = new NovoGrad(model.parameters());
    const p2 = await saveCheckpoint(`${dir}/two`, model, opt, meta(3));
    const optimPath = p2.replace(/\.safetensors$/, ".optim.safetensors");
    await assert.rejects(
      () => loadCheckpoint(optimPath),
      (e: Error) => e.message.includes(optimPath) && /deno-ctc checkpoint/.test(e.message),
    );
    // A missing optimizer file is an error naming the file it looked for.
    await Deno.remove(optimPath);
    await assert.rejects(
      () => loadOptimizerState(p2, opt),
      (e: Error) => e.message.includes("ckpt-00000003.optim.safetensors"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint whose tensor bytes changed after saving is refused by its checksum, naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_sum_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const opt = new NovoGrad(model.parameters());
    for (const p of model.parameters().values()) p.grad = tensor(new Float32Array(p.size).fill(0.5), p.shape);
    opt.step(0.1); // so the optimizer file holds slots
    const path = await saveCheckpoint(dir, model, opt, meta(1));
    const bytes = await Deno.readFile(path);
    const file = parseSafetensors(bytes, path);
    assert.match(file.metadata[CHECKSUM_KEY], /^[0-9a-f]{64}$/);
    // One flipped bit in the last weight byte keeps the file valid safetensors: only the checksum sees it.
    const flipped = bytes.slice();
    flipped[flipped.length - 1] ^= 0x01;
    const bad = `${dir}/ckpt-00000002.safetensors`;
    await Deno.writeFile(bad, flipped);
    await assert.rejects(
      () => loadCheckpoint(bad),
      (e: Error) => e.message.includes(bad) && /checksum mismatch/.test(e.message),
    );
    await assert.rejects(() => exportCheckpoint(bad, `${dir}/out.safetensors`), /checksum mismatch/);
    // The optimizer file is checked the same way.
    const optimPath = path.replace(/\.safetensors$/, ".optim.safetensors");
    const optimBytes = await Deno.readFile(optimPath);
    assert.ok(parseSafetensors(optimBytes).tensors.size > 0);
    optimBytes[optimBytes.length - 2] ^= 0x80;
    await Deno.writeFile(optimPath, optimBytes);
    await assert.rejects(
      () => loadOptimizerState(path, opt),
      (e: Error) => e.message.includes(optimPath) && /checksum mismatch/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint written before checksums existed (no deno_ctc_sha256) still loads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_old_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const path = await saveCheckpoint(dir, model, null, meta(4));
    const file = parseSafetensors(await Deno.readFile(path), path);
    const { [CHECKSUM_KEY]: _dropped, ...oldMetadata } = file.metadata;
    const old = `${dir}/old.safetensors`;
    await Deno.writeFile(old, serializeSafetensors(file.tensors, { metadata: oldMetadata }));
    const loaded = await loadCheckpoint(old);
    assert.equal(loaded.meta.step, 4);
    assert.equal(loaded.state.size, file.tensors.size);
    // Exporting it gives the exported file a checksum of its own, which then verifies.
    await exportCheckpoint(old, `${dir}/exported.safetensors`, { dtype: "F16" });
    const exported = parseSafetensors(await Deno.readFile(`${dir}/exported.safetensors`));
    assert.match(exported.metadata[CHECKSUM_KEY], /^[0-9a-f]{64}$/);
    assert.equal((await loadCheckpoint(`${dir}/exported.safetensors`)).meta.step, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the checksum covers the metadata too: a changed step count is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_meta_sum_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const path = await saveCheckpoint(dir, model, null, meta(5));
    const file = parseSafetensors(await Deno.readFile(path), path);
    const edited = { ...file.metadata, deno_ctc: file.metadata.deno_ctc.replace('"step":5', '"step":6') };
    assert.notEqual(edited.deno_ctc, file.metadata.deno_ctc);
    const bad = `${dir}/edited.safetensors`;
    await Deno.writeFile(bad, serializeSafetensors(file.tensors, { metadata: edited }));
    await assert.rejects(() => loadCheckpoint(bad), /edited\.safetensors: checkpoint checksum mismatch/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("damaged metadata in a checkpoint without a checksum is refused, naming the file and the field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_meta_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const path = await saveCheckpoint(dir, model, null, meta(5));
    const file = parseSafetensors(await Deno.readFile(path), path);
    const good = JSON.parse(file.metadata.deno_ctc);
    const cases: [string, unknown, RegExp][] = [
      ["null", null, /field "deno_ctc" is not an object/],
      ["step", { ...good, step: -1 }, /field "step" is not a non-negative integer/],
      ["epoch", { ...good, epoch: "0" }, /field "epoch" is not a non-negative integer/],
      ["vocabulary", { ...good, vocabulary: [1, 2] }, /field "vocabulary" is not a list of strings/],
      ["rng", { ...good, rngState: [0, 0, 0, 0] }, /field "rngState" is not an rng state/],
      ["augment", { ...good, augmentRngState: [1, 2] }, /field "augmentRngState" is not an rng state/],
      ["config", { ...good, config: 3 }, /field "config" is not an object/],
    ];
    for (const [name, value, message] of cases) {
      const bad = `${dir}/${name}.safetensors`;
      await Deno.writeFile(
        bad,
        serializeSafetensors(file.tensors, { metadata: { deno_ctc: JSON.stringify(value) } }),
      );
      await assert.rejects(
        () => loadCheckpoint(bad),
        (e: Error) =>
          (e.message.startsWith(`${bad}: checkpoint metadata`) && message.test(e.message)) ||
          assert.fail(`${name}: ${e.message}`),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the committed pretrained checkpoint, written before checksums existed, still loads", async () => {
  const path = new URL("../../models/pretrained/small_wide_espeak.safetensors", import.meta.url).pathname;
  const file = parseSafetensors(await Deno.readFile(path), path);
  assert.equal(file.metadata[CHECKSUM_KEY], undefined);
  const loaded = await loadCheckpoint(path);
  assert.ok(loaded.meta.step > 0);
  assert.equal(loaded.state.size, file.tensors.size);
});

Deno.test("exportCheckpoint() writes float16 weights (half the size, no optimizer file) that fine-tuning starts from", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_export_" });
  try {
    const set = tinySet(8, 11);
    await silenceStderr(() => train(tinyConfig(`${dir}/a`, 2), { trainSet: set }));
    const src = `${dir}/a/ckpt-00000002.safetensors`;
    await exportCheckpoint(src, `${dir}/half.safetensors`, { dtype: "F16" });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a", "half.safetensors"]);
    const full = await loadCheckpoint(src), half = await loadCheckpoint(`${dir}/half.safetensors`);
    assert.deepEqual(half.meta, full.meta);
    let bytes = 0;
    for (const [name, t] of full.state) {
      const x = await t.data(), y = await half.state.get(name)!.data();
      bytes += 2 * x.length;
      for (let i = 0; i < x.length; i++) {
        // float16 keeps 11 significant bits: a relative error of at most 2^-11 (above its normal range).
        assert.ok(Math.abs(x[i] - y[i]) <= Math.max(Math.abs(x[i]) * 2 ** -11, 2 ** -24), `${name}[${i}]`);
      }
    }
    assert.ok(Deno.statSync(`${dir}/half.safetensors`).size < bytes + 8192);

    // training.initCheckpoint: a new run takes those weights and starts at step 0 with a fresh optimizer.
    const cfg = tinyConfig(`${dir}/b`, 0);
    cfg.training.initCheckpoint = `${dir}/half.safetensors`;
    const start = await silenceStderr(() => train(cfg, { trainSet: set }));
    assert.equal(start.steps, 0);
    for (const [name, t] of start.model.stateDict()) {
      assert.deepEqual(await t.data(), await half.state.get(name)!.data(), name);
    }
    cfg.training.maxSteps = 2;
    const tuned = await silenceStderr(() => train(cfg, { trainSet: set }));
    assert.equal(tuned.steps, 2);
    assert.ok(Deno.statSync(`${dir}/b/ckpt-00000002.safetensors`).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportCheckpoint() refuses a weight float16 cannot hold, naming the tensor", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_export_big_" });
  try {
    const model = new CtcModel(F, 29, tinyConfig(dir, 1).encoder, new Rng(3));
    const [name, p] = [...model.parameters()][0];
    model.loadStateDict(
      new Map([...model.stateDict(), [name, tensor(new Float32Array(p.size).fill(1e6), p.shape)]]),
    );
    const path = await saveCheckpoint(dir, model, null, meta(1));
    await assert.rejects(
      () => exportCheckpoint(path, `${dir}/half.safetensors`, { dtype: "F16" }),
      new RegExp(`${name.replace(/\./g, "\\.")}\\[0\\] = 1000000 does not fit in float16`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("training.initCheckpoint with another vocabulary or other layer shapes is an error naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_init_bad_" });
  try {
    const encoder = tinyConfig(dir, 1).encoder as TdnnEncoderConfig;
    const model = new CtcModel(F, 29, encoder, new Rng(3));
    const other = await saveCheckpoint(`${dir}/v`, model, null, { ...meta(1), vocabulary: ["a", "b"] });
    const run = tinyConfig(`${dir}/run`, 1);
    run.training.initCheckpoint = other;
    await assert.rejects(
      () => silenceStderr(() => train(run, { trainSet: tinySet(4, 1) })),
      /ckpt-00000001\.safetensors: its vocabulary "ab" is not/,
    );
    const wide = new CtcModel(
      F,
      29,
      { ...encoder, blocks: [{ ...encoder.blocks[0], channels: 20 }] },
      new Rng(3),
    );
    run.training.initCheckpoint = await saveCheckpoint(`${dir}/w`, wide, null, meta(1));
    await assert.rejects(
      () => silenceStderr(() => train(run, { trainSet: tinySet(4, 1) })),
      /w\/ckpt-00000001\.safetensors: does not fit tiny's model/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
