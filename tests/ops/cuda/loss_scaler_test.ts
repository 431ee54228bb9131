import assert from "node:assert/strict";
import { BackoffLossScaler } from "../../../ops/backends/cuda/loss_scaler.ts";

Deno.test("BackoffLossScaler halves on overflow and skips that step", () => {
  const s = new BackoffLossScaler({ initialScale: 1024 });
  assert.equal(s.update(true), false);
  assert.equal(s.scale, 512);
  assert.equal(s.update(true), false);
  assert.equal(s.scale, 256);
});

Deno.test("BackoffLossScaler doubles after stepWindow clean steps since the last overflow", () => {
  const s = new BackoffLossScaler({ initialScale: 8, stepWindow: 3 });
  s.update(true); // iteration 0 overflows: scale 4, last overflow 0
  assert.equal(s.scale, 4);
  assert.equal(s.update(false), true); // iteration 1: 1 since overflow
  assert.equal(s.update(false), true); // iteration 2: 2
  assert.equal(s.scale, 4);
  s.update(false); // iteration 3: 3 since overflow, a multiple of the window
  assert.equal(s.scale, 8);
  s.update(false);
  s.update(false);
  assert.equal(s.scale, 8);
  s.update(false); // iteration 6: 6 since overflow
  assert.equal(s.scale, 16);
});

Deno.test("BackoffLossScaler never leaves [scaleMin, scaleMax]", () => {
  const s = new BackoffLossScaler({ initialScale: 2, scaleMin: 1, scaleMax: 4, stepWindow: 1 });
  for (let i = 0; i < 5; i++) s.update(true);
  assert.equal(s.scale, 1);
  for (let i = 0; i < 5; i++) s.update(false);
  assert.equal(s.scale, 4);
});

Deno.test("BackoffLossScaler starts at OpenSeq2Seq's defaults and round-trips its state", () => {
  const s = new BackoffLossScaler();
  assert.equal(s.scale, 2 ** 24);
  // With no overflow yet (last overflow at -1), the first growth is at iteration 1999 (2000 since -1).
  for (let i = 0; i < 1999; i++) s.update(false);
  assert.equal(s.scale, 2 ** 24); // clamped at scaleMax
  s.update(true);
  const copy = new BackoffLossScaler();
  copy.restore(s.toJSON());
  assert.deepEqual(copy.toJSON(), { scale: 2 ** 23, iteration: 2000, lastOverflowIteration: 1999 });
  assert.throws(() => new BackoffLossScaler({ stepFactor: 1 }), /stepFactor 1 must exceed 1/);
});
