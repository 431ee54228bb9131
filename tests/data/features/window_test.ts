import assert from "node:assert/strict";
import { analysisWindow } from "../../../data/features/window.ts";

Deno.test("analysisWindow() periodic Hann equals scipy get_window('hann', N) values", () => {
  const w = analysisWindow("hann", 4);
  assert.deepEqual(Array.from(w, (v) => Math.round(v * 1e12) / 1e12), [0, 0.5, 1, 0.5]);
});

Deno.test("analysisWindow() symmetric Hann equals np.hanning(N): zero at both ends, 1 in the middle", () => {
  const w = analysisWindow("hann", 5, { periodic: false });
  assert.deepEqual(Array.from(w, (v) => Math.round(v * 1e12) / 1e12), [0, 0.5, 1, 0.5, 0]);
});

Deno.test("analysisWindow() Hamming runs from 0.08 to 1 and 'none' is all ones", () => {
  const h = analysisWindow("hamming", 9, { periodic: false });
  assert.ok(Math.abs(h[0] - 0.08) < 1e-12 && Math.abs(h[4] - 1) < 1e-12);
  assert.deepEqual(analysisWindow("none", 3), Float64Array.of(1, 1, 1));
});

Deno.test("analysisWindow() rejects unknown families and bad lengths", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => analysisWindow("blackman" as any, 8), /unknown window "blackman"/);
  assert.throws(() => analysisWindow("hann", 0), /length must be a positive integer/);
});
