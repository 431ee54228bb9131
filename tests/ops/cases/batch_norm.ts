/**
 * Conformance cases of batchNorm (ops/batch_norm.ts), run on every backend:
 * - against a float64 reference written from the definition (mean and biased variance over N
 *   and the spatial axes, or over the valid frames only when lengths are given), with
 *   finite-difference gradient checks of x, weight and bias, and the in-place running-statistics
 *   update read back after the call; padding that holds large values, more valid positions per
 *   channel than a workgroup has invocations, and values far from zero (mean 1000, where a
 *   one-pass variance would cancel away);
 * - every case of the PyTorch fixture (tests/fixtures/ops/make_batch_norm.py): y and the
 *   running statistics after the call, and, in a second case, the gradients of Σ y·r for the
 *   fixture's r w.r.t. x, weight and bias.
 *
 * Not here: storage identity of the running tensors and argument errors (tests/ops/batch_norm_test.ts).
 */
import { batchNorm } from "../../../ops/batch_norm.ts";
import { mul } from "../../../ops/elementwise.ts";
import { sum } from "../../../ops/reduce_sum.ts";
import type { Tensor } from "../../../ops/tensor.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { gradWeights } from "../conformance/finite_diff.ts";
import { floatInput, floatValues, intInput } from "../conformance/reference.ts";

interface RefOptions {
  training: boolean;
  momentum: number;
  eps: number;
  lengths?: number[];
}

/** y, and the running statistics after the call. */
function refBatchNorm(
  x: CaseInput,
  rm: CaseInput | null,
  rv: CaseInput | null,
  w: CaseInput | null,
  b: CaseInput | null,
  o: RefOptions,
): { y: Float64Array; rm: Float64Array | null; rv: Float64Array | null } {
  const [n, c] = x.shape;
  const s = x.data.length / (n * c);
  const t = x.shape[2] ?? 1;
  const inner = s / t;
  const isValid = (ni: number, p: number): boolean =>
    !o.lengths || Math.floor(p / inner) < Math.min(o.lengths[ni], t);
  const y = new Float64Array(x.data.length);
  const rmOut = rm ? Float64Array.from(rm.data) : null;
  const rvOut = rv ? Float64Array.from(rv.data) : null;
  for (let ch = 0; ch < c; ch++) {
    let mean = 0, variance = 0;
    if (o.training) {
      const vals: number[] = [];
      for (let ni = 0; ni < n; ni++) {
        for (let p = 0; p < s; p++) if (isValid(ni, p)) vals.push(x.data[(ni * c + ch) * s + p]);
      }
      mean = vals.reduce((p, q) => p + q, 0) / vals.length;
      const ss = vals.reduce((p, q) => p + (q - mean) ** 2, 0);
      variance = ss / vals.length;
      if (rmOut && rvOut) {
        rmOut[ch] = (1 - o.momentum) * rmOut[ch] + o.momentum * mean;
        rvOut[ch] = (1 - o.momentum) * rvOut[ch] + o.momentum * ss / (vals.length - 1);
      }
    } else {
      mean = rm!.data[ch];
      variance = rv!.data[ch];
    }
    for (let ni = 0; ni < n; ni++) {
      for (let p = 0; p < s; p++) {
        const i = (ni * c + ch) * s + p;
        const xhat = (x.data[i] - mean) / Math.sqrt(variance + o.eps);
        y[i] = xhat * (w ? w.data[ch] : 1) + (b ? b.data[ch] : 0);
      }
    }
  }
  return { y, rm: rmOut, rv: rvOut };
}

function positive(shape: number[], seed: number): CaseInput {
  return floatInput(shape, seed, { low: 0.5, high: 1.5 });
}

// ---- the PyTorch fixture ---------------------------------------------------------------------

interface FixtureArray {
  shape: number[];
  data: number[];
}

/** One case of tests/fixtures/ops/batch_norm.json. */
interface BatchNormFixtureCase {
  name: string;
  options: { training: boolean; momentum: number; eps: number };
  lengths: number[] | null;
  x: FixtureArray;
  weight: FixtureArray | null;
  bias: FixtureArray | null;
  runningMean: FixtureArray | null;
  runningVar: FixtureArray | null;
  runningMeanAfter: number[] | null;
  runningVarAfter: number[] | null;
  y: FixtureArray;
  /** Weights of the fixture's loss Σ y·r. */
  r: number[];
  dx: number[];
  dweight: number[] | null;
  dbias: number[] | null;
}

function fixtureCases(): BatchNormFixtureCase[] {
  const text = Deno.readTextFileSync(new URL("../../fixtures/ops/batch_norm.json", import.meta.url));
  return (JSON.parse(text) as { cases: BatchNormFixtureCase[] }).cases;
}

/** Inputs x, weight?, bias?, runningMean?, runningVar?, r? (the loss weights), lengths?. */
function fixtureInputs(fc: BatchNormFixtureCase, withGrad: boolean): CaseInput[] {
  const list: CaseInput[] = [];
  const add = (a: FixtureArray | null, grad: boolean) => {
    if (a) list.push(floatValues(a.data, a.shape, { grad }));
  };
  add(fc.x, withGrad);
  add(fc.weight, withGrad);
  add(fc.bias, withGrad);
  add(fc.runningMean, false);
  add(fc.runningVar, false);
  if (withGrad) add({ shape: fc.y.shape, data: fc.r }, false);
  if (fc.lengths) list.push(intInput(fc.lengths, [fc.lengths.length]));
  return list;
}

/** Runs the fixture's call on tensors in `fixtureInputs` order; returns y and the running tensors. */
function runFixture(
  fc: BatchNormFixtureCase,
  ts: Tensor[],
  withGrad: boolean,
): { y: Tensor; rm: Tensor | null; rv: Tensor | null; r: Tensor | null } {
  let k = 0;
  const x = ts[k++];
  const w = fc.weight ? ts[k++] : null;
  const b = fc.bias ? ts[k++] : null;
  const rm = fc.runningMean ? ts[k++] : null;
  const rv = fc.runningVar ? ts[k++] : null;
  const r = withGrad ? ts[k++] : null;
  const lengths = fc.lengths ? ts[k++] : undefined;
  return { y: batchNorm(x, rm, rv, w, b, { ...fc.options, lengths }), rm, rv, r };
}

function fixtureValuesCase(fc: BatchNormFixtureCase): OpCase {
  return {
    name: `batchNorm matches PyTorch's output and running statistics for ${fc.name}`,
    inputs: () => fixtureInputs(fc, false),
    run: (ts) => {
      const { y, rm, rv } = runFixture(fc, ts, false);
      return rm && rv ? [y, rm, rv] : [y];
    },
    expected: () =>
      [fc.y.data, fc.runningMeanAfter, fc.runningVarAfter].flatMap((v) => (v ? [Float64Array.from(v)] : [])),
  };
}

/**
 * The fixture's gradients are of Σ y·r; the case's output is that scalar, which the harness
 * weighs by gradWeights(0, 1)[0] = sin 1, so the expected gradients are the fixture's times sin 1.
 */
function fixtureGradsCase(fc: BatchNormFixtureCase): OpCase {
  const w0 = gradWeights(0, 1)[0];
  const scaled = (g: number[] | null) => (g ? Float64Array.from(g, (v) => v * w0) : null);
  return {
    name: `batchNorm matches PyTorch's gradients for ${fc.name}`,
    inputs: () => fixtureInputs(fc, true),
    run: (ts) => {
      const { y, r } = runFixture(fc, ts, true);
      return sum(mul(y, r!));
    },
    expected: () => Float64Array.of(fc.y.data.reduce((acc, v, i) => acc + v * fc.r[i], 0)),
    expectedGrads: (inputs) => {
      const grads = [scaled(fc.dx), scaled(fc.dweight), scaled(fc.dbias)].filter((g) => g !== null);
      return inputs.map((_, i) => grads[i] ?? null);
    },
  };
}

/** x of `shape` in [-1, 1) whose frames from lengths[n] on hold `pad` + a ramp (padding to ignore). */
function paddedInput(
  shape: number[],
  seed: number,
  lengths: number[],
  pad: number,
  grad: boolean,
): CaseInput {
  const x = floatInput(shape, seed, { grad });
  const [n, c, t] = shape;
  const inner = x.data.length / (n * c * t);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = lengths[i] * inner; p < t * inner; p++) x.data[(i * c + ch) * t * inner + p] = pad + p;
    }
  }
  return x;
}

const longLengths = [300, 120, 7, 299];

/** The batch norm family's cases. */
export const cases: OpCase[] = [
  {
    name: "batchNorm in training normalises [N, C, T] by the batch statistics",
    inputs: () => [
      floatInput([3, 2, 4], 8001, { grad: true }),
      floatInput([2], 8002, { low: 0.5, high: 1.5, grad: true }),
      floatInput([2], 8003, { grad: true }),
    ],
    run: ([x, w, b]) => batchNorm(x, null, null, w, b, { training: true, eps: 1e-3 }),
    expected: ([x, w, b]) =>
      refBatchNorm(x, null, null, w, b, { training: true, momentum: 0.1, eps: 1e-3 }).y,
  },
  {
    name: "batchNorm in training normalises [N, C, H, W] without weight and bias",
    inputs: () => [floatInput([2, 3, 2, 3], 8011, { grad: true })],
    run: ([x]) => batchNorm(x, null, null, null, null, { training: true }),
    expected: ([x]) =>
      refBatchNorm(x, null, null, null, null, { training: true, momentum: 0.1, eps: 1e-5 }).y,
  },
  {
    name: "batchNorm in eval normalises by the running statistics",
    inputs: () => [
      floatInput([2, 3, 4], 8021, { grad: true }),
      floatInput([3], 8022),
      positive([3], 8023),
      floatInput([3], 8024, { grad: true }),
      floatInput([3], 8025, { grad: true }),
    ],
    run: ([x, rm, rv, w, b]) => batchNorm(x, rm, rv, w, b, { training: false, eps: 1e-3 }),
    expected: ([x, rm, rv, w, b]) =>
      refBatchNorm(x, rm, rv, w, b, { training: false, momentum: 0.1, eps: 1e-3 }).y,
  },
  {
    name: "batchNorm in training updates the running statistics in place with the unbiased variance",
    inputs: () => [floatInput([2, 3, 5], 8031), floatInput([3], 8032), positive([3], 8033)],
    run: ([x, rm, rv]) => [batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3 }), rm, rv],
    expected: ([x, rm, rv]) => {
      const r = refBatchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3, eps: 1e-5 });
      return [r.y, r.rm!, r.rv!];
    },
  },
  {
    name: "batchNorm with lengths takes the statistics over the valid frames of [N, C, T] only",
    inputs: () => [
      floatInput([3, 2, 5], 8041, { grad: true }),
      floatInput([2], 8042, { grad: true }),
      floatInput([2], 8043, { grad: true }),
      intInput([5, 2, 3], [3]),
    ],
    run: ([x, w, b, len]) => batchNorm(x, null, null, w, b, { training: true, lengths: len }),
    expected: ([x, w, b]) =>
      refBatchNorm(x, null, null, w, b, { training: true, momentum: 0.1, eps: 1e-5, lengths: [5, 2, 3] }).y,
  },
  {
    name: "batchNorm with lengths masks the time axis of [N, C, T, F] and updates running statistics",
    inputs: () => [
      floatInput([2, 2, 4, 3], 8051),
      floatInput([2], 8052),
      positive([2], 8053),
      intInput([1, 4], [2]),
    ],
    run: ([x, rm, rv, len]) => [
      batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5, lengths: len }),
      rm,
      rv,
    ],
    expected: ([x, rm, rv]) => {
      const r = refBatchNorm(x, rm, rv, null, null, {
        training: true,
        momentum: 0.5,
        eps: 1e-5,
        lengths: [1, 4],
      });
      return [r.y, r.rm!, r.rv!];
    },
  },
  {
    name: "batchNorm gradients flow through masked statistics of [N, C, T, F]",
    inputs: () => [floatInput([2, 2, 3, 2], 8061, { grad: true }), intInput([2, 3], [2])],
    run: ([x, len]) => batchNorm(x, null, null, null, null, { training: true, lengths: len }),
    expected: ([x]) =>
      refBatchNorm(x, null, null, null, null, { training: true, momentum: 0.1, eps: 1e-5, lengths: [2, 3] })
        .y,
  },
  {
    name: "batchNorm with lengths ignores what the padded frames hold, in outputs and gradients",
    inputs: () => [
      paddedInput([3, 2, 10], 8071, [10, 6, 3], 200, true),
      floatInput([2], 8072, { low: 0.5, high: 1.5, grad: true }),
      floatInput([2], 8073, { grad: true }),
      intInput([10, 6, 3], [3]),
    ],
    run: ([x, w, b, len]) => batchNorm(x, null, null, w, b, { training: true, lengths: len }),
    expected: ([x, w, b]) =>
      refBatchNorm(x, null, null, w, b, { training: true, momentum: 0.1, eps: 1e-5, lengths: [10, 6, 3] }).y,
  },
  {
    name: "batchNorm updates the running statistics over more valid positions than a workgroup holds",
    inputs: () => [
      paddedInput([4, 3, 300], 8081, longLengths, 50, false),
      floatInput([3], 8082),
      positive([3], 8083),
      floatInput([3], 8084, { low: 0.5, high: 1.5 }),
      floatInput([3], 8085),
      intInput(longLengths, [4]),
    ],
    run: ([x, rm, rv, w, b, len]) => [
      batchNorm(x, rm, rv, w, b, { training: true, momentum: 0.1, lengths: len }),
      rm,
      rv,
    ],
    expected: ([x, rm, rv, w, b]) => {
      const r = refBatchNorm(x, rm, rv, w, b, {
        training: true,
        momentum: 0.1,
        eps: 1e-5,
        lengths: longLengths,
      });
      return [r.y, r.rm!, r.rv!];
    },
  },
  {
    name: "batchNorm gradients with lengths over more valid positions than a workgroup holds",
    inputs: () => [
      paddedInput([4, 3, 300], 8091, longLengths, 50, true),
      floatInput([3], 8092, { low: 0.5, high: 1.5, grad: true }),
      floatInput([3], 8093, { grad: true }),
      intInput(longLengths, [4]),
    ],
    run: ([x, w, b, len]) => batchNorm(x, null, null, w, b, { training: true, lengths: len }),
    expected: ([x, w, b]) =>
      refBatchNorm(x, null, null, w, b, { training: true, momentum: 0.1, eps: 1e-5, lengths: longLengths }).y,
  },
  {
    // A one-pass variance (E[x²] - E[x]²) in float32 would lose it entirely: 1e6 against 1/3.
    name: "batchNorm keeps the variance of values far from zero (mean 1000) in output and running statistics",
    inputs: () => [
      floatInput([2, 2, 200], 8101, { low: 999, high: 1001 }),
      floatInput([2], 8102),
      positive([2], 8103),
    ],
    run: ([x, rm, rv]) => [batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.2 }), rm, rv],
    expected: ([x, rm, rv]) => {
      const r = refBatchNorm(x, rm, rv, null, null, { training: true, momentum: 0.2, eps: 1e-5 });
      return [r.y, r.rm!, r.rv!];
    },
    // Rounding x (ulp 6e-5 at 1000) to float32 alone moves y by up to 1e-4.
    tolerance: { float32: 2e-4 },
  },
  ...fixtureCases().flatMap((fc) => [fixtureValuesCase(fc), fixtureGradsCase(fc)]),
];
