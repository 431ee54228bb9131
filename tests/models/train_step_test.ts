/**
 * trainStep on webgpu against the cpu (float32), with the `small` config (models/configs/) on
 * three tiny random utterances: one step gives the same loss, every gradient, every updated
 * weight and optimizer state to 1e-4; 30 steps lower the loss on webgpu as on cpu. Also, on the
 * cpu alone: a non-finite batch changes nothing, and nothing in a step reads back to the host.
 *
 * The webgpu tests skip loudly without an adapter. They need a webgpu kernel for every op of
 * the model (conv1d, batchNorm, ctcLoss, ...): an op without one fails them with
 * `Op "<op>" has no kernel on backend "webgpu"`.
 */
import assert from "node:assert/strict";
import { trainStep } from "../../models/train_step.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { CpuBackend } from "../../ops/backends/cpu/backend.ts";
import { initWebGpu, TensorScope } from "../../ops/mod.ts";
import { type HostBatch, modelOn, onBackend, tinyBatch } from "./tiny_training.ts";

/** Largest |got − want| / max(1, |want|) over two equally long arrays. */
function worstError(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; at: number } {
  assert.equal(got.length, want.length);
  let err = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= err)) [err, at] = [Number.isNaN(e) ? Infinity : e, i];
  }
  return { err, at };
}

/**
 * One step: trainStep without the update (loss and gradients), then the update as trainStep
 * makes it (`optimizer.step` with the step's gradient norm and finite flag); reads everything.
 */
async function oneStep(backend: string, batch: HostBatch, lr: number) {
  const { model, optimizer } = modelOn(backend, "f32");
  using _scope = new TensorScope();
  const r = trainStep(model, optimizer, onBackend(batch, backend), { lr, update: false });
  const grads = new Map<string, Float32Array>();
  for (const [k, p] of model.parameters()) grads.set(k, await p.grad!.data() as Float32Array);
  const loss = await r.loss.item(), gradNorm = await r.gradNorm.item(), isFinite = await r.isFinite.item();
  optimizer.step(lr, 1, { gradNorm: r.gradNorm, apply: r.isFinite });
  const weights = new Map<string, Float32Array>();
  for (const [k, t] of model.stateDict()) weights.set(k, await t.data() as Float32Array);
  for (const [k, t] of optimizer.stateDict()) weights.set(`optimizer:${k}`, await t.data() as Float32Array);
  return { loss, gradNorm, isFinite, grads, weights };
}

/** Losses of `n` steps of trainStep on the same batch. */
async function losses(backend: string, batch: HostBatch, n: number, lr: number): Promise<number[]> {
  const { model, optimizer } = modelOn(backend, "f32");
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    using _scope = new TensorScope();
    out.push(await trainStep(model, optimizer, onBackend(batch, backend), { lr }).loss.item());
  }
  return out;
}

const webgpuReady = await initWebGpu({ quiet: true });
if (!webgpuReady) console.warn("train_step_test: SKIPPING the webgpu comparisons: no WebGPU adapter");

Deno.test({
  name:
    "a trainStep of the small config on webgpu equals the cpu's to 1e-4: loss, every gradient, every updated weight",
  ignore: !webgpuReady,
  fn: async () => {
    const batch = tinyBatch(11);
    const want = await oneStep("cpu", batch, 0.01);
    const got = await oneStep("webgpu", batch, 0.01);
    assert.equal(want.isFinite, 1);
    assert.equal(got.isFinite, 1);
    assert.ok(worstError([got.loss], [want.loss]).err <= 1e-4, `loss ${got.loss} vs ${want.loss}`);
    assert.ok(
      worstError([got.gradNorm], [want.gradNorm]).err <= 1e-4,
      `gradNorm ${got.gradNorm} vs ${want.gradNorm}`,
    );
    for (const [k, g] of want.grads) {
      const { err, at } = worstError(got.grads.get(k)!, g);
      assert.ok(err <= 1e-4, `gradient of ${k}[${at}]: webgpu ${got.grads.get(k)![at]}, cpu ${g[at]}`);
    }
    assert.deepEqual([...got.weights.keys()].sort(), [...want.weights.keys()].sort());
    for (const [k, w] of want.weights) {
      const { err, at } = worstError(got.weights.get(k)!, w);
      assert.ok(err <= 1e-4, `updated ${k}[${at}]: webgpu ${got.weights.get(k)![at]}, cpu ${w[at]}`);
    }
  },
});

Deno.test({
  name: "30 trainSteps of the small config lower the loss on webgpu as on cpu",
  ignore: !webgpuReady,
  fn: async () => {
    const batch = tinyBatch(12);
    const cpu = await losses("cpu", batch, 30, 0.01);
    const gpu = await losses("webgpu", batch, 30, 0.01);
    assert.ok(cpu[29] < 0.5 * cpu[0], `cpu: ${cpu[0]} → ${cpu[29]}`);
    assert.ok(gpu[29] < 0.5 * gpu[0], `webgpu: ${gpu[0]} → ${gpu[29]}`);
    // The two runs drift apart by rounding only: their curves stay close.
    for (let i = 0; i < 30; i++) {
      assert.ok(
        Math.abs(gpu[i] - cpu[i]) <= 0.05 * cpu[i] + 1e-3,
        `step ${i}: webgpu ${gpu[i]}, cpu ${cpu[i]}`,
      );
    }
  },
});

Deno.test("30 trainSteps of the small config on the cpu halve the loss of three utterances", async () => {
  const l = await losses("cpu", tinyBatch(12), 30, 0.01);
  assert.ok(l.every(Number.isFinite));
  assert.ok(l[29] < 0.5 * l[0], `${l[0]} → ${l[29]}`);
});

Deno.test("a batch holding NaN makes isFinite 0 and leaves every weight, statistic and optimizer state as it was", async () => {
  const { model, optimizer } = modelOn("cpu", "f32");
  const good = tinyBatch(13);
  {
    using _scope = new TensorScope();
    trainStep(model, optimizer, onBackend(good, "cpu"), { lr: 0.01 }); // the slots now exist
  }
  const before = new Map([...model.stateDict(), ...optimizer.stateDict()].map(([k, t]) => [k, t.dataSync()]));
  const bad = tinyBatch(13);
  bad.features[5] = NaN;
  using _scope = new TensorScope();
  const r = trainStep(model, optimizer, onBackend(bad, "cpu"), { lr: 0.01 });
  assert.equal(await r.isFinite.item(), 0);
  assert.ok(!Number.isFinite(await r.gradNorm.item()));
  for (const [k, t] of [...model.stateDict(), ...optimizer.stateDict()]) {
    assert.deepEqual(t.dataSync(), before.get(k), k);
  }
  assert.ok([...model.parameters().values()].every((p) => p.grad === null), "the gradients were released");
});

Deno.test("a trainStep of the small config reads nothing back to the host", () => {
  const { model, optimizer } = modelOn("cpu", "f32");
  const batch = onBackend(tinyBatch(14), "cpu");
  // Every read of the cpu backend is counted while the step runs (kernels use the host arrays
  // directly; a read is what a GPU backend would have to wait for).
  const cpu = getBackend("cpu") as CpuBackend;
  let reads = 0;
  const { read, readSync } = cpu;
  Object.assign(cpu, {
    read: (...a: Parameters<typeof read>) => (reads++, read.apply(cpu, a)),
    readSync: (...a: Parameters<typeof readSync>) => (reads++, readSync.apply(cpu, a)),
  });
  try {
    using _scope = new TensorScope();
    trainStep(model, optimizer, batch, { lr: 0.01 });
  } finally {
    delete (cpu as { read?: unknown }).read;
    delete (cpu as { readSync?: unknown }).readSync;
  }
  assert.equal(reads, 0);
  assert.equal(cpu.read, CpuBackend.prototype.read, "the backend is restored");
});
