import assert from "node:assert/strict";
import { learningRate } from "../../models/lr_policy.ts";

const close = (a: number, b: number) =>
  assert.ok(Math.abs(a - b) < 1e-12 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

Deno.test("poly decay matches tf.train.polynomial_decay with an end learning rate", () => {
  const p = { kind: "poly", lr: 0.02, power: 2, decaySteps: 1000, minLr: 1e-5 } as const;
  close(learningRate(p, 0), 0.02);
  close(learningRate(p, 500), (0.02 - 1e-5) * 0.25 + 1e-5);
  close(learningRate(p, 1000), 1e-5);
  close(learningRate(p, 5000), 1e-5);
});

Deno.test("poly decay ramps up linearly during warmup", () => {
  const p = { kind: "poly", lr: 0.1, power: 1, decaySteps: 100, warmupSteps: 10 } as const;
  close(learningRate(p, 0), 0.01);
  close(learningRate(p, 9), 0.1);
  close(learningRate(p, 10), 0.1);
  close(learningRate(p, 60), 0.05);
});

Deno.test("exponential decay with staircase drops every decaySteps", () => {
  const p = { kind: "exp", lr: 1e-4, decaySteps: 5000, decayRate: 0.9, staircase: true } as const;
  close(learningRate(p, 4999), 1e-4);
  close(learningRate(p, 5000), 0.9e-4);
  close(learningRate(p, 12000), 1e-4 * 0.81);
});

Deno.test("cosine decay goes from lr to minLr after warmup", () => {
  const p = { kind: "cosine", lr: 0.01, warmupSteps: 100, decaySteps: 1100, minLr: 0 } as const;
  close(learningRate(p, 99), 0.01);
  close(learningRate(p, 600), 0.005);
  close(learningRate(p, 1100), 0);
});
