import assert from "node:assert/strict";
import { addDither, peakNormalize, preemphasis } from "../../../data/features/signal.ts";

Deno.test("addDither() adds zero-mean Gaussian noise of the requested standard deviation", () => {
  const n = 100_001; // odd, so the last sample takes half of a pair
  const y = addDither(new Float32Array(n), 0.01, { seed: 5 });
  assert.equal(y.length, n);
  let sum = 0;
  let ss = 0;
  let beyond3 = 0;
  for (const v of y) {
    sum += v;
    ss += v * v;
    if (Math.abs(v) > 0.03) beyond3++;
  }
  const mean = sum / n;
  const std = Math.sqrt(ss / n - mean * mean);
  assert.ok(Math.abs(mean) < 2e-4, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.01) < 2e-4, `std ${std}`);
  // A normal puts 0.27 % beyond 3 sigma.
  assert.ok(beyond3 > 150 && beyond3 < 400, `${beyond3} samples beyond 3 sigma`);
  assert.notEqual(y[n - 1], 0);
});

Deno.test("addDither() repeats for a seed and leaves the input untouched", () => {
  const x = Float32Array.of(0.5, -0.5, 0.25);
  const a = addDither(x, 1e-3, { seed: 9 });
  assert.deepEqual(a, addDither(x, 1e-3, { seed: 9 }));
  assert.notDeepEqual(a, addDither(x, 1e-3, { seed: 10 }));
  assert.deepEqual(x, Float32Array.of(0.5, -0.5, 0.25));
});

Deno.test("preemphasis() keeps the first sample and subtracts coeff times the previous one", () => {
  assert.deepEqual(preemphasis(Float32Array.of(1, 2, 4), 0.5), Float32Array.of(1, 1.5, 3));
  assert.equal(preemphasis(new Float32Array(0), 0.97).length, 0);
});

Deno.test("peakNormalize() scales the peak to 1 / (1 + eps / peak)", () => {
  const y = peakNormalize(Float32Array.of(0.25, -0.5), 0);
  assert.deepEqual(y, Float32Array.of(0.5, -1));
  const z = peakNormalize(new Float32Array(3));
  assert.deepEqual(z, new Float32Array(3));
});
