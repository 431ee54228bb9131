import assert from "node:assert/strict";
import { normalizeFeatures, padFrames } from "../../../data/features/normalize.ts";
import { withShape } from "../../../data/features/shaped.ts";

Deno.test("normalizeFeatures() global mode uses one mean and population std over the matrix", () => {
  const m = withShape(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3);
  normalizeFeatures(m, "global");
  const std = Math.sqrt(35 / 12);
  assert.ok(Math.abs(m[0] - (1 - 3.5) / std) < 1e-6);
  assert.ok(Math.abs(m[5] - (6 - 3.5) / std) < 1e-6);
});

Deno.test("normalizeFeatures() per_feature mode normalises each row on its own", () => {
  const m = withShape(Float32Array.of(1, 3, 10, 30), 2, 2);
  normalizeFeatures(m, "per_feature");
  assert.deepEqual(Array.from(m), [-1, 1, -1, 1]);
});

Deno.test("normalizeFeatures() leaves a constant row at zero instead of dividing by zero", () => {
  const m = withShape(Float32Array.of(5, 5, 5, 1, 2, 3), 2, 3);
  normalizeFeatures(m, "per_feature");
  assert.deepEqual(Array.from(m.subarray(0, 3)), [0, 0, 0]);
  for (const v of m) assert.ok(Number.isFinite(v));
});

Deno.test("normalizeFeatures() 'none' leaves values alone", () => {
  const m = withShape(Float32Array.of(1, 2), 1, 2);
  normalizeFeatures(m, "none");
  assert.deepEqual(Array.from(m), [1, 2]);
});

Deno.test("padFrames() appends zero columns up to a multiple and keeps rows aligned", () => {
  const m = withShape(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3);
  const p = padFrames(m, 4);
  assert.deepEqual(p.shape, [2, 4]);
  assert.deepEqual(Array.from(p), [1, 2, 3, 0, 4, 5, 6, 0]);
  assert.equal(padFrames(m, 3), m);
  assert.equal(padFrames(m, 0), m);
});
