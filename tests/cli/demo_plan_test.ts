import assert from "node:assert/strict";
import {
  DemoBudgetError,
  demoDataSeconds,
  isSamePlanRequest,
  planDemoData,
  planDemoSteps,
  shortRunWarmup,
} from "../../cli/demo_plan.ts";

const rates = { synthUttPerS: 20, featureUttPerS: 80 };

Deno.test("planDemoData() scales the training set to a third of a 10-minute budget", () => {
  const p = planDemoData({
    budgetS: 600,
    elapsedS: 60,
    reserveS: 90,
    requestedTrain: 19000,
    cachedTrain: 0,
    rates,
  });
  assert.equal(p.nTrain, 2160);
  assert.ok(Math.abs(p.dataS - 0.3 * 450) < 0.1, `data ${p.dataS} s`);
  assert.ok(p.trainS > 300, `train ${p.trainS} s`);
  // The case: 19,000 utterances at 20 a second alone take 16 minutes.
  assert.ok(demoDataSeconds(19000, 0, rates) > 6 * 60);
});

Deno.test("planDemoData() takes the whole request when it fits and reuses audio made earlier", () => {
  const full = planDemoData({
    budgetS: 3600,
    elapsedS: 60,
    reserveS: 90,
    requestedTrain: 2000,
    cachedTrain: 0,
    rates,
  });
  assert.equal(full.nTrain, 2000);
  const cold = planDemoData({
    budgetS: 600,
    elapsedS: 60,
    reserveS: 90,
    requestedTrain: 19000,
    cachedTrain: 0,
    rates,
  });
  const warm = planDemoData({
    budgetS: 600,
    elapsedS: 60,
    reserveS: 90,
    requestedTrain: 19000,
    cachedTrain: 5000,
    rates,
  });
  assert.ok(warm.nTrain > cold.nTrain, `${warm.nTrain} with a cache, ${cold.nTrain} without`);
  assert.equal(warm.nToSynthesize, Math.max(0, warm.nTrain - 5000));
  assert.ok(warm.dataS <= 0.3 * 450 + 1e-9);
});

Deno.test("planDemoData() refuses a budget with no room for training, naming the --minutes that fits", () => {
  assert.throws(
    () =>
      planDemoData({
        budgetS: 120,
        elapsedS: 60,
        reserveS: 90,
        requestedTrain: 19000,
        cachedTrain: 0,
        rates,
      }),
    (e: Error) =>
      e instanceof DemoBudgetError && /--minutes 2 is too short.*give --minutes 4 or more/.test(e.message),
  );
  // The minimum it names does fit.
  const p = planDemoData({
    budgetS: 240,
    elapsedS: 60,
    reserveS: 90,
    requestedTrain: 19000,
    cachedTrain: 0,
    rates,
  });
  assert.ok(p.nTrain >= 100 && p.trainS >= 60, JSON.stringify(p));
});

Deno.test("planDemoSteps() fits steps to the time left and never plans too few silently", () => {
  assert.equal(planDemoSteps({ doneSteps: 50, stepS: 1, leftS: 108, budgetS: 600 }), 150);
  assert.throws(
    () => planDemoSteps({ doneSteps: 0, stepS: 2, leftS: 10, budgetS: 360 }),
    (e: Error) =>
      e instanceof DemoBudgetError &&
      /leaves time for 4 training steps.*give --minutes 7 or more/.test(e.message),
  );
  assert.throws(
    () => planDemoSteps({ doneSteps: 0, stepS: 0, leftS: 10, budgetS: 60 }),
    /step time must be > 0/,
  );
});

Deno.test("isSamePlanRequest() re-plans when --minutes or any other input of the plan changed", () => {
  const key = { minutes: 6, config: "small_wide", init: "ckpt", lr: 0.008, requestedTrain: 19000 };
  const plan = { ...key, nTrain: 1000, steps: 300 };
  assert.equal(isSamePlanRequest(plan, key), true);
  assert.equal(isSamePlanRequest(plan, { ...key, minutes: 9 }), false);
  assert.equal(isSamePlanRequest(plan, { ...key, init: null }), false);
  // The old plan.json held only { steps }: it is not reused.
  assert.equal(isSamePlanRequest({ steps: 0 }, key), false);
  assert.equal(isSamePlanRequest(null, key), false);
});

Deno.test("shortRunWarmup() ends the warmup early enough for a short run to decay", () => {
  // The 10-minute demo's case: 41 steps of 7 s, all of them inside a 50-step warmup before.
  assert.equal(shortRunWarmup({ plannedSteps: 43, doneSteps: 11, configWarmup: 300 }), 11);
  assert.equal(shortRunWarmup({ plannedSteps: 600, doneSteps: 50, configWarmup: 300 }), 100);
  assert.equal(shortRunWarmup({ plannedSteps: 6000, doneSteps: 50, configWarmup: 300 }), 300);
  for (const plannedSteps of [20, 43, 120, 600]) {
    const w = shortRunWarmup({ plannedSteps, doneSteps: 5, configWarmup: 300 });
    assert.ok(w <= plannedSteps / 2 || w === 5, `${w} of ${plannedSteps}`);
  }
});
