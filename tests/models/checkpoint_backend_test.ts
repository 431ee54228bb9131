/**
 * Checkpoints are backend-independent: weights saved from a model on one backend load onto a
 * model on another and compute the same thing, and a training run records its backend in its
 * log and checkpoints. Needs a WebGPU adapter (skips loudly without one); the tests that run
 * the model on webgpu need a webgpu kernel for each of its ops and fail with
 * `Op "<op>" has no kernel on backend "webgpu"` until every one exists.
 */
import assert from "node:assert/strict";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import type { UtteranceFeatures } from "../../data/pipeline/batches.ts";
import {
  type CheckpointMeta,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from "../../models/checkpoint.ts";
import { config as small } from "../../models/configs/small.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { CtcModel } from "../../models/ctc_model.ts";
import type { UtteranceSet } from "../../models/dataset.ts";
import { train } from "../../models/trainer.ts";
import { defaultBackend, setDefaultBackend } from "../../ops/backend_registry.ts";
import { initWebGpu, noGrad, Rng, tensor, TensorScope } from "../../ops/mod.ts";

const vocab = Vocabulary.english();
const F = small.features.numFeatures;

const webgpuReady = await initWebGpu({ quiet: true });
if (!webgpuReady) console.warn("checkpoint_backend_test: SKIPPING every test: no WebGPU adapter");

/** Runs `fn` with `backend` as the default backend (where models and loaded checkpoints go). */
async function withDefault<T>(backend: string, fn: () => Promise<T> | T): Promise<T> {
  const before = defaultBackend();
  setDefaultBackend(backend);
  try {
    return await fn();
  } finally {
    setDefaultBackend(before);
  }
}

function meta(step: number): CheckpointMeta {
  return {
    config: small,
    vocabulary: [...vocab.chars],
    blankIndex: vocab.blankIndex,
    step,
    epoch: 0,
    batchInEpoch: 0,
    // Real generator states: loading checks that they are (reliability's metadata checks).
    rngState: new Rng(1).state(),
    dataRngState: new Rng(2).state(),
  };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "checkpoint_backend_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Eval-mode logits of two utterances (48 and 40 frames of random features). */
async function logitsOf(model: CtcModel, backend: string): Promise<Float32Array> {
  const rng = new Rng(21);
  const x = Float32Array.from({ length: 2 * F * 48 }, () => rng.normal());
  using _scope = new TensorScope();
  model.eval();
  const { logits } = noGrad(() =>
    model.forward(tensor(x, [2, F, 48], { backend }), Int32Array.from([48, 40]))
  );
  return await logits.data() as Float32Array;
}

Deno.test({
  name: "a checkpoint saved from a model on the cpu loads on webgpu and gives the same logits to 1e-4",
  ignore: !webgpuReady,
  fn: () =>
    withTempDir(async (dir) => {
      const trained = new CtcModel(F, vocab.size, small.encoder, new Rng(3));
      // Running statistics away from their initial 0 and 1, so that loading them matters.
      for (const [k, t] of trained.stateDict()) {
        if (k.endsWith("running_mean")) {
          trained.loadStateDict({ [k]: tensor(t.dataSync().map((_, i) => 0.01 * i), t.shape) }, {
            strict: false,
          });
        }
      }
      const path = await saveCheckpoint(dir, trained, null, meta(1));
      const want = await logitsOf(trained, "cpu");
      const got = await withDefault("webgpu", async () => {
        const ckpt = await loadCheckpoint(path);
        const model = new CtcModel(F, vocab.size, small.encoder, new Rng(99)); // other initial weights
        model.loadStateDict(ckpt.state);
        assert.equal(model.parameters().get("decoder.weight")!.backend.name, "webgpu");
        return await logitsOf(model, "webgpu");
      });
      assert.equal(got.length, want.length);
      want.forEach((v, i) =>
        assert.ok(
          Math.abs(got[i] - v) <= 1e-4 * Math.max(1, Math.abs(v)),
          `logit ${i}: webgpu ${got[i]}, cpu ${v}`,
        )
      );
    }),
});

Deno.test({
  name: "a checkpoint saved from a model on webgpu loads on the cpu with the same weights and statistics",
  ignore: !webgpuReady,
  fn: () =>
    withTempDir(async (dir) => {
      const onGpu = await withDefault("webgpu", () => new CtcModel(F, vocab.size, small.encoder, new Rng(4)));
      const path = await saveCheckpoint(dir, onGpu, null, { ...meta(2), backend: "webgpu" });
      const ckpt = await withDefault("cpu", () => loadCheckpoint(path));
      assert.equal(ckpt.meta.backend, "webgpu");
      const model = new CtcModel(F, vocab.size, small.encoder, new Rng(98));
      model.loadStateDict(ckpt.state);
      for (const [k, t] of onGpu.stateDict()) {
        assert.equal(model.stateDict().get(k)!.backend.name, "cpu");
        assert.deepEqual(model.stateDict().get(k)!.dataSync(), await t.data(), k);
      }
    }),
});

/** Four utterances of random features, as in trainer_test.ts. */
function tinySet(): UtteranceSet {
  const rng = new Rng(8);
  const items: UtteranceFeatures[] = [];
  for (let i = 0; i < 4; i++) {
    const nFrames = 24 + rng.int(17);
    const text = Array.from({ length: 2 + rng.int(3) }, () => "abcdefgh"[rng.int(8)]).join("");
    items.push({
      features: Float32Array.from({ length: 8 * nFrames }, () => rng.normal()),
      nFeatures: 8,
      nFrames,
      targets: vocab.encode(text),
      transcript: text,
      path: `utt${i}`,
    });
  }
  return { items, durations: Float64Array.from(items, (u) => u.nFrames / 100) };
}

function tinyConfig(logDir: string, maxSteps: number): SpeechConfig {
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
    data: { train: [], eval: [], infer: [], batchSize: 2 },
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
      logDir,
    },
    decoder: { kind: "greedy" },
  };
}

Deno.test({
  name:
    "training on webgpu names it in every log record and in the checkpoint, and the run resumes on the cpu",
  ignore: !webgpuReady,
  fn: () =>
    withTempDir(async (dir) => {
      const quiet = console.error;
      console.error = () => {};
      try {
        await withDefault("webgpu", () => train(tinyConfig(dir, 2), { trainSet: tinySet() }));
        const records = (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        assert.deepEqual(records.map((r) => r.backend), ["webgpu", "webgpu"]);
        assert.ok(records.every((r) => typeof r.device === "string" && r.device.length > 0));
        const last = listCheckpoints(dir).at(-1)!;
        assert.equal((await loadCheckpoint(last)).meta.backend, "webgpu");
        // Trained on one backend, continued on another.
        const resumed = await withDefault("cpu", () =>
          train(tinyConfig(dir, 4), { trainSet: tinySet(), resume: true }));
        assert.equal(resumed.steps, 4);
        const after = (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        assert.deepEqual(
          after.map((r) =>
            r.backend
          ),
          ["webgpu", "webgpu", "cpu", "cpu"],
        );
        assert.equal((await loadCheckpoint(listCheckpoints(dir).at(-1)!)).meta.backend, "cpu");
      } finally {
        console.error = quiet;
      }
    }),
});
