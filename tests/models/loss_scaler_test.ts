/**
 * BackoffLossScaler (models/loss_scaler.ts) on the cpu: halves on overflow, doubles after
 * stepWindow clean steps, stays within [minScale, maxScale], changes only where an iterSize
 * window ends, and its state survives a checkpoint save and load.
 */
import assert from "node:assert/strict";
import { BackoffLossScaler } from "../../models/loss_scaler.ts";
import { loadOptimizerState, saveCheckpoint } from "../../models/checkpoint.ts";
import { Linear } from "../../models/layers.ts";
import { SGD } from "../../models/optimizers/sgd.ts";
import { Rng, scalar } from "../../ops/mod.ts";

const clean = () => scalar(1, { backend: "cpu" });
const overflow = () => scalar(0, { backend: "cpu" });

/** One window of one batch with finite flag `flag`. */
function stepWith(s: BackoffLossScaler, flag: () => ReturnType<typeof scalar>): void {
  s.observe(flag());
  s.update();
}

Deno.test("the loss scaler halves its scale on overflow", async () => {
  const s = new BackoffLossScaler("cpu", { initialScale: 1024, maxScale: 2 ** 14 });
  stepWith(s, overflow);
  assert.equal(await s.scale.item(), 512);
  stepWith(s, overflow);
  assert.equal(await s.scale.item(), 256);
  s.dispose();
});

Deno.test("the loss scaler doubles its scale after stepWindow clean steps, not before", async () => {
  const s = new BackoffLossScaler("cpu", { initialScale: 8, stepWindow: 3, maxScale: 1024 });
  stepWith(s, clean);
  stepWith(s, clean);
  assert.equal(await s.scale.item(), 8);
  assert.equal(await s.cleanSteps.item(), 2);
  stepWith(s, clean);
  assert.equal(await s.scale.item(), 16);
  assert.equal(await s.cleanSteps.item(), 0);
  // An overflow restarts the count: two clean steps after it do not grow the scale.
  stepWith(s, clean);
  stepWith(s, overflow);
  stepWith(s, clean);
  stepWith(s, clean);
  assert.equal(await s.scale.item(), 8);
  stepWith(s, clean);
  assert.equal(await s.scale.item(), 16);
  s.dispose();
});

Deno.test("the loss scaler stays within [minScale, maxScale]", async () => {
  const s = new BackoffLossScaler("cpu", { initialScale: 4, stepWindow: 1, minScale: 2, maxScale: 8 });
  for (let i = 0; i < 3; i++) stepWith(s, overflow);
  assert.equal(await s.scale.item(), 2);
  for (let i = 0; i < 5; i++) stepWith(s, clean);
  assert.equal(await s.scale.item(), 8);
  s.dispose();
  const high = new BackoffLossScaler("cpu", { initialScale: 2 ** 20 });
  assert.equal(
    await high.scale.item(),
    2 ** 14,
    "the initial scale is clamped to maxScale (2^14 by default)",
  );
  high.dispose();
  assert.throws(() => new BackoffLossScaler("cpu", { minScale: 4, maxScale: 2 }), /minScale <= maxScale/);
});

Deno.test("with iterSize the scale changes only where the window ends, from every batch of it", async () => {
  const s = new BackoffLossScaler("cpu", { initialScale: 64, stepWindow: 2 });
  // Window 1: an overflow in the first of two batches.
  s.observe(overflow());
  assert.equal(await s.scale.item(), 64, "mid-window the scale is unchanged");
  s.observe(clean());
  s.update();
  assert.equal(await s.scale.item(), 32);
  // Windows 2 and 3: clean, of two batches each, count as two clean steps.
  for (let w = 0; w < 2; w++) {
    s.observe(clean());
    s.observe(clean());
    s.update();
  }
  assert.equal(await s.scale.item(), 64);
  s.dispose();
});

Deno.test("the loss scaler's state survives a checkpoint save and load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loss_scaler_test_" });
  try {
    const model = new Linear(3, 2, { rng: new Rng(1) });
    const optimizer = new SGD(model.parameters(), { momentum: 0.9 });
    const s = new BackoffLossScaler("cpu", { initialScale: 256, stepWindow: 5 });
    stepWith(s, overflow);
    stepWith(s, clean);
    stepWith(s, clean);
    const path = await saveCheckpoint(dir, model, optimizer, {
      config: {},
      vocabulary: [],
      blankIndex: 0,
      step: 3,
      epoch: 0,
      batchInEpoch: 0,
      rngState: new Rng(1).state(),
      dataRngState: new Rng(2).state(),
      precision: "fp16",
    }, { lossScaler: s });
    const restored = new BackoffLossScaler("cpu", { initialScale: 256, stepWindow: 5 });
    const optimizer2 = new SGD(model.parameters(), { momentum: 0.9 });
    await loadOptimizerState(path, optimizer2, { lossScaler: restored });
    assert.equal(await restored.scale.item(), 128);
    assert.equal(await restored.cleanSteps.item(), 2);
    assert.ok(
      [...optimizer2.stateDict().keys()].every((k) => !k.includes("loss_scale")),
      "the scaler's entries do not leak into the optimizer's state",
    );
    // Three more clean steps complete the window of 5 that began before the save.
    for (let i = 0; i < 3; i++) stepWith(restored, clean);
    assert.equal(await restored.scale.item(), 256);
    s.dispose();
    restored.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
