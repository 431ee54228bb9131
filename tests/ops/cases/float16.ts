/**
 * Conformance cases of mixed precision: `cast` (ops/cast.ts) and matmul/conv1d/conv2d with
 * float16 operands (the dtype rule of ops/gemm_dtype.ts: f32 accumulation and result, float16
 * gradients of float16 inputs).
 *
 * References run in float64 on the inputs rounded to float16 (Math.f16round), so what the
 * tolerance allows is f32 accumulation (about 1e-6) and, for gradients, which side of a
 * float16 rounding boundary a value lands on: one float16 ulp, 2^-10 relative. The tolerance
 * is 2e-3 relative to max(1, |expected|) on every backend and dtype.
 *
 * Finite differences cannot check these gradients (float16 rounding makes the loss piecewise
 * constant at the 1e-6 step), so the expected gradients are computed here: each op is linear in
 * each operand, so d loss / d x_i = Σ_o G_o · f(e_i, other)_o, with e_i the i-th unit input,
 * evaluated with the float64 forward reference (no kernel code), then rounded to float16 as the
 * op's backward stores it.
 */
import { cast } from "../../../ops/cast.ts";
import { conv1d, type Conv1dOptions } from "../../../ops/conv1d.ts";
import { conv2d } from "../../../ops/conv2d.ts";
import { matmul } from "../../../ops/matmul.ts";
import type { Tensor } from "../../../ops/tensor.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { gradWeights } from "../conformance/finite_diff.ts";
import { floatInput } from "../conformance/reference.ts";
import { refConv1d, refConv2d, type RefGeometry } from "./conv.ts";
import { refMatmul } from "./matmul.ts";

const TOLERANCE = { float32: 2e-3, float64: 2e-3, webgpu: 2e-3 };

/** The input with every value rounded to float16. */
function rounded(x: CaseInput): CaseInput {
  return { ...x, data: Float64Array.from(x.data, Math.f16round) };
}

function roundAll(v: Float64Array): Float64Array {
  return Float64Array.from(v, Math.f16round);
}

function half(x: Tensor): Tensor {
  return cast(x, "float16");
}

/**
 * Gradient of Σ_o G_o · f(operands)_o w.r.t. operand `j` of a function linear in it, with G the
 * harness' weights for output 0 rounded to float32 (the output's dtype) then float16 (what
 * the backward GEMMs read), and the result rounded to float16.
 */
function linearGrad(
  f: (operands: CaseInput[]) => Float64Array,
  operands: CaseInput[],
  j: number,
): Float64Array {
  const size = operands[j].data.length;
  const probe = f(operands);
  const g = Float64Array.from(gradWeights(0, probe.length), (v) => Math.f16round(Math.fround(v)));
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const unit = new Float64Array(size);
    unit[i] = 1;
    const y = f(operands.map((op, k) => (k === j ? { ...op, data: unit } : op)));
    let s = 0;
    for (let o = 0; o < y.length; o++) s += g[o] * y[o];
    out[i] = s;
  }
  return roundAll(out);
}

/** Σ_o G_o over the output channels' positions: the bias gradient (float32, not rounded). */
function biasGrad(yShape: number[], cout: number): Float64Array {
  const size = yShape.reduce((a, b) => a * b, 1);
  const g = Float64Array.from(gradWeights(0, size), Math.fround);
  const per = size / (yShape[0] * cout);
  const out = new Float64Array(cout);
  for (let i = 0; i < size; i++) out[Math.floor(i / per) % cout] += g[i];
  return out;
}

function matmulF16Case(name: string, a: number[], b: number[], transB: boolean, seed: number): OpCase {
  const f = ([x, y]: CaseInput[]) => refMatmul(x, y, false, transB);
  return {
    name: `matmul of float16 operands ${name} matches the reference on f16-rounded inputs`,
    inputs: () => [floatInput(a, seed, { grad: true }), floatInput(b, seed + 1, { grad: true })],
    run: ([x, y]) => matmul(half(x), half(y), { transB }),
    expected: (ins) => f(ins.map(rounded)),
    expectedGrads: (ins) => {
      const r = ins.map(rounded);
      return [linearGrad(f, r, 0), linearGrad(f, r, 1)];
    },
    finiteDifferences: false,
    gradCheck: true,
    tolerance: TOLERANCE,
  };
}

function conv1dF16Case(name: string, x: number[], w: number[], o: Conv1dOptions, seed: number): OpCase {
  const f = ([xi, wi]: CaseInput[]) => refConv1d(xi, wi, null, o);
  return {
    name: `conv1d of float16 operands with a float32 bias matches the reference for ${name}`,
    inputs: () => [
      floatInput(x, seed, { grad: true }),
      floatInput(w, seed + 1, { grad: true }),
      floatInput([w[0]], seed + 2, { grad: true }),
    ],
    run: ([xt, wt, bt]) => conv1d(half(xt), half(wt), cast(bt, "float32"), o),
    expected: ([xi, wi, bi]) => refConv1d(rounded(xi), rounded(wi), bi, o),
    expectedGrads: ([xi, wi]) => {
      const r = [rounded(xi), rounded(wi)];
      const y = f(r);
      return [
        linearGrad(f, r, 0),
        linearGrad(f, r, 1),
        biasGrad([x[0], w[0], y.length / (x[0] * w[0])], w[0]),
      ];
    },
    finiteDifferences: false,
    gradCheck: true,
    tolerance: TOLERANCE,
  };
}

const geo2d: RefGeometry = { stride: [2, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };

/** The cases. */
export const cases: OpCase[] = [
  {
    name: "cast to float16 and back rounds to nearest-even, and its gradient is cast back",
    inputs: () => [floatInput([3, 7], 9101, { low: -70, high: 70, grad: true })],
    run: ([x]) => cast(half(x), "float32"),
    expected: ([x]) => roundAll(x.data as Float64Array),
    // The outer cast's backward rounds the float32 gradient to float16, the inner one widens it.
    expectedGrads: ([x]) => [roundAll(Float64Array.from(gradWeights(0, x.data.length), Math.fround))],
    finiteDifferences: false,
    gradCheck: true,
    tolerance: { float32: 1e-7, float64: 1e-7, webgpu: 1e-7 },
  },
  matmulF16Case("[5, 12] · [12, 7]", [5, 12], [12, 7], false, 9111),
  matmulF16Case("[6, 8] · [12, 8]ᵀ", [6, 8], [12, 8], true, 9113),
  matmulF16Case("[2, 3, 8] · [8, 4] (broadcast batch)", [2, 3, 8], [8, 4], false, 9115),
  conv1dF16Case("stride 2 and SAME padding", [2, 4, 9], [6, 4, 3], { stride: 2, padding: "same" }, 9121),
  conv1dF16Case("groups 4 (depthwise)", [2, 4, 10], [4, 1, 5], { padding: "same", groups: 4 }, 9125),
  {
    name: "conv2d of float16 operands matches the reference for stride [2, 1] and padding 1",
    inputs:
      () => [floatInput([1, 2, 6, 5], 9131, { grad: true }), floatInput([3, 2, 3, 3], 9132, { grad: true })],
    run: ([x, w]) => conv2d(half(x), half(w), null, { stride: [2, 1], padding: 1 }),
    expected: ([x, w]) => refConv2d(rounded(x), rounded(w), null, geo2d),
    expectedGrads: (ins) => {
      const f = ([x, w]: CaseInput[]) => refConv2d(x, w, null, geo2d);
      const r = ins.map(rounded);
      return [linearGrad(f, r, 0), linearGrad(f, r, 1)];
    },
    finiteDifferences: false,
    gradCheck: true,
    tolerance: TOLERANCE,
  },
];
