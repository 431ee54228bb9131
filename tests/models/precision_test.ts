/**
 * resolvePrecision (models/precision.ts): f32 stays f32; fp16 is kept where the backend holds
 * float16 and falls back to f32 with one stderr line naming the reason where it does not.
 */
import assert from "node:assert/strict";
import { resolvePrecision } from "../../models/precision.ts";
import type { Backend } from "../../ops/backend.ts";
import { getBackend } from "../../ops/mod.ts";
import "../../ops/backends/webgpu/mod.ts";

/** A backend stand-in with only what resolvePrecision reads. */
function fakeBackend(name: string, hasFloat16: boolean | undefined): Backend {
  return { ...getBackend("cpu"), name, hasFloat16, description: `${name} device` } as Backend;
}

function stderrOf(fn: () => unknown): { result: unknown; lines: string[] } {
  const old = console.error;
  const lines: string[] = [];
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { result: fn(), lines };
  } finally {
    console.error = old;
  }
}

Deno.test("fp16 on a webgpu device without shader-f16 says so on stderr and trains in f32", () => {
  const { result, lines } = stderrOf(() => resolvePrecision("fp16", fakeBackend("webgpu", false)));
  assert.equal(result, "f32");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /lacks the "shader-f16" feature \(webgpu device\): training in f32/);
});

Deno.test("fp16 is kept on a device with float16 and on the cpu (an emulation, said once)", () => {
  assert.equal(stderrOf(() => resolvePrecision("fp16", fakeBackend("webgpu", true))).result, "fp16");
  const cpu = stderrOf(() => resolvePrecision("fp16", getBackend("cpu")));
  assert.equal(cpu.result, "fp16");
  assert.match(cpu.lines.join(), /emulation/);
});

Deno.test("fp16 on a backend without float16 support or a cast kernel trains in f32; f32 is silent", () => {
  const r = stderrOf(() => resolvePrecision("fp16", fakeBackend("cuda", undefined)));
  assert.equal(r.result, "f32");
  assert.match(r.lines[0], /the cuda backend has no float16 support/);
  const f32 = stderrOf(() => resolvePrecision("f32", getBackend("cpu")));
  assert.deepEqual([f32.result, f32.lines], ["f32", []]);
  assert.throws(
    () => resolvePrecision("bf16" as "f32", getBackend("cpu")),
    /training.precision must be one of f32, fp16/,
  );
});
