/**
 * Mixed-precision training (models/precision.ts, models/loss_scaler.ts, ops/gemm_dtype.ts) with
 * the `small` config on three tiny random utterances:
 * - on webgpu with shader-f16, 6 fp16 steps lower the loss and track an f32 run's losses (the
 *   f32 run on the cpu, which matches webgpu f32 to 1e-4: train_step_test.ts; the 30-step
 *   webgpu-against-webgpu comparison is tests/slow/mixed_precision_curve_test.ts);
 * - a step whose scaled gradients overflow float16 is skipped (weights and update count
 *   unchanged) and halves the scale, on webgpu and in the cpu's emulation;
 * - a checkpoint of an fp16 run loads on the cpu and evaluates in f32 like the trained model;
 * - on the cpu, a power-of-two loss scale in f32 changes no update, with iterSize 2;
 * - train() in fp16 (the cpu's emulation) records the precision and the scaler's state in its
 *   checkpoints and resumes the scale, and an fp16 step with a scaler reads nothing back.
 *
 * The webgpu tests skip loudly without an adapter, or without the `shader-f16` feature.
 */
import assert from "node:assert/strict";
import {
  listCheckpoints,
  loadCheckpoint,
  loadOptimizerState,
  saveCheckpoint,
} from "../../models/checkpoint.ts";
import { config as small } from "../../models/configs/small.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import type { UtteranceSet } from "../../models/dataset.ts";
import { CtcModel } from "../../models/ctc_model.ts";
import { BackoffLossScaler } from "../../models/loss_scaler.ts";
import { trainStep } from "../../models/train_step.ts";
import { makeOptimizer, train } from "../../models/trainer.ts";
import { getBackend, initWebGpu, Rng, TensorScope, webGpuBackend } from "../../ops/mod.ts";
import type { CpuBackend } from "../../ops/backends/cpu/backend.ts";
import {
  CURVE_SCALER,
  CURVE_TOLERANCE,
  curveDrift,
  evalLogits,
  F,
  lossCurve,
  modelOn,
  onBackend,
  tinyBatch,
  vocab,
  worstRelative,
} from "./tiny_training.ts";

const webgpuReady = await initWebGpu({ quiet: true });
const hasF16 = webgpuReady && webGpuBackend()!.hasFloat16 === true;
if (!webgpuReady) console.warn("mixed_precision_test: SKIPPING the webgpu tests: no WebGPU adapter");
else if (!hasF16) {
  console.warn("mixed_precision_test: SKIPPING the webgpu tests: the adapter lacks shader-f16");
}

Deno.test({
  name: "6 fp16 steps of the small config on webgpu lower the loss and track the f32 run within 2%",
  ignore: !hasF16,
  async fn() {
    const f32 = await lossCurve("cpu", "f32", 6, null);
    const fp16 = await lossCurve("webgpu", "fp16", 6, CURVE_SCALER);
    const { drift, at } = curveDrift(fp16.losses, f32.losses);
    console.log(`f32 ${f32.losses.map((l) => l.toFixed(2))}\nfp16 ${fp16.losses.map((l) => l.toFixed(2))}`);
    assert.equal(await fp16.lossScaler!.scale.item(), CURVE_SCALER.initialScale, "no step overflowed");
    assert.ok(fp16.losses[5] < 0.8 * fp16.losses[0], `fp16 loss ${fp16.losses[0]} → ${fp16.losses[5]}`);
    assert.ok(
      drift <= CURVE_TOLERANCE.steps10,
      `step ${at}: fp16 loss ${fp16.losses[at]} vs f32 ${f32.losses[at]} (${(drift * 100).toFixed(2)}%)`,
    );
    fp16.lossScaler!.dispose();
  },
});

/** One step with a scale so large that the float16 gradients overflow; returns what changed. */
async function overflowStep(backend: string) {
  const { model, optimizer } = modelOn(backend, "fp16");
  const scaler = new BackoffLossScaler(backend, { initialScale: 2 ** 60, maxScale: 2 ** 60 });
  const weight = () => model.parameters().get("decoder.weight")!.data();
  const before = await weight();
  using _scope = new TensorScope();
  const r = trainStep(model, optimizer, onBackend(tinyBatch(3), backend), { lr: 0.01, lossScaler: scaler });
  const result = {
    isFinite: await r.isFinite.item(),
    loss: await r.loss.item(),
    scale: await scaler.scale.item(),
    weightChange: worstRelative(await weight(), before),
    applied: await optimizer.appliedSteps()!.item(),
  };
  scaler.dispose();
  return result;
}

for (const backend of ["webgpu", "cpu"]) {
  Deno.test({
    name: `a ${backend} fp16 step whose scaled gradients overflow is skipped and halves the scale`,
    ignore: backend === "webgpu" && !hasF16,
    async fn() {
      const r = await overflowStep(backend);
      assert.ok(Number.isFinite(r.loss), "the loss itself is finite: only the scaled gradients overflow");
      assert.equal(r.isFinite, 0);
      assert.equal(r.scale, 2 ** 59);
      assert.equal(r.weightChange, 0, "the weights are unchanged");
      assert.equal(r.applied, 0, "no update counted");
    },
  });
}

Deno.test({
  name:
    "a checkpoint of an fp16 run on webgpu loads on the cpu and evaluates in f32 like the trained weights",
  ignore: !hasF16,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mixed_precision_test_" });
    try {
      const run = await lossCurve("webgpu", "fp16", 2, CURVE_SCALER);
      const path = await saveCheckpoint(dir, run.model, run.optimizer, {
        config: { ...small, training: { ...small.training, precision: "fp16" } },
        vocabulary: [...vocab.chars],
        blankIndex: vocab.blankIndex,
        step: 2,
        epoch: 0,
        batchInEpoch: 0,
        rngState: new Rng(1).state(),
        dataRngState: new Rng(2).state(),
        backend: "webgpu",
        precision: "fp16",
      }, { lossScaler: run.lossScaler });
      const gpuF16 = await evalLogits(run.model, "webgpu");
      const gpuF32 = await evalLogits(run.model.setPrecision("f32"), "webgpu");
      const ckpt = await loadCheckpoint(path);
      assert.equal(ckpt.meta.precision, "fp16");
      const onCpu = new CtcModel(F, vocab.size, small.encoder, new Rng(99));
      onCpu.loadStateDict(ckpt.state);
      assert.equal(onCpu.precision, "f32");
      const cpuF32 = await evalLogits(onCpu, "cpu");
      const exact = worstRelative(cpuF32, gpuF32), vsHalf = worstRelative(cpuF32, gpuF16);
      console.log(
        `cpu f32 vs webgpu f32 ${exact.toExponential(2)}, vs webgpu fp16 ${vsHalf.toExponential(2)}`,
      );
      assert.ok(exact < 1e-4, `cpu f32 logits differ from webgpu f32 by ${exact}`);
      assert.ok(vsHalf > 0 && vsHalf < 5e-2, `cpu f32 logits differ from webgpu fp16 by ${vsHalf}`);
      const scaler = new BackoffLossScaler("cpu");
      await loadOptimizerState(path, makeOptimizer(small, onCpu.parameters()), { lossScaler: scaler });
      assert.equal(await scaler.scale.item(), await run.lossScaler!.scale.item());
      scaler.dispose();
      run.lossScaler!.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("on the cpu a power-of-two loss scale in f32 changes no update, with iterSize 2", async () => {
  const iterSize = 2;
  const plain = modelOn("cpu", "f32"), scaled = modelOn("cpu", "f32");
  const scaler = new BackoffLossScaler("cpu", { initialScale: 2 ** 12 });
  for (let i = 0; i < 2 * iterSize; i++) {
    using _scope = new TensorScope();
    const batch = tinyBatch(10 + i);
    const update = (i + 1) % iterSize === 0;
    const a = trainStep(plain.model, plain.optimizer, onBackend(batch, "cpu"), {
      lr: 0.01,
      iterSize,
      update,
    });
    const b = trainStep(scaled.model, scaled.optimizer, onBackend(batch, "cpu"), {
      lr: 0.01,
      iterSize,
      update,
      lossScaler: scaler,
    });
    const normErr = Math.abs(await b.gradNorm.item() - await a.gradNorm.item()) / await a.gradNorm.item();
    assert.ok(
      normErr < 1e-5,
      `batch ${i}: the reported gradient norm is the unscaled one (error ${normErr})`,
    );
  }
  for (const [k, p] of plain.model.parameters()) {
    const err = worstRelative(await scaled.model.parameters().get(k)!.data(), await p.data());
    assert.ok(err < 1e-5, `${k} differs by ${err}`);
  }
  assert.equal(await scaler.scale.item(), 2 ** 12, "no overflow, and fewer than stepWindow clean steps");
  scaler.dispose();
});

/** A TDNN of a few channels, trained by `train()` on random features (fast on the cpu). */
function tinyFp16Config(logDir: string, maxSteps: number): SpeechConfig {
  return {
    ...small,
    name: "tiny_fp16",
    encoder: {
      kind: "tdnn",
      activation: "relu",
      bnMomentum: 0.1,
      bnEps: 1e-3,
      blocks: [
        { repeat: 1, kernel: 5, stride: 2, channels: 12, dropout: 0 },
        { repeat: 1, kernel: 1, channels: 16, dropout: 0 },
      ],
    },
    data: { train: [], eval: [], infer: [], batchSize: 2 },
    training: {
      ...small.training,
      maxSteps,
      logEvery: 1,
      saveEvery: 1000,
      logDir,
      precision: "fp16",
      lossScaler: { initialScale: 2 ** 10, stepWindow: 2 },
    },
  };
}

function tinySet(n: number): UtteranceSet {
  const rng = new Rng(4);
  const items = Array.from({ length: n }, (_, i) => {
    const nFrames = 24 + 4 * i;
    return {
      features: Float32Array.from({ length: F * nFrames }, () => rng.normal()),
      nFeatures: F,
      nFrames,
      targets: vocab.encode("abc"),
      transcript: "abc",
      path: `utt${i}`,
    };
  });
  return { items, durations: Float64Array.from(items, (u) => u.nFrames / 100) };
}

Deno.test("train() in fp16 on the cpu records the precision and the loss scale in its checkpoint and resumes the scale", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mixed_precision_train_" });
  const quiet = console.error;
  const notices: string[] = [];
  console.error = (...a: unknown[]) => notices.push(a.join(" "));
  try {
    const set = tinySet(4);
    await train(tinyFp16Config(dir, 4), { trainSet: set });
    const first = listCheckpoints(dir).at(-1)!;
    assert.equal((await loadCheckpoint(first)).meta.precision, "fp16");
    const scaleAt = async (path: string) => {
      const s = new BackoffLossScaler("cpu");
      const model = new CtcModel(F, vocab.size, tinyFp16Config(dir, 4).encoder, new Rng(1));
      await loadOptimizerState(path, makeOptimizer(small, model.parameters()), { lossScaler: s });
      const v = await s.scale.item();
      s.dispose();
      return v;
    };
    // Four clean steps with a window of 2: 2^10 → 2^12.
    assert.equal(await scaleAt(first), 2 ** 12);
    await train(tinyFp16Config(dir, 6), { trainSet: set, resume: true });
    assert.equal(
      await scaleAt(listCheckpoints(dir).at(-1)!),
      2 ** 13,
      "the scale went on from the checkpoint's",
    );
    assert.ok(
      notices.some((n) => /emulation/.test(n)),
      `the cpu says fp16 is emulated: ${notices.join(" | ")}`,
    );
  } finally {
    console.error = quiet;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an fp16 trainStep with a loss scaler reads nothing back to the host (cpu emulation)", () => {
  const { model, optimizer } = modelOn("cpu", "fp16");
  const scaler = new BackoffLossScaler("cpu", { initialScale: 2 ** 10 });
  const batch = onBackend(tinyBatch(14), "cpu");
  // Every read of the cpu backend is counted while the step runs, as in train_step_test.ts.
  const cpu = getBackend("cpu") as CpuBackend;
  let reads = 0;
  const { read, readSync } = cpu;
  Object.assign(cpu, {
    read: (...a: Parameters<typeof read>) => (reads++, read.apply(cpu, a)),
    readSync: (...a: Parameters<typeof readSync>) => (reads++, readSync.apply(cpu, a)),
  });
  try {
    using _scope = new TensorScope();
    trainStep(model, optimizer, batch, { lr: 0.01, lossScaler: scaler });
  } finally {
    delete (cpu as { read?: unknown }).read;
    delete (cpu as { readSync?: unknown }).readSync;
  }
  assert.equal(reads, 0);
  scaler.dispose();
});
