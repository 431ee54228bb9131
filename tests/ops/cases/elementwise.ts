/**
 * Conformance cases of the elementwise table (ops/elementwise.ts): every entry, with
 * broadcasting, scalars and 0-d tensors, against float64 references written with Math.*.
 * Inputs keep away from kinks (0 for relu/abs, the clip bounds of hardtanh, ties of
 * maximum/minimum) so that finite differences are meaningful.
 */
import {
  abs,
  add,
  broadcastTo,
  div,
  exp,
  finiteMask,
  hardtanh,
  log,
  maximum,
  minimum,
  mul,
  mulAdd,
  neg,
  onesLike,
  pow,
  relu,
  sigmoid,
  sqrt,
  sub,
  tanh,
  where,
  zerosLike,
} from "../../../ops/elementwise.ts";
import type { Tensor } from "../../../ops/tensor.ts";
import type { OpCase } from "../conformance/case.ts";
import { floatInput, floatValues, refElementwise, refSize } from "../conformance/reference.ts";

const binaryShapes: [string, number[], number[]][] = [
  ["equal shapes", [2, 3], [2, 3]],
  ["a row broadcast over a matrix", [2, 3], [3]],
  ["a column against a row", [3, 1], [1, 4]],
  ["rank-3 against rank-2 broadcasting", [2, 1, 4], [3, 1]],
  ["a 0-d tensor", [2, 3], []],
];

interface BinarySpec {
  fn: (x: Tensor, y: Tensor) => Tensor;
  ref: (x: number, y: number) => number;
  x?: { low: number; high: number };
  y?: { low: number; high: number };
}

const binary: Record<string, BinarySpec> = {
  add: { fn: add, ref: (x, y) => x + y },
  sub: { fn: sub, ref: (x, y) => x - y },
  mul: { fn: mul, ref: (x, y) => x * y },
  div: { fn: div, ref: (x, y) => x / y, y: { low: 0.5, high: 2 } },
  pow: { fn: pow, ref: (x, y) => x ** y, x: { low: 0.3, high: 2 }, y: { low: -1.5, high: 1.5 } },
  maximum: { fn: maximum, ref: (x, y) => Math.max(x, y) },
  minimum: { fn: minimum, ref: (x, y) => Math.min(x, y) },
};

const binaryCases: OpCase[] = Object.entries(binary).flatMap(([name, spec], n) =>
  binaryShapes.map(([desc, sx, sy], m): OpCase => ({
    name: `${name} matches the reference for ${desc}`,
    inputs: () => [
      floatInput(sx, 100 * n + 10 * m + 1, { ...spec.x, grad: true }),
      floatInput(sy, 100 * n + 10 * m + 2, { ...spec.y, grad: true }),
    ],
    run: ([x, y]) => spec.fn(x, y),
    expected: (inputs) => refElementwise(inputs, spec.ref),
  }))
);

interface UnarySpec {
  fn: (x: Tensor) => Tensor;
  ref: (x: number) => number;
  low?: number;
  high?: number;
  awayFrom?: number[];
}

const unary: Record<string, UnarySpec> = {
  neg: { fn: neg, ref: (x) => -x },
  exp: { fn: exp, ref: Math.exp, low: -3, high: 3 },
  log: { fn: log, ref: Math.log, low: 0.2, high: 3 },
  sqrt: { fn: sqrt, ref: Math.sqrt, low: 0.2, high: 3 },
  abs: { fn: abs, ref: Math.abs, awayFrom: [0] },
  relu: { fn: relu, ref: (x) => Math.max(x, 0), awayFrom: [0] },
  "hardtanh(-0.5, 0.5)": {
    fn: (x) => hardtanh(x, -0.5, 0.5),
    ref: (x) => Math.min(Math.max(x, -0.5), 0.5),
    awayFrom: [-0.5, 0.5],
  },
  "hardtanh(0, 20) (the clipped ReLU)": {
    fn: (x) => hardtanh(x, 0, 20),
    ref: (x) => Math.min(Math.max(x, 0), 20),
    low: -30,
    high: 30,
    awayFrom: [0, 20],
  },
  sigmoid: { fn: sigmoid, ref: (x) => 1 / (1 + Math.exp(-x)), low: -6, high: 6 },
  tanh: { fn: tanh, ref: Math.tanh, low: -3, high: 3 },
};

const unaryCases: OpCase[] = Object.entries(unary).flatMap(([name, spec], n) =>
  [[2, 3, 4], []].map((shape): OpCase => ({
    name: `${name} matches the reference on a ${shape.length ? `[${shape}]` : "0-d"} tensor`,
    inputs: () => [floatInput(shape, 1000 + 10 * n + shape.length, { ...spec, grad: true })],
    run: ([x]) => spec.fn(x),
    expected: (inputs) => refElementwise(inputs, spec.ref),
  }))
);

const otherCases: OpCase[] = [
  {
    name: "mulAdd matches x·y + z broadcasting all three, with gradients to each",
    inputs: () => [
      floatInput([4, 3], 2011, { grad: true }),
      floatInput([3], 2012, { grad: true }),
      floatInput([4, 1], 2013, { grad: true }),
    ],
    run: ([x, y, z]) => mulAdd(x, y, z),
    expected: (inputs) => refElementwise(inputs, (x, y, z) => x * y + z),
  },
  {
    name: "mulAdd takes a 0-d scale and a number, as the optimizers call it",
    inputs: () => [floatInput([2, 5], 2014, { grad: true }), floatInput([], 2015, { grad: true })],
    run: ([x, s]) => mulAdd(x, s, 0.25),
    expected: (inputs) => refElementwise(inputs, (x, s) => x * s + 0.25),
  },
  {
    name: "where picks x where the mask is non-zero and y elsewhere, broadcasting all three",
    inputs: () => [
      floatValues([1, 0, 0, 1], [4, 1]),
      floatInput([4, 3], 2001, { grad: true }),
      floatInput([3], 2002, { grad: true }),
    ],
    run: ([c, x, y]) => where(c, x, y),
    expected: (inputs) => refElementwise(inputs, (c, x, y) => (c !== 0 ? x : y)),
  },
  {
    name: "where accepts an int32 mask",
    inputs: () => [
      { data: Int32Array.from([0, 2, 0, -1, 1, 0]), shape: [2, 3], dtype: "int32" },
      floatInput([2, 3], 2003, { grad: true }),
      floatInput([2, 3], 2004, { grad: true }),
    ],
    run: ([c, x, y]) => where(c, x, y),
    expected: (inputs) => refElementwise(inputs, (c, x, y) => (c !== 0 ? x : y)),
  },
  {
    name: "add with a number operand broadcasts the number",
    inputs: () => [floatInput([3, 2], 2005, { grad: true })],
    run: ([x]) => add(mul(x, 2.5), -1),
    expected: (inputs) => refElementwise(inputs, (x) => 2.5 * x - 1),
  },
  {
    name: "broadcastTo copies a [3, 1] tensor to [2, 3, 4] and sums the gradient back",
    inputs: () => [floatInput([3, 1], 2006, { grad: true })],
    run: ([x]) => broadcastTo(x, [2, 3, 4]),
    expected: (inputs) => refElementwise(inputs, (x) => x, { outShape: [2, 3, 4] }),
  },
  {
    name: "mul of a tensor by itself accumulates both gradient paths",
    inputs: () => [floatInput([5], 2007, { grad: true })],
    run: ([x]) => mul(x, x),
    expected: (inputs) => refElementwise(inputs, (x) => x * x),
  },
  {
    name: "a chain of elementwise ops differentiates through every link",
    inputs: () => [floatInput([2, 4], 2008, { grad: true }), floatInput([4], 2009, { grad: true })],
    run: ([x, y]) => tanh(add(mul(sigmoid(x), y), exp(neg(x)))),
    expected: (inputs) =>
      refElementwise(inputs, (x, y) => Math.tanh((1 / (1 + Math.exp(-x))) * y + Math.exp(-x))),
  },
  {
    name: "pow of negative bases by integer exponents matches Math.pow",
    inputs: () => [floatValues([-2, -1.5, -0.5, 3], [4], { grad: true }), floatValues([3, 2, -1, 0], [4])],
    run: ([x, y]) => pow(x, y),
    expected: (inputs) => refElementwise(inputs, (x, y) => x ** y),
  },
  {
    name: "binary ops broadcast two rank-4 tensors that both expand",
    inputs:
      () => [floatInput([2, 1, 3, 1], 2013, { grad: true }), floatInput([1, 4, 1, 5], 2014, { grad: true })],
    run: ([x, y]) => sub(mul(x, y), y),
    expected: (inputs) => refElementwise(inputs, (x, y) => x * y - y),
  },
  {
    name: "where takes numbers for both branches",
    inputs: () => [floatValues([0, 1, 1, 0, 0, 1], [2, 3])],
    run: ([c]) => where(c, 2.5, -1),
    expected: (inputs) => refElementwise(inputs, (c) => (c !== 0 ? 2.5 : -1)),
  },
  {
    name: "onesLike and zerosLike take the shape of their argument",
    inputs: () => [floatInput([2, 3], 2010)],
    run: ([x]) => [onesLike(x), zerosLike(x)],
    expected: () => [new Float64Array(refSize([2, 3])).fill(1), new Float64Array(refSize([2, 3]))],
  },
  {
    name: "broadcast add and tanh over [260, 70] by [70] match the reference",
    inputs: () => [floatInput([260, 70], 2015, { grad: true }), floatInput([70], 2016, { grad: true })],
    run: ([x, y]) => tanh(add(x, y)),
    expected: (inputs) => refElementwise(inputs, (x, y) => Math.tanh(x + y)),
  },
  {
    name: "finiteMask is 1 for finite values (3e38 included) and 0 for NaN and both infinities",
    inputs: () => [floatValues([1, NaN, Infinity, -Infinity, -2, 0, 3e38, -3e38, 1e-30], [9])],
    run: ([x]) => finiteMask(x),
    expected: (inputs) => refElementwise(inputs, (x) => (Number.isFinite(x) ? 1 : 0)),
  },
  {
    name: "elementwise ops on an empty tensor give an empty tensor",
    inputs: () => [floatInput([0, 3], 2011), floatInput([3], 2012)],
    run: ([x, y]) => add(x, y),
    expected: () => new Float64Array(0),
  },
];

/** The elementwise family's cases. */
export const cases: OpCase[] = [...binaryCases, ...unaryCases, ...otherCases];
