/**
 * Conformance cases of the reductions: sum (ops/reduce_sum.ts) and, in ops/reduce.ts, mean,
 * max, logsumexp, softmax and logSoftmax, against float64 references over plain index loops.
 */
import { sum } from "../../../ops/reduce_sum.ts";
import { logSoftmax, logsumexp, max, mean, softmax } from "../../../ops/reduce.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import {
  floatInput,
  floatValues,
  intInput,
  refReduce,
  torchCase,
  unravel,
} from "../conformance/reference.ts";

const total = (v: number[]): number => v.reduce((p, q) => p + q, 0);
const average = (v: number[]): number => total(v) / v.length;
const largest = (v: number[]): number => v.reduce((p, q) => (q > p || q !== q ? q : p), -Infinity);
const lse = (v: number[]): number => {
  const m = largest(v);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(total(v.map((q) => Math.exp(q - m))));
};

/** softmax (or log-softmax) of `x` along `axis`, by gathering each line along the axis. */
function refSoftmax(x: CaseInput, axis: number, isLog: boolean): Float64Array {
  const out = new Float64Array(x.data.length);
  const lines = new Map<string, number[]>();
  for (let f = 0; f < x.data.length; f++) {
    const idx = unravel(f, x.shape);
    idx[axis] = 0;
    const key = idx.join(",");
    if (!lines.has(key)) lines.set(key, []);
    lines.get(key)!.push(f);
  }
  for (const flats of lines.values()) {
    const z = lse(flats.map((f) => x.data[f]));
    for (const f of flats) out[f] = isLog ? x.data[f] - z : Math.exp(x.data[f] - z);
  }
  return out;
}

const sumCases: OpCase[] = [
  {
    name: "sum over all axes gives a 0-d tensor",
    inputs: () => [floatInput([2, 3, 4], 3001, { grad: true })],
    run: ([x]) => sum(x),
    expected: ([x]) => refReduce(x, [0, 1, 2], total),
  },
  {
    name: "sum over the last axis matches the reference",
    inputs: () => [floatInput([3, 5], 3002, { grad: true })],
    run: ([x]) => sum(x, 1),
    expected: ([x]) => refReduce(x, [1], total),
  },
  {
    name: "sum over the first axis matches the reference",
    inputs: () => [floatInput([3, 5], 3003, { grad: true })],
    run: ([x]) => sum(x, 0),
    expected: ([x]) => refReduce(x, [0], total),
  },
  {
    name: "sum over axes 0 and 2 with keepDims matches the reference",
    inputs: () => [floatInput([2, 3, 4], 3004, { grad: true })],
    run: ([x]) => sum(x, [0, 2], { keepDims: true }),
    expected: ([x]) => refReduce(x, [0, 2], total),
  },
  {
    name: "sum over a negative axis counts from the end",
    inputs: () => [floatInput([2, 3, 4], 3005, { grad: true })],
    run: ([x]) => sum(x, -2),
    expected: ([x]) => refReduce(x, [1], total),
  },
  {
    name: "sum of a 0-d tensor is itself",
    inputs: () => [floatInput([], 3006, { grad: true })],
    run: ([x]) => sum(x),
    expected: ([x]) => Float64Array.from(x.data),
  },
  {
    name: "sum over an empty axis gives zeros",
    inputs: () => [floatInput([3, 0], 3007)],
    run: ([x]) => sum(x, 1),
    expected: () => new Float64Array(3),
  },
];

const meanCases: OpCase[] = [
  {
    name: "mean over all axes matches the reference",
    inputs: () => [floatInput([3, 4], 3101, { grad: true })],
    run: ([x]) => mean(x),
    expected: ([x]) => refReduce(x, [0, 1], average),
  },
  {
    name: "mean over the batch and time axes of [N, C, T] gives per-channel means",
    inputs: () => [floatInput([2, 3, 4], 3102, { grad: true })],
    run: ([x]) => mean(x, [0, 2]),
    expected: ([x]) => refReduce(x, [0, 2], average),
  },
  {
    name: "mean with keepDims over the last axis matches the reference",
    inputs: () => [floatInput([3, 5], 3103, { grad: true })],
    run: ([x]) => mean(x, -1, { keepDims: true }),
    expected: ([x]) => refReduce(x, [1], average),
  },
];

const maxCases: OpCase[] = [
  {
    name: "max over all axes matches the reference",
    inputs: () => [floatInput([3, 4], 3201, { grad: true })],
    run: ([x]) => max(x),
    expected: ([x]) => refReduce(x, [0, 1], largest),
  },
  {
    name: "max over the last axis matches the reference",
    inputs: () => [floatInput([4, 6], 3202, { grad: true })],
    run: ([x]) => max(x, 1),
    expected: ([x]) => refReduce(x, [1], largest),
  },
  {
    name: "max over axes 0 and 2 with keepDims matches the reference",
    inputs: () => [floatInput([2, 3, 4], 3203, { grad: true })],
    run: ([x]) => max(x, [0, 2], { keepDims: true }),
    expected: ([x]) => refReduce(x, [0, 2], largest),
  },
  {
    name: "max of values that are all negative is not clamped at zero",
    inputs: () => [floatInput([2, 5], 3204, { low: -9, high: -1 })],
    run: ([x]) => max(x, 1),
    expected: ([x]) => refReduce(x, [1], largest),
  },
  {
    name: "max handles -Infinity and +Infinity entries",
    inputs: () => [floatValues([-Infinity, -Infinity, 1, Infinity, 2, -Infinity], [2, 3])],
    run: ([x]) => max(x, 0),
    expected: ([x]) => refReduce(x, [0], largest),
  },
];

const lseCases: OpCase[] = [
  {
    name: "logsumexp over the last axis matches the reference",
    inputs: () => [floatInput([3, 7], 3301, { low: -4, high: 4, grad: true })],
    run: ([x]) => logsumexp(x, -1),
    expected: ([x]) => refReduce(x, [1], lse),
  },
  {
    name: "logsumexp over axes 0 and 2 with keepDims matches the reference",
    inputs: () => [floatInput([2, 3, 4], 3302, { low: -4, high: 4, grad: true })],
    run: ([x]) => logsumexp(x, [0, 2], { keepDims: true }),
    expected: ([x]) => refReduce(x, [0, 2], lse),
  },
  {
    name: "logsumexp of values near 1000 does not overflow",
    inputs: () => [floatInput([2, 5], 3303, { low: 995, high: 1005, grad: true })],
    run: ([x]) => logsumexp(x, 1),
    expected: ([x]) => refReduce(x, [1], lse),
  },
  {
    name: "logsumexp of a row of -Infinity is -Infinity",
    inputs: () => [floatValues([-Infinity, -Infinity, -Infinity, 0, -Infinity, Math.log(3)], [2, 3])],
    run: ([x]) => logsumexp(x, 1),
    expected: () => Float64Array.from([-Infinity, Math.log(4)]),
  },
];

const softmaxAxes: [number[], number][] = [[[4, 6], -1], [[4, 6], 0], [[2, 3, 4], 1], [[5], 0]];

const softmaxCases: OpCase[] = softmaxAxes.flatMap(([shape, axis], n) => {
  const a = axis < 0 ? axis + shape.length : axis;
  return [false, true].map((isLog): OpCase => ({
    name: `${isLog ? "logSoftmax" : "softmax"} along axis ${axis} of [${shape}] matches the reference`,
    inputs: () => [floatInput(shape, 3401 + 2 * n + Number(isLog), { low: -3, high: 3, grad: true })],
    run: ([x]) => (isLog ? logSoftmax(x, axis) : softmax(x, axis)),
    expected: ([x]) => refSoftmax(x, a, isLog),
  }));
});

softmaxCases.push(
  {
    name: "softmax of logits near 1000 stays finite and sums to one",
    inputs: () => [floatInput([3, 4], 3501, { low: 990, high: 1010, grad: true })],
    run: ([x]) => [softmax(x, 1), sum(softmax(x, 1), 1)],
    expected: ([x]) => [refSoftmax(x, 1, false), new Float64Array(3).fill(1)],
  },
  {
    name: "logSoftmax of logits near -1000 stays finite",
    inputs: () => [floatInput([3, 4], 3502, { low: -1010, high: -990, grad: true })],
    run: ([x]) => logSoftmax(x, 1),
    expected: ([x]) => refSoftmax(x, 1, true),
    // Values are ~10 in magnitude after subtracting ~1000: float32 keeps ~1e-4 absolute.
    tolerance: { float32: 1e-3 },
  },
  {
    name: "logSoftmax of a [T, N, V] tensor along V matches the reference",
    inputs: () => [floatInput([3, 2, 5], 3503, { low: -5, high: 5, grad: true })],
    run: ([x]) => logSoftmax(x, 2),
    expected: ([x]) => refSoftmax(x, 2, true),
  },
);

const torchCases: OpCase[] = [
  torchCase("general.json", "amax with two-way ties along the last axis", { run: ([x]) => max(x, 1) }),
  torchCase(
    "general.json",
    "amax over axes 0 and 2 with keepdim",
    { run: ([x]) => max(x, [0, 2], { keepDims: true }) },
  ),
  torchCase("general.json", "mean over axes 0 and 2", { run: ([x]) => mean(x, [0, 2]) }),
  torchCase("general.json", "logsumexp along axis 1 of large values", { run: ([x]) => logsumexp(x, 1) }),
  torchCase("general.json", "softmax along axis 1 of [2, 3, 4]", { run: ([x]) => softmax(x, 1) }),
  torchCase("general.json", "log_softmax along the last axis of [T, N, V]", {
    run: ([x]) => logSoftmax(x, -1),
  }),
];

// Lines longer than a GPU workgroup and extents that are not powers of two.
const largeCases: OpCase[] = [
  {
    name: "sum over each axis of a [300, 70] tensor matches the reference",
    inputs: () => [floatInput([300, 70], 3601, { grad: true })],
    run: ([x]) => [sum(x, 0), sum(x, 1)],
    expected: ([x]) => [refReduce(x, [0], total), refReduce(x, [1], total)],
  },
  {
    name: "softmax over rows of 1000 matches the reference",
    inputs: () => [floatInput([2, 1000], 3602, { low: -8, high: 8, grad: true })],
    run: ([x]) => softmax(x, -1),
    expected: ([x]) => refSoftmax(x, 1, false),
  },
  {
    name: "logsumexp and max over 3000 elements match the reference",
    inputs: () => [floatInput([1, 3000], 3603, { low: -20, high: 20, grad: true })],
    run: ([x]) => [logsumexp(x, 1), max(x, 1)],
    expected: ([x]) => [refReduce(x, [1], lse), refReduce(x, [1], largest)],
  },
];

// Axis sets that are not one contiguous run, with and without keepDims: kept and reduced
// runs alternate, so the kernels must unravel both (ops/backends/webgpu/reduction.ts).
const axisSetSpecs: [number[], number[], boolean][] = [
  [[2, 3, 4, 5], [0, 2], false],
  [[2, 3, 4, 5], [1, 3], true],
  [[3, 2, 2, 4], [0, 3], true],
  [[8, 5, 10, 3], [0, 2], false], // 80 reduced elements per output: a workgroup each
];

const axisSetCases: OpCase[] = axisSetSpecs.flatMap(([shape, axes, keepDims], n): OpCase[] => {
  const desc = `over axes [${axes}] of [${shape}]${keepDims ? " with keepDims" : ""}`;
  return [
    {
      name: `sum, max and logsumexp ${desc} match the reference`,
      inputs: () => [floatInput(shape, 3701 + n, { low: -3, high: 3, grad: true })],
      run: (
        [x],
      ) => [sum(x, axes, { keepDims }), max(x, axes, { keepDims }), logsumexp(x, axes, { keepDims })],
      expected: ([x]) => [refReduce(x, axes, total), refReduce(x, axes, largest), refReduce(x, axes, lse)],
    },
  ];
});

const edgeCases: OpCase[] = [
  {
    name: "sum and max of int32 values over the last axis stay integers",
    inputs: () => [intInput([3, -7, 12, -2147483647, 5, 0, -1, -9, 40000, 2, 2, -3], [3, 4])],
    run: ([x]) => [sum(x, 1), max(x, 1), max(x, 0)],
    expected: ([x]) => [refReduce(x, [1], total), refReduce(x, [1], largest), refReduce(x, [0], largest)],
  },
  {
    name: "softmax and logSoftmax along an axis of extent 1 give ones and zeros",
    inputs: () => [floatInput([3, 1, 2], 3731, { grad: true })],
    run: ([x]) => [softmax(x, 1), logSoftmax(x, 1)],
    expected: () => [new Float64Array(6).fill(1), new Float64Array(6)],
  },
  {
    name: "logsumexp over an empty axis is -Infinity",
    inputs: () => [floatInput([2, 0], 3732)],
    run: ([x]) => logsumexp(x, 1),
    expected: () => Float64Array.from([-Infinity, -Infinity]),
  },
];

const infinityCases: OpCase[] = [
  {
    name: "logsumexp ignores -Infinity entries and gives +Infinity for a row holding +Infinity",
    inputs: () => [floatValues([-Infinity, 1, -Infinity, 2, Infinity, 0, -Infinity, -Infinity, 3], [3, 3])],
    run: ([x]) => logsumexp(x, 1),
    expected: () => Float64Array.from([1, Infinity, 3]),
  },
  {
    name: "logsumexp over rows of 100 with -Infinity entries and one row of only -Infinity",
    inputs: () => {
      const x = floatInput([3, 100], 3711, { low: -5, high: 5 });
      for (let k = 0; k < 100; k++) {
        if (k % 3 === 0) x.data[k] = -Infinity;
        x.data[100 + k] = -Infinity;
      }
      return [x];
    },
    run: ([x]) => logsumexp(x, 1),
    expected: ([x]) => refReduce(x, [1], lse),
  },
  {
    name: "logSoftmax and softmax give -Infinity and 0 at -Infinity entries and stay finite elsewhere",
    inputs: () => [floatValues([-Infinity, 0.5, -2, -Infinity, 3, -Infinity, 1, 1], [2, 4])],
    run: ([x]) => [logSoftmax(x, 1), softmax(x, 1)],
    expected: ([x]) => [refSoftmax(x, 1, true), refSoftmax(x, 1, false)],
  },
  {
    name: "logSoftmax along a row of 300 with -Infinity entries matches the reference",
    inputs: () => {
      const x = floatInput([2, 300], 3712, { low: -6, high: 6 });
      for (let k = 0; k < 600; k += 7) x.data[k] = -Infinity;
      return [x];
    },
    run: ([x]) => logSoftmax(x, 1),
    expected: ([x]) => refSoftmax(x, 1, true),
  },
];

// Lines along a middle axis: many short columns (one invocation each, reading neighbouring
// addresses) and few long ones (a workgroup each), forward and backward.
const middleAxisCases: OpCase[] = [
  {
    name: "softmax and logSoftmax along the middle axis of [3, 70, 90] match the reference",
    inputs: () => [floatInput([3, 70, 90], 3721, { low: -4, high: 4, grad: true })],
    run: ([x]) => [softmax(x, 1), logSoftmax(x, 1)],
    expected: ([x]) => [refSoftmax(x, 1, false), refSoftmax(x, 1, true)],
  },
  {
    name: "softmax and logSoftmax along the middle axis of [2, 300, 3] match the reference",
    inputs: () => [floatInput([2, 300, 3], 3722, { low: -4, high: 4, grad: true })],
    run: ([x]) => [softmax(x, 1), logSoftmax(x, 1)],
    expected: ([x]) => [refSoftmax(x, 1, false), refSoftmax(x, 1, true)],
  },
  {
    name: "logSoftmax over rows of 700 and its gradient match the reference",
    inputs: () => [floatInput([3, 700], 3723, { low: -8, high: 8, grad: true })],
    run: ([x]) => logSoftmax(x, -1),
    expected: ([x]) => refSoftmax(x, 1, true),
  },
  {
    name: "sum and max of 40000 elements, split over several workgroups, match the reference",
    inputs: () => [floatInput([200, 200], 3724, { grad: true })],
    run: ([x]) => [sum(x), max(x)],
    expected: ([x]) => [refReduce(x, [0, 1], total), refReduce(x, [0, 1], largest)],
  },
];

/** The reduction family's cases. */
export const cases: OpCase[] = [
  ...sumCases,
  ...meanCases,
  ...maxCases,
  ...lseCases,
  ...softmaxCases,
  ...torchCases,
  ...largeCases,
  ...axisSetCases,
  ...edgeCases,
  ...infinityCases,
  ...middleAxisCases,
];
