import assert from "node:assert/strict";
import { budgetedLearningRate, learningRate } from "../../models/lr_policy.ts";

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

Deno.test("a budgeted schedule is the policy itself while the run keeps to its planned pace", () => {
  const p = { kind: "cosine", lr: 0.003, warmupSteps: 200, decaySteps: 8200, minLr: 1e-5 } as const;
  const at = { plannedSteps: 8200, startStep: 200, startTime: 1000, deadline: 1000 + 8000 * 400 };
  for (const step of [0, 150, 200, 4200, 8000]) {
    // On pace: step − 200 steps of 400 ms each have passed (ahead of pace: fewer ms).
    const now = at.startTime + Math.max(step - 200, 0) * 400;
    close(budgetedLearningRate(p, step, { ...at, now }), learningRate(p, step));
    close(budgetedLearningRate(p, step, { ...at, now: now - 5000 }), learningRate(p, step));
  }
});

Deno.test("a budgeted schedule that falls behind is pushed on by time and ends at minLr with the budget", () => {
  const p = { kind: "cosine", lr: 0.003, warmupSteps: 200, decaySteps: 8200, minLr: 1e-5 } as const;
  const at = { plannedSteps: 8200, startStep: 200, startTime: 0, deadline: 8000 * 400 };
  // Half the budget gone at step 2000 instead of 4200: the rate is the policy's at 4200.
  close(budgetedLearningRate(p, 2000, { ...at, now: at.deadline / 2 }), learningRate(p, 4200));
  close(budgetedLearningRate(p, 6000, { ...at, now: at.deadline }), 1e-5);
  close(budgetedLearningRate(p, 6000, { ...at, now: at.deadline + 60_000 }), 1e-5);
  // Warmup is counted in steps, whatever the clock says.
  close(budgetedLearningRate(p, 100, { ...at, now: at.deadline }), learningRate(p, 100));
  // Never above the rate of the steps done (monotone in both step and time).
  let prev = Infinity;
  for (let i = 0; i <= 20; i++) {
    const lr = budgetedLearningRate(p, 200 + 200 * i, { ...at, now: i * 0.05 * at.deadline });
    assert.ok(lr <= prev && lr <= learningRate(p, 200 + 200 * i), `step ${200 + 200 * i}: ${lr}`);
    prev = lr;
  }
});
