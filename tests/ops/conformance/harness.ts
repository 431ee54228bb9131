/**
 * Runs one conformance case (case.ts) on one backend and dtype:
 * - forward: outputs against the case's expected values, within the case's tolerance;
 * - backward (cases with `grad` inputs, unless `gradCheck: false`): gradients of
 *   L = Σ_k sum(out_k · w_k) (w_k from finite_diff.ts). On cpu float64 they are checked
 *   against central finite differences (at most 256 evenly spread elements per input, so
 *   large cases stay cheap; skipped for cases with `finiteDifferences: false`); on cpu
 *   float32 against the cpu float64 gradients; on other backends against the cpu float32
 *   gradients; and on every target against the fixture's gradients when the case has them;
 * - memory: every buffer the case allocated is released once its scope closes and its
 *   leaves' gradients are dropped (the tape keeps nothing after backward).
 * A backend without a kernel for an op the case uses is "not covered": recorded with the
 * missing op for the coverage report and never counted as passed. So is a case that only ran
 * because the explicit cpu fallback (ops/kernel_fallback.ts) stood in for a missing kernel.
 *
 * Not here: choosing backends (tests/ops/conformance_test.ts) or the cases themselves.
 */
import { getBackend } from "../../../ops/backend_registry.ts";
import { kernelFallbackCounts } from "../../../ops/kernel_fallback.ts";
import { hasKernel, kernelNames } from "../../../ops/op_registry.ts";
import { noGrad, releaseGrad } from "../../../ops/tape.ts";
import { TensorScope } from "../../../ops/scopes.ts";
import { tensor } from "../../../ops/creation.ts";
import { add, mul } from "../../../ops/elementwise.ts";
import { sum } from "../../../ops/reduce_sum.ts";
import type { Tensor } from "../../../ops/tensor.ts";
import { type CaseInput, defaultTolerance, type OpCase } from "./case.ts";
import {
  centralDifferences,
  finiteDiffEps,
  gradWeights,
  sampleIndices,
  weightedLoss,
  weightedLossScale,
} from "./finite_diff.ts";

/** A backend and the float dtype its float inputs are cast to. */
export interface Target {
  backend: string;
  dtype: "float32" | "float64";
}

/** Outcome of a case on a target that did not fail. */
export interface CaseOutcome {
  status: "passed" | "not-covered";
  /** The op without a kernel on the target, when not covered. */
  missingOp?: string;
  /** What was checked, for the log: "forward", "grad vs finite differences", ... */
  checks: string[];
}

/** Tolerance of `c` on `target`; GPU backends all use the `webgpu` entry. */
export function toleranceFor(c: OpCase, target: Target): number {
  if (target.dtype === "float64") return c.tolerance?.float64 ?? defaultTolerance.float64;
  if (target.backend === "cpu") return c.tolerance?.float32 ?? defaultTolerance.float32;
  return c.tolerance?.webgpu ?? Math.max(defaultTolerance.webgpu, c.tolerance?.float32 ?? 0);
}

/** Whether the harness checks gradients for `c`. */
export function wantsGrad(c: OpCase, inputs: readonly CaseInput[]): boolean {
  const any = inputs.some((i) => i.grad);
  if (c.gradCheck && !any) throw new Error(`case "${c.name}": gradCheck is set but no input has grad`);
  if (c.finiteDifferences === false && !c.expectedGrads) {
    throw new Error(`case "${c.name}": finiteDifferences is false but no expectedGrads check the gradient`);
  }
  return c.gradCheck ?? any;
}

/**
 * Throws when `got` and `expected` differ by more than `tol` · max(1, |expected|) anywhere
 * (NaN must match NaN, infinities must match exactly).
 */
export function assertClose(
  got: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  if (got.length !== expected.length) {
    throw new Error(`${what}: ${got.length} elements but expected ${expected.length}`);
  }
  let worst = -1, worstErr = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (Object.is(g, e) || (Number.isNaN(g) && Number.isNaN(e)) || g === e) continue;
      throw new Error(`${what}: element ${i} is ${g} but expected ${e}`);
    }
    const err = Math.abs(g - e) / Math.max(1, Math.abs(e));
    if (!(err <= tol) && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = Number.isNaN(err) ? Infinity : err;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${got[worst]} but expected ${expected[worst]} ` +
        `(relative error ${worstErr.toExponential(2)} > tolerance ${tol})`,
    );
  }
}

const missingKernel = /Op "([^"]+)" has no kernel on backend "([^"]+)"/;

/** Ops of `backend` whose cpu-fallback count grew since `before` (kernelFallbackCounts()). */
function fallbackOpsSince(before: Map<string, number>, backend: string): string[] {
  const prefix = `${backend}:`;
  return [...kernelFallbackCounts()]
    .filter(([k, n]) => k.startsWith(prefix) && n > (before.get(k) ?? 0))
    .map(([k]) => k.slice(prefix.length));
}

/** Makes tensors for `inputs` on `target`; `grad` inputs become leaves when `withGrad`. */
function makeTensors(inputs: readonly CaseInput[], target: Target, withGrad: boolean): Tensor[] {
  return inputs.map((inp) =>
    inp.dtype === "int32"
      ? tensor(inp.data, inp.shape, { dtype: "int32", backend: target.backend })
      : tensor(inp.data, inp.shape, {
        dtype: target.dtype,
        backend: target.backend,
        requiresGrad: withGrad && (inp.grad ?? false),
      })
  );
}

function asList<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}

async function readAll(ts: readonly Tensor[]): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const t of ts) out.push(Float64Array.from(await t.data()));
  return out;
}

/** Gradients of the weighted loss w.r.t. each grad input (null for the others) on `target`. */
async function analyticGrads(
  c: OpCase,
  inputs: readonly CaseInput[],
  target: Target,
): Promise<(Float64Array | null)[]> {
  using _scope = new TensorScope();
  const xs = makeTensors(inputs, target, true);
  const outs = asList(c.run(xs));
  const grads = await backwardOfWeightedLoss(c, xs, outs, target);
  return grads;
}

async function backwardOfWeightedLoss(
  c: OpCase,
  xs: readonly Tensor[],
  outs: readonly Tensor[],
  target: Target,
): Promise<(Float64Array | null)[]> {
  let loss: Tensor | null = null;
  outs.forEach((o, k) => {
    if (!o.requiresGrad || o.dtype === "int32") return;
    const w = tensor(gradWeights(k, o.size), o.shape, { dtype: o.dtype, backend: target.backend });
    const term = sum(mul(o, w));
    loss = loss ? add(loss, term) : term;
  });
  if (!loss) throw new Error(`case "${c.name}": no output depends on an input marked grad`);
  (loss as Tensor).backward();
  const result: (Float64Array | null)[] = [];
  for (const x of xs) {
    if (!x.requiresGrad) {
      result.push(null);
      continue;
    }
    result.push(x.grad ? Float64Array.from(await x.grad.data()) : new Float64Array(x.size));
    releaseGrad(x);
  }
  return result;
}

/**
 * Gradients by central differences on cpu float64 at sampled positions (finite_diff.ts's
 * `sampleIndices`), and their rounding error bound: the loss is a sum of terms up to
 * Σ|out·w| in size, each evaluation of it is off by a few ulps of that, and the difference
 * quotient divides this by 2·eps.
 */
async function finiteDiffGrads(
  c: OpCase,
  inputs: readonly CaseInput[],
): Promise<{ grads: ({ indices: number[]; values: Float64Array } | null)[]; roundoff: number }> {
  const target: Target = { backend: "cpu", dtype: "float64" };
  const result: ({ indices: number[]; values: Float64Array } | null)[] = [];
  let scale = 0;
  for (let j = 0; j < inputs.length; j++) {
    if (!inputs[j].grad) {
      result.push(null);
      continue;
    }
    const f = async (xj: Float64Array): Promise<number> => {
      using _scope = new TensorScope();
      const perturbed = inputs.map((inp, i) => (i === j ? { ...inp, data: xj } : inp));
      const outs = noGrad(() => asList(c.run(makeTensors(perturbed, target, false))));
      const values = (await readAll(outs)).map((o, k) => (outs[k].dtype === "int32" ? null : o));
      scale = Math.max(scale, weightedLossScale(values));
      return weightedLoss(values);
    };
    const indices = sampleIndices(inputs[j].data.length);
    const values = await centralDifferences(f, Float64Array.from(inputs[j].data), { indices });
    result.push({ indices, values });
  }
  return { grads: result, roundoff: (8 * Number.EPSILON * scale) / (2 * finiteDiffEps) };
}

/** Maps a fixture's expectedGrads (per input, or per grad input) onto input positions. */
function gradsByInput(list: (Float64Array | null)[], inputs: readonly CaseInput[]): (Float64Array | null)[] {
  if (list.length === inputs.length) return list;
  const gradPositions = inputs.flatMap((inp, i) => (inp.grad ? [i] : []));
  if (list.length !== gradPositions.length) {
    throw new Error(`expectedGrads has ${list.length} entries for ${inputs.length} inputs`);
  }
  const out = new Array<Float64Array | null>(inputs.length).fill(null);
  gradPositions.forEach((p, i) => (out[p] = list[i]));
  return out;
}

function compareGrads(
  got: readonly (Float64Array | null)[],
  want: readonly (Float64Array | null)[],
  tol: number,
  what: string,
): void {
  for (let i = 0; i < got.length; i++) {
    if (got[i] && want[i]) assertClose(got[i]!, want[i]!, tol, `${what}, input ${i}`);
  }
}

/**
 * Runs case `c` on `target`; throws an Error naming the case, target and element on any
 * mismatch or leak. Returns "not-covered" (with the op) when the backend lacks a kernel.
 */
export async function runCase(c: OpCase, target: Target): Promise<CaseOutcome> {
  const label = `${target.backend} ${target.dtype}`;
  const backend = getBackend(target.backend);
  const before = backend.bytesInUse();
  const checks: string[] = [];
  const inputs = c.inputs();
  const grad = wantsGrad(c, inputs);
  const tol = toleranceFor(c, target);
  const fallbacksBefore = kernelFallbackCounts();
  try {
    {
      using _scope = new TensorScope();
      const xs = makeTensors(inputs, target, grad);
      const outs = asList(c.run(xs));
      const expected = asList(c.expected(inputs));
      if (outs.length !== expected.length) {
        throw new Error(`${c.name} [${label}]: ${outs.length} outputs but ${expected.length} expected`);
      }
      const got = await readAll(outs);
      got.forEach((g, k) => assertClose(g, expected[k], tol, `${c.name} [${label}] output ${k}`));
      checks.push("forward");
      if (grad) {
        const analytic = await backwardOfWeightedLoss(c, xs, outs, target);
        if (target.backend === "cpu" && target.dtype === "float64" && c.finiteDifferences !== false) {
          const fd = await finiteDiffGrads(c, inputs);
          fd.grads.forEach((s, i) => {
            if (!s || !analytic[i]) return;
            assertClose(
              s.indices.map((k) => analytic[i]![k]),
              s.values,
              Math.max(1e-6, tol) + fd.roundoff,
              `${c.name} [${label}] gradient vs finite differences, input ${i} (elements ${
                s.indices.length < analytic[i]!.length ? "sampled" : "all"
              })`,
            );
          });
          checks.push("grad vs finite differences");
        } else if (target.backend !== "cpu" || target.dtype !== "float64") {
          const ref: Target = target.backend === "cpu"
            ? { backend: "cpu", dtype: "float64" }
            : { backend: "cpu", dtype: "float32" };
          const want = await analyticGrads(c, inputs, ref);
          compareGrads(analytic, want, tol, `${c.name} [${label}] gradient vs cpu ${ref.dtype}`);
          checks.push(`grad vs cpu ${ref.dtype}`);
        }
        if (c.expectedGrads) {
          compareGrads(
            analytic,
            gradsByInput(c.expectedGrads(inputs), inputs),
            Math.max(1e-6, tol),
            `${c.name} [${label}] gradient vs fixture`,
          );
          checks.push("grad vs fixture");
        }
      }
    }
    const after = backend.bytesInUse();
    if (after !== before) {
      throw new Error(
        `${c.name} [${label}]: ${after - before} bytes still in use after the case's scope closed`,
      );
    }
    checks.push("no leak");
    // Results computed by the cpu fallback say nothing about the backend's kernels.
    const fellBack = fallbackOpsSince(fallbacksBefore, target.backend);
    if (fellBack.length > 0) return { status: "not-covered", missingOp: fellBack[0], checks };
    return { status: "passed", checks };
  } catch (e) {
    const m = e instanceof Error ? missingKernel.exec(e.message) : null;
    if (m && m[2] === target.backend) return { status: "not-covered", missingOp: m[1], checks };
    throw e;
  }
}

/** Per-target record of case outcomes, for the coverage report. */
export class CoverageReport {
  #rows = new Map<string, { passed: number; missing: Map<string, string[]> }>();

  /** Records the outcome of case `name` on `target`. */
  record(target: Target, name: string, outcome: CaseOutcome): void {
    const key = `${target.backend} ${target.dtype}`;
    let row = this.#rows.get(key);
    if (!row) this.#rows.set(key, row = { passed: 0, missing: new Map() });
    if (outcome.status === "passed") row.passed++;
    else {
      const op = outcome.missingOp ?? "?";
      row.missing.set(op, [...(row.missing.get(op) ?? []), name]);
    }
  }

  /** Number of not-covered cases on `target`. */
  notCovered(target: Target): number {
    const row = this.#rows.get(`${target.backend} ${target.dtype}`);
    return row ? [...row.missing.values()].reduce((n, l) => n + l.length, 0) : 0;
  }

  /** A readable table: ops with kernels on each backend, cpu ops lacking one, cases not covered. */
  toString(): string {
    const lines: string[] = [];
    const cpuOps = kernelNames("cpu");
    for (const [key, row] of this.#rows) {
      const backend = key.split(" ")[0];
      const ops = kernelNames(backend);
      const lacking = cpuOps.filter((op) => !hasKernel(op, backend));
      const notCovered = [...row.missing].map(([op, names]) => `${op} (${names.length} cases)`);
      lines.push(
        `${key}: ${row.passed} cases passed; kernels for ${ops.length} ops: ${ops.join(", ")}` +
          (lacking.length ? `\n  cpu ops without a ${backend} kernel: ${lacking.join(", ")}` : "") +
          (notCovered.length ? `\n  cases NOT COVERED, missing kernel: ${notCovered.join(", ")}` : ""),
      );
    }
    return lines.join("\n");
  }
}
