/**
 * Conformance cases of the fused elementwise entries (ops/elementwise.ts): `addRelu`
 * (bias + ReLU), `addReluMasked` and `addHardtanhMasked` (residual add, activation, dropout
 * mask and frame mask of a TDNN sub-block), against float64 references written with Math.*,
 * with the broadcasting the models use ([C, 1] bias and [N, 1, T] frame mask against
 * [N, C, T]). Each x + y keeps away from the activation's kinks (the x values avoid −y for
 * every y value, or y is one value) so that finite differences are meaningful; the masks get
 * gradients too, so every entry's full gradient list is checked.
 */
import { addHardtanhMasked, addRelu, addReluMasked } from "../../../ops/elementwise.ts";
import type { OpCase } from "../conformance/case.ts";
import { floatInput, floatValues, refElementwise } from "../conformance/reference.ts";

const relu = (v: number): number => Math.max(v, 0);
const clip = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

/** A [3, 1] bias with these values, and x inputs kept 0.05 away from the kinks x = −bias. */
const bias = [-0.6, 0.2, 0.7];
const awayFromBias = bias.map((v) => -v);

/** A dropout-like mask (0 or 1/(1-p) for p = 0.2) and a frame mask ([2, 1, 4]: lengths 4 and 2). */
const dropoutValues = [1.25, 0, 1.25, 1.25, 0, 1.25, 1.25, 1.25, 0, 1.25, 1.25, 0];
const frameValues = [1, 1, 1, 1, 1, 1, 0, 0];

/** The fused family's cases. */
export const cases: OpCase[] = [
  {
    name: "addRelu adds a [3, 1] bias to [2, 3, 4] and applies ReLU, with gradients to both",
    inputs: () => [
      floatInput([2, 3, 4], 3001, { grad: true, awayFrom: awayFromBias }),
      floatValues(bias, [3, 1], { grad: true }),
    ],
    run: ([x, b]) => addRelu(x, b),
    expected: (inputs) => refElementwise(inputs, (x, b) => relu(x + b)),
  },
  {
    name: "addRelu of equal shapes matches relu(x + y)",
    inputs: () => [
      floatInput([5, 7], 3002, { grad: true, low: -1, high: 1, awayFrom: [0.25] }),
      floatValues(new Array(35).fill(-0.25), [5, 7], { grad: true }),
    ],
    run: ([x, y]) => addRelu(x, y),
    expected: (inputs) => refElementwise(inputs, (x, y) => relu(x + y)),
  },
  {
    name: "addRelu of a tensor with itself accumulates both gradient paths",
    inputs: () => [floatInput([6], 3003, { grad: true, awayFrom: [0] })],
    run: ([x]) => addRelu(x, x),
    expected: (inputs) => refElementwise(inputs, (x) => relu(2 * x)),
  },
  {
    name: "addRelu takes a number for y",
    inputs: () => [floatInput([2, 5], 3004, { grad: true, awayFrom: [-0.5] })],
    run: ([x]) => addRelu(x, 0.5),
    expected: (inputs) => refElementwise(inputs, (x) => relu(x + 0.5)),
  },
  {
    name: "addReluMasked applies ReLU to x + residual times a dropout mask and a [2, 1, 4] frame mask",
    inputs: () => [
      floatInput([2, 3, 4], 3011, { grad: true, awayFrom: awayFromBias }),
      floatValues(bias, [3, 1], { grad: true }),
      floatValues(dropoutValues.concat(dropoutValues), [2, 3, 4], { grad: true }),
      floatValues(frameValues, [2, 1, 4], { grad: true }),
    ],
    run: ([x, r, m, f]) => addReluMasked(x, r, { mask: m, frameMask: f }),
    expected: (inputs) => refElementwise(inputs, (x, r, m, f) => relu(x + r) * m * f),
  },
  {
    name: "addReluMasked with general multipliers differentiates with respect to all four inputs",
    inputs: () => [
      floatInput([3, 4], 3012, { grad: true, awayFrom: [0.3] }),
      floatValues([-0.3], [1], { grad: true }),
      floatInput([3, 4], 3013, { grad: true, low: 0.5, high: 2 }),
      floatInput([3, 1], 3014, { grad: true, low: -2, high: 2 }),
    ],
    run: ([x, r, m, f]) => addReluMasked(x, r, { mask: m, frameMask: f }),
    expected: (inputs) => refElementwise(inputs, (x, r, m, f) => relu(x + r) * m * f),
  },
  {
    name: "addReluMasked without a residual or masks is relu(x)",
    inputs: () => [floatInput([2, 3, 4], 3015, { grad: true, awayFrom: [0] })],
    run: ([x]) => addReluMasked(x, 0),
    expected: (inputs) => refElementwise(inputs, relu),
  },
  {
    name: "addReluMasked with only a frame mask zeroes the padded frames",
    inputs: () => [
      floatInput([2, 3, 4], 3016, { grad: true, awayFrom: [0] }),
      floatValues(frameValues, [2, 1, 4]),
    ],
    run: ([x, f]) => addReluMasked(x, 0, { frameMask: f }),
    expected: (inputs) => refElementwise(inputs, (x, f) => relu(x) * f),
  },
  {
    name: "addHardtanhMasked (0, 20), the clipped ReLU, matches the reference across both clip bounds",
    inputs: () => [
      floatInput([2, 3, 4], 3021, {
        grad: true,
        low: -30,
        high: 30,
        awayFrom: [0.6, -0.2, -0.7, 20.6, 19.8, 19.3],
      }),
      floatValues(bias, [3, 1], { grad: true }),
      floatValues(dropoutValues.concat(dropoutValues), [2, 3, 4], { grad: true }),
      floatValues(frameValues, [2, 1, 4], { grad: true }),
    ],
    run: ([x, r, m, f]) => addHardtanhMasked(x, r, { mask: m, frameMask: f, minVal: 0, maxVal: 20 }),
    expected: (inputs) => refElementwise(inputs, (x, r, m, f) => clip(x + r, 0, 20) * m * f),
  },
  {
    name: "addHardtanhMasked (-0.5, 0.5) with general multipliers matches the reference",
    inputs: () => [
      floatInput([4, 5], 3022, { grad: true, awayFrom: [-0.3, 0.7] }),
      floatValues([-0.2], [], { grad: true }),
      floatInput([4, 5], 3023, { grad: true, low: 0.5, high: 2 }),
      floatInput([1, 5], 3024, { grad: true, low: -2, high: 2 }),
    ],
    run: ([x, r, m, f]) => addHardtanhMasked(x, r, { mask: m, frameMask: f, minVal: -0.5, maxVal: 0.5 }),
    expected: (inputs) => refElementwise(inputs, (x, r, m, f) => clip(x + r, -0.5, 0.5) * m * f),
  },
];
