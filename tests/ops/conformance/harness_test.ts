import assert from "node:assert/strict";
import "../../../ops/backends/cpu/mod.ts";
import type { Backend } from "../../../ops/backend.ts";
import { registerBackend } from "../../../ops/backend_registry.ts";
import { setKernelFallback } from "../../../ops/kernel_fallback.ts";
import { defineOp, registerKernel } from "../../../ops/op_registry.ts";
import { runOp } from "../../../ops/tape.ts";
import { mul } from "../../../ops/elementwise.ts";
import { CpuBackend, cpuData, cpuOutput } from "../../../ops/backends/cpu/backend.ts";
import type { OpCase } from "./case.ts";
import { assertClose, CoverageReport, runCase, type Target } from "./harness.ts";
import { centralDifferences, gradWeights, sampleIndices } from "./finite_diff.ts";
import { floatInput, refElementwise } from "./reference.ts";

const cpu64: Target = { backend: "cpu", dtype: "float64" };
const cpu32: Target = { backend: "cpu", dtype: "float32" };

// Test-only ops with deliberate faults, to prove the harness notices them.
const doubleWrongGradOp = defineOp<Record<string, never>>({
  name: "testDoubleWrongGrad",
  outputs: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
  backward: ({ grads }) => [mul(grads[0]!, 3)], // the true derivative is 2
});
registerKernel("testDoubleWrongGrad", "cpu", ({ inputs: [x], outputs, backend }) => {
  const src = cpuData(x);
  const out = cpuOutput(backend, outputs[0].dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = 2 * src[i];
  return [out];
});

const leakyOp = defineOp<Record<string, never>>({
  name: "testLeaky",
  outputs: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
});
registerKernel("testLeaky", "cpu", ({ inputs: [x], outputs, backend }) => {
  cpuOutput(backend, "float32", 16); // allocated and never returned: a leak
  const out = cpuOutput(backend, outputs[0].dtype, x.size);
  out.set(cpuData(x));
  return [out];
});

const noKernelOp = defineOp<Record<string, never>>({
  name: "testNoKernel",
  outputs: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
});

const doubling = (x: number): number => 2 * x;

Deno.test("runCase passes a correct case and lists what it checked", async () => {
  const c: OpCase = {
    name: "mul by two doubles",
    inputs: () => [floatInput([3], 1, { grad: true })],
    run: ([x]) => mul(x, 2),
    expected: (inputs) => refElementwise(inputs, doubling),
  };
  const r64 = await runCase(c, cpu64);
  assert.equal(r64.status, "passed");
  assert.deepEqual(r64.checks, ["forward", "grad vs finite differences", "no leak"]);
  const r32 = await runCase(c, cpu32);
  assert.deepEqual(r32.checks, ["forward", "grad vs cpu float64", "no leak"]);
});

Deno.test("runCase rejects a forward result outside the tolerance and names the element", async () => {
  const c: OpCase = {
    name: "a case with a wrong expectation",
    inputs: () => [floatInput([4], 2)],
    run: ([x]) => mul(x, 2),
    expected: (inputs) => {
      const e = refElementwise(inputs, doubling);
      e[3] += 1e-3;
      return e;
    },
  };
  await assert.rejects(runCase(c, cpu64), /output 0: element 3 is .* \(relative error/);
});

Deno.test("runCase rejects a backward that disagrees with finite differences", async () => {
  const c: OpCase = {
    name: "a wrong gradient",
    inputs: () => [floatInput([3], 3, { grad: true })],
    run: ([x]) => runOp(doubleWrongGradOp, [x], {})[0],
    expected: (inputs) => refElementwise(inputs, doubling),
  };
  await assert.rejects(runCase(c, cpu64), /gradient vs finite differences, input 0 \(elements all\)/);
  // With gradCheck off only the forward is checked.
  assert.equal((await runCase({ ...c, gradCheck: false }, cpu64)).status, "passed");
});

Deno.test("runCase rejects a case whose buffers outlive its scope", async () => {
  const c: OpCase = {
    name: "a leaky kernel",
    inputs: () => [floatInput([3], 4)],
    run: ([x]) => runOp(leakyOp, [x], {})[0],
    expected: ([x]) => Float64Array.from(x.data),
  };
  await assert.rejects(runCase(c, cpu32), /64 bytes still in use/);
});

Deno.test("runCase reports an op without a kernel as not covered, never as passed", async () => {
  const c: OpCase = {
    name: "an op without a cpu kernel",
    inputs: () => [floatInput([3], 5)],
    run: ([x]) => runOp(noKernelOp, [x], {})[0],
    expected: ([x]) => Float64Array.from(x.data),
  };
  const r = await runCase(c, cpu32);
  assert.equal(r.status, "not-covered");
  assert.equal(r.missingOp, "testNoKernel");
  const report = new CoverageReport();
  report.record(cpu32, c.name, r);
  assert.equal(report.notCovered(cpu32), 1);
  assert.match(String(report), /NOT COVERED, missing kernel: testNoKernel \(1 cases\)/);
});

// A backend with host memory and a synchronous read, like the cpu, but with one kernel only
// (testFakeCopy): every other op it meets can run only through the cpu fallback.
const FAKE = "testSyncFake";
const fakeTarget: Target = { backend: FAKE, dtype: "float32" };
registerBackend(FAKE, (): Backend => Object.assign(new CpuBackend(), { name: FAKE }));
const fakeCopyOp = defineOp<Record<string, never>>({
  name: "testFakeCopy",
  outputs: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
});
for (const name of ["cpu", FAKE]) {
  registerKernel("testFakeCopy", name, ({ inputs: [x], outputs, backend }) => {
    const out = cpuOutput(backend, outputs[0].dtype, x.size);
    out.set(cpuData(x));
    return [out];
  });
}

Deno.test("runCase counts a case that needed the cpu fallback as not covered, though its results are right", async () => {
  const c: OpCase = {
    name: "mul by two on a backend without map",
    inputs: () => [floatInput([3], 8, { grad: true })],
    run: ([x]) => mul(x, 2),
    expected: (inputs) => refElementwise(inputs, doubling),
  };
  // Without the fallback the missing kernel is reported as such.
  const plain = await runCase(c, fakeTarget);
  assert.deepEqual([plain.status, plain.missingOp], ["not-covered", "map"]);
  setKernelFallback(FAKE, true);
  try {
    const r = await runCase(c, fakeTarget);
    assert.equal(r.status, "not-covered");
    assert.equal(r.missingOp, "map");
    // Every check ran and held: the fallback computed the right values, and still it is no pass.
    assert.deepEqual(r.checks, ["forward", "grad vs cpu float32", "no leak"]);
    const report = new CoverageReport();
    report.record(fakeTarget, c.name, r);
    assert.equal(report.notCovered(fakeTarget), 1);
    assert.match(String(report), /0 cases passed/);
    // An op with the backend's own kernel still passes with the fallback on.
    const own: OpCase = {
      name: "an op the fake backend implements",
      inputs: () => [floatInput([3], 9)],
      run: ([x]) => runOp(fakeCopyOp, [x], {})[0],
      expected: ([x]) => Float64Array.from(x.data),
    };
    assert.equal((await runCase(own, fakeTarget)).status, "passed");
  } finally {
    setKernelFallback(FAKE, false);
  }
});

Deno.test("runCase checks fixture gradients given per grad input", async () => {
  const base: OpCase = {
    name: "fixture gradients of a product",
    inputs: () => [floatInput([2], 6, { grad: true }), floatInput([2], 7)],
    run: ([x, y]) => mul(x, y),
    expected: (inputs) => refElementwise(inputs, (x, y) => x * y),
  };
  // d/dx sum(x * y * w) = y * w.
  const right = (inputs: ReturnType<OpCase["inputs"]>) => {
    const w = gradWeights(0, 2);
    return [Float64Array.from(inputs[1].data, (v, i) => v * w[i])];
  };
  const ok = await runCase({ ...base, expectedGrads: right }, cpu64);
  assert.ok(ok.checks.includes("grad vs fixture"));
  const wrong = (inputs: ReturnType<OpCase["inputs"]>) => right(inputs).map((g) => g.map((v) => v + 0.1));
  await assert.rejects(runCase({ ...base, expectedGrads: wrong }, cpu64), /gradient vs fixture/);
});

Deno.test("runCase with finiteDifferences off checks gradients against the fixture on every cpu dtype", async () => {
  // testDoubleWrongGrad's backward is 3·w by design: a fixture that says so passes without
  // finite differences, and one with the true derivative 2·w is rejected on float64 and float32.
  const base: OpCase = {
    name: "a gradient that is not the derivative",
    inputs: () => [floatInput([3], 8, { grad: true })],
    run: ([x]) => runOp(doubleWrongGradOp, [x], {})[0],
    expected: (inputs) => refElementwise(inputs, doubling),
    finiteDifferences: false,
  };
  const times = (k: number) => () => [gradWeights(0, 3).map((w) => k * w)];
  const ok = await runCase({ ...base, expectedGrads: times(3) }, cpu64);
  assert.deepEqual(ok.checks, ["forward", "grad vs fixture", "no leak"]);
  assert.ok((await runCase({ ...base, expectedGrads: times(3) }, cpu32)).checks.includes("grad vs fixture"));
  await assert.rejects(runCase({ ...base, expectedGrads: times(2) }, cpu64), /gradient vs fixture/);
  await assert.rejects(runCase({ ...base, expectedGrads: times(2) }, cpu32), /gradient vs fixture/);
  await assert.rejects(runCase(base, cpu64), /finiteDifferences is false but no expectedGrads/);
});

Deno.test("assertClose treats matching infinities and NaNs as equal and a finite value as not", () => {
  assertClose([Infinity, -Infinity, NaN, 1], [Infinity, -Infinity, NaN, 1], 1e-9, "specials");
  assert.throws(() => assertClose([1], [Infinity], 1e-9, "inf"), /element 0 is 1 but expected Infinity/);
  assert.throws(() => assertClose([NaN], [1], 1e-9, "nan"), /element 0 is NaN/);
  assert.throws(() => assertClose([1, 2], [1], 1e-9, "len"), /2 elements but expected 1/);
});

Deno.test("sampleIndices keeps small inputs whole and spreads samples over large ones", () => {
  assert.deepEqual(sampleIndices(4, 8), [0, 1, 2, 3]);
  const s = sampleIndices(1000, 5);
  assert.deepEqual(s, [0, 250, 500, 749, 999]);
});

Deno.test("centralDifferences at chosen indices returns them in order", async () => {
  const g = await centralDifferences(
    (x) => Promise.resolve(x[0] * 3 + x[2] * x[2]),
    Float64Array.from([1, 1, 4]),
    {
      indices: [2, 0],
    },
  );
  assert.ok(Math.abs(g[0] - 8) < 1e-6 && Math.abs(g[1] - 3) < 1e-6, `got ${g}`);
});

Deno.test("centralDifferences recovers the gradient of a cubic", async () => {
  const g = await centralDifferences((x) => Promise.resolve(x[0] ** 3 + 2 * x[1]), Float64Array.from([2, 5]));
  assert.ok(Math.abs(g[0] - 12) < 1e-6 && Math.abs(g[1] - 2) < 1e-6, `got ${g}`);
});

Deno.test("gradWeights follow the documented formula that fixture scripts reproduce", () => {
  const w = gradWeights(2, 3);
  for (let i = 0; i < 3; i++) assert.equal(w[i], Math.sin(1 + 0.7 * i + 1.3 * 2));
});
