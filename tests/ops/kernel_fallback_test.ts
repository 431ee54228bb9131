/**
 * The explicit cpu fallback (ops/kernel_fallback.ts), on two fake backends with host memory:
 * one with a synchronous read (the fallback works) and one without (as webgpu: it cannot).
 */
import assert from "node:assert/strict";
import type { Backend } from "../../ops/backend.ts";
import { registerBackend } from "../../ops/backend_registry.ts";
import { CpuBackend } from "../../ops/backends/cpu/backend.ts";
import { setBackend } from "../../ops/backends/mod.ts";
import { tensor } from "../../ops/creation.ts";
import { mul, tanh } from "../../ops/elementwise.ts";
import {
  isKernelFallbackEnabled,
  kernelFallbackCounts,
  setKernelFallback,
} from "../../ops/kernel_fallback.ts";
import { sum } from "../../ops/reduce_sum.ts";
import { batchNorm } from "../../ops/batch_norm.ts";

const SYNC = "testFallbackSync", ASYNC = "testFallbackAsync";
registerBackend(SYNC, (): Backend => Object.assign(new CpuBackend(), { name: SYNC }));
registerBackend(ASYNC, (): Backend => Object.assign(new CpuBackend(), { name: ASYNC, readSync: undefined }));

function capturingStderr<T>(fn: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const old = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return { result: fn(), lines };
  } finally {
    console.error = old;
  }
}

Deno.test("by default an op the backend lacks is an error naming the op and the backend", () => {
  assert.equal(isKernelFallbackEnabled(SYNC), false);
  const x = tensor([1, 2], [2], { backend: SYNC });
  assert.throws(
    () => mul(x, 2),
    /^Error: Op "map" has no kernel on backend "testFallbackSync" \(setKernelFallback\("testFallbackSync", true\) would run it on the cpu\)/,
  );
  // Where the fallback cannot work, the error does not suggest it.
  const y = tensor([1, 2], [2], { backend: ASYNC });
  assert.throws(
    () => mul(y, 2),
    /Op "map" has no kernel on backend "testFallbackAsync" \(the cpu fallback is impossible there/,
  );
});

Deno.test("with the fallback on, a backend with readSync runs missing ops on the cpu, forward and backward, and says so once per op", async () => {
  setKernelFallback(SYNC, true);
  try {
    const x = tensor([0.5, -1, 2], [3], { backend: SYNC, requiresGrad: true });
    const before = kernelFallbackCounts().get(`${SYNC}:map`) ?? 0;
    const { result: loss, lines } = capturingStderr(() => {
      const l = sum(mul(tanh(x), 3));
      l.backward();
      return l;
    });
    assert.equal(loss.backend.name, SYNC, "results come back to the op's backend");
    assert.ok(Math.abs(await loss.item() - 3 * (Math.tanh(0.5) + Math.tanh(-1) + Math.tanh(2))) < 1e-6);
    const g = await x.grad!.data();
    [0.5, -1, 2].forEach((v, i) =>
      assert.ok(Math.abs(g[i] - 3 * (1 - Math.tanh(v) ** 2)) < 1e-6, `grad ${i}`)
    );
    assert.equal(x.grad!.backend.name, SYNC);
    // map ran several times (tanh, mul, their gradients), reported once; sum reported once too.
    assert.ok((kernelFallbackCounts().get(`${SYNC}:map`) ?? 0) - before >= 4);
    assert.equal(lines.filter((l) => l.includes(`op "map"`)).length, 1, lines.join("\n"));
    assert.equal(lines.filter((l) => l.includes(`op "sum"`)).length, 1, lines.join("\n"));
    assert.match(lines[0], /has no kernel on backend "testFallbackSync"; it runs on the cpu/);
  } finally {
    setKernelFallback(SYNC, false);
  }
});

Deno.test("a kernel that updates an input in place (batchNorm's running statistics) updates it through the fallback too", async () => {
  const x = [0.5, -1, 2, 3, 1, -2, 0, 4];
  const run = (backend: string) => {
    const mean = tensor([0, 0], [2], { backend }), variance = tensor([1, 1], [2], { backend });
    const y = batchNorm(tensor(x, [2, 2, 2], { backend }), mean, variance, null, null, { training: true });
    return { y, mean, variance };
  };
  const want = run("cpu");
  setKernelFallback(SYNC, true);
  try {
    const got = capturingStderr(() => run(SYNC)).result;
    assert.deepEqual(await got.mean.data(), await want.mean.data());
    assert.deepEqual(await got.variance.data(), await want.variance.data());
    assert.deepEqual(await got.y.data(), await want.y.data());
    assert.notDeepEqual([...await want.mean.data()], [0, 0], "the statistics did move");
  } finally {
    setKernelFallback(SYNC, false);
  }
});

Deno.test("the fallback on a backend without a synchronous read (as webgpu) is an error saying why it is impossible", () => {
  setKernelFallback(ASYNC, true);
  try {
    const x = tensor([1, 2], [2], { backend: ASYNC });
    assert.throws(
      () => mul(x, 2),
      /Op "map" has no kernel on backend "testFallbackAsync", and the cpu fallback is impossible there: .*no synchronous read/,
    );
  } finally {
    setKernelFallback(ASYNC, false);
  }
});

Deno.test("the cpu takes no fallback of its own, not even through setBackend's fallback option", async () => {
  assert.throws(() => setKernelFallback("cpu", true), /the cpu is the fallback/);
  // setBackend("cpu", { fallback }) leaves the cpu alone: it is the reference backend.
  await setBackend("cpu", { fallback: true, quiet: true });
  assert.equal(isKernelFallbackEnabled("cpu"), false);
});
