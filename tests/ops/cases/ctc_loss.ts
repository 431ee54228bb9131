/**
 * Conformance cases of `ctcLoss` (ops/ctc_loss.ts), run on every backend:
 * - every case of torch.nn.functional.ctc_loss in float64 (tests/fixtures/ops/make_ctc.py):
 *   the loss and PyTorch's gradient w.r.t. the log-probs themselves (padded and concatenated
 *   targets, repeated labels, each reduction, an empty target, infeasible alignments with and
 *   without zeroInfinity, unnormalised log-probs, a non-zero blank, peaked distributions; the
 *   2000-frame case through a checksum of the gradient). That gradient is not the derivative
 *   (PyTorch adds exp(lp), which a log_softmax in front cancels), so these cases skip finite
 *   differences and the fixture is the reference;
 * - larger cases against a float64 reference written from the definition (Graves et al. 2006,
 *   §4.1), with finite-difference gradients through a log-softmax in front: 200 frames with
 *   50 labels, a batch of 8 with mixed lengths, padded targets and blank 3, and infeasible
 *   alignments (Infinity and a NaN gradient; 0 and 0 with zeroInfinity).
 * The log-softmax is written with exp, log and sum so that these cases need no logSoftmax
 * kernel: they test ctcLoss alone on every backend.
 *
 * Not here: argument errors, lengths as tensors, targets as numbers (tests/ops/ctc_loss_test.ts).
 */
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput, intInput, seededValues } from "../conformance/reference.ts";
import { ctcLoss, ctcLossOp, type CtcReduction } from "../../../ops/ctc_loss.ts";
import { exp, log, mul, sub } from "../../../ops/elementwise.ts";
import { sum } from "../../../ops/reduce_sum.ts";
import { runOp } from "../../../ops/tape.ts";
import type { Tensor } from "../../../ops/tensor.ts";

/** A number of the fixture; non-finite values are stored as strings. */
export type FixtureNumber = number | "Infinity" | "-Infinity" | "NaN";

/** One case of tests/fixtures/ops/ctc_reference.json. */
export interface CtcFixtureCase {
  name: string;
  /** Inputs; "formula" means x[i] = 3 sin(0.37 i) + cos(1.3 i). */
  x: { shape: [number, number, number]; data: FixtureNumber[] | "formula" };
  targets: { shape: number[]; data: number[] };
  inputLengths: number[];
  targetLengths: number[];
  blank: number;
  reduction: CtcReduction;
  zeroInfinity: boolean;
  /** log_probs = log_softmax(x) when true, x itself when false. */
  normalised: boolean;
  loss: FixtureNumber[];
  gradLogProbs?: FixtureNumber[];
  gradX?: FixtureNumber[];
  /** Σ gradLogProbs[i] · sin(0.3 i), for the long case. */
  gradLogProbsDot?: number;
}

/** Decodes the fixture's number encoding. */
export function fixtureNumbers(list: readonly FixtureNumber[]): Float64Array {
  return Float64Array.from(list, (v) => (typeof v === "number" ? v : Number(v)));
}

/** The inputs x of a fixture case. */
export function fixtureX(fx: CtcFixtureCase): Float64Array {
  if (fx.x.data !== "formula") return fixtureNumbers(fx.x.data);
  const [T, N, C] = fx.x.shape;
  const x = new Float64Array(T * N * C);
  for (let i = 0; i < x.length; i++) x[i] = 3 * Math.sin(0.37 * i) + Math.cos(1.3 * i);
  return x;
}

/** log_softmax over the last axis (of length C) in float64. */
export function logSoftmaxHost(x: Float64Array, C: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += C) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[o + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[o + c] - m);
    const l = m + Math.log(s);
    for (let c = 0; c < C; c++) out[o + c] = x[o + c] - l;
  }
  return out;
}

/** The log_probs the fixture passed to torch: log_softmax(x) or x. */
export function fixtureLogProbs(fx: CtcFixtureCase): Float64Array {
  const x = fixtureX(fx);
  return fx.normalised ? logSoftmaxHost(x, fx.x.shape[2]) : x;
}

/** The fixture's cases. */
export function ctcFixture(): CtcFixtureCase[] {
  const text = Deno.readTextFileSync(new URL("../../fixtures/ops/ctc_reference.json", import.meta.url));
  return (JSON.parse(text) as { cases: CtcFixtureCase[] }).cases;
}

/** The fixture's loss and gradient w.r.t. the log-probs (its loss weights are gradWeights(0, N)). */
function fixtureCase(fx: CtcFixtureCase): OpCase {
  return {
    name: `ctcLoss matches torch's loss and gradient w.r.t. the log-probs for ${fx.name}`,
    inputs: (): CaseInput[] => [
      { data: fixtureLogProbs(fx), shape: fx.x.shape, dtype: "float", grad: true },
      { data: Int32Array.from(fx.targets.data), shape: fx.targets.shape, dtype: "int32" },
    ],
    run: ([lp, targets]: Tensor[]): Tensor =>
      ctcLoss(lp, targets, fx.inputLengths, fx.targetLengths, {
        blank: fx.blank,
        reduction: fx.reduction,
        zeroInfinity: fx.zeroInfinity,
      }),
    expected: () => fixtureNumbers(fx.loss),
    expectedGrads: () => [fixtureNumbers(fx.gradLogProbs!), null],
    finiteDifferences: false,
    tolerance: { float32: 1e-4, float64: 1e-9 },
  };
}

/**
 * The long fixture case: its gradient is stored as Σ_i g_i · sin(0.3 i) with g the gradient of
 * sin(1) · loss, so the case computes that sum on the device from the op's gradient output.
 */
function fixtureChecksumCase(fx: CtcFixtureCase): OpCase {
  const [T, N, C] = fx.x.shape;
  return {
    name: `ctcLoss matches torch's loss and a checksum of its gradient for ${fx.name}`,
    inputs: (): CaseInput[] => [
      { data: fixtureLogProbs(fx), shape: fx.x.shape, dtype: "float" },
      { data: Int32Array.from(fx.targets.data), shape: fx.targets.shape, dtype: "int32" },
      {
        data: Float64Array.from({ length: T * N * C }, (_, i) => Math.sin(0.3 * i)),
        shape: fx.x.shape,
        dtype: "float",
      },
    ],
    run: ([lp, targets, w]: Tensor[]): Tensor[] => {
      const [nll, grad] = runOp(ctcLossOp, [lp, targets], {
        inputLengths: fx.inputLengths,
        targetLengths: fx.targetLengths,
        blank: fx.blank,
        zeroInfinity: fx.zeroInfinity,
        computeGrad: true,
      });
      return [nll, sum(mul(grad, w))];
    },
    expected: () => [fixtureNumbers(fx.loss), Float64Array.of(fx.gradLogProbsDot! / Math.sin(1))],
    tolerance: { float32: 1e-4, float64: 1e-9 },
  };
}

// ---- float64 reference from the definition -------------------------------------------------

function logAdd(values: readonly number[]): number {
  const m = Math.max(...values);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
}

/** -log p(labels | lp[:, n, :]) over the first `frames` frames, by the alpha recursion. */
function refNll(
  lp: Float64Array,
  dims: number[],
  n: number,
  frames: number,
  labels: number[],
  blank: number,
): number {
  const [, N, C] = dims;
  const ext = [blank];
  for (const l of labels) ext.push(l, blank);
  const S = ext.length;
  if (frames === 0) return labels.length === 0 ? 0 : Infinity;
  const at = (t: number, s: number): number => lp[(t * N + n) * C + ext[s]];
  let alpha = ext.map((_, s) => (s < 2 ? at(0, s) : -Infinity));
  for (let t = 1; t < frames; t++) {
    alpha = ext.map((label, s) => {
      const from = [alpha[s]];
      if (s >= 1) from.push(alpha[s - 1]);
      if (s >= 2 && label !== blank && label !== ext[s - 2]) from.push(alpha[s - 2]);
      return logAdd(from) + at(t, s);
    });
  }
  return -logAdd(S > 1 ? [alpha[S - 1], alpha[S - 2]] : [alpha[0]]);
}

interface Batch {
  dims: [number, number, number];
  /** Padded [N, S]; padding holds -1, which no kernel may read. */
  targets: number[][];
  inputLengths: number[];
  blank: number;
}

/** Per-sample nll of log_softmax(x) for the batch, reduced as ctcLoss does. */
function refLoss(x: CaseInput, b: Batch, reduction: CtcReduction, zeroInfinity: boolean): Float64Array {
  const lp = logSoftmaxHost(Float64Array.from(x.data), b.dims[2]);
  const nll = b.targets.map((labels, n) => {
    const v = refNll(lp, b.dims, n, b.inputLengths[n], labels, b.blank);
    return zeroInfinity && v === Infinity ? 0 : v;
  });
  if (reduction === "none") return Float64Array.from(nll);
  if (reduction === "sum") return Float64Array.of(nll.reduce((p, q) => p + q, 0));
  const mean = nll.reduce((p, v, n) => p + v / Math.max(1, b.targets[n].length), 0) / nll.length;
  return Float64Array.of(mean);
}

/** log_softmax over the last axis from exp, log and sum (kernels every backend has). */
function logSoftmaxOfMaps(x: Tensor): Tensor {
  return sub(x, log(sum(exp(x), -1, { keepDims: true })));
}

/** Labels 0..C-1 except the blank, seeded; with few classes, repeats (also adjacent ones) are common. */
function seededLabels(seed: number, length: number, C: number, blank: number): number[] {
  return Array.from(seededValues(seed, length, { low: 0, high: C - 1 }), (v) => {
    const l = Math.floor(v);
    return l >= blank ? l + 1 : l;
  });
}

function paddedTargets(b: Batch): CaseInput {
  const width = Math.max(1, ...b.targets.map((t) => t.length));
  const data = new Int32Array(b.targets.length * width).fill(-1);
  b.targets.forEach((t, n) => data.set(t, n * width));
  return intInput(data, [b.targets.length, width]);
}

/** A case of `b` against the reference, gradients by finite differences through the log-softmax. */
function batchCase(
  name: string,
  b: Batch,
  seed: number,
  options: { reduction: CtcReduction; zeroInfinity?: boolean; tolerance?: OpCase["tolerance"] },
): OpCase {
  const zeroInfinity = options.zeroInfinity ?? false;
  return {
    name,
    inputs: () => [floatInput(b.dims, seed, { low: -2, high: 2, grad: true }), paddedTargets(b)],
    run: ([x, targets]) =>
      ctcLoss(logSoftmaxOfMaps(x), targets, b.inputLengths, b.targets.map((t) => t.length), {
        blank: b.blank,
        reduction: options.reduction,
        zeroInfinity,
      }),
    expected: ([x]) => refLoss(x, b, options.reduction, zeroInfinity),
    tolerance: options.tolerance,
  };
}

const long: Batch = {
  dims: [200, 2, 6],
  targets: [seededLabels(9101, 50, 6, 0), seededLabels(9102, 43, 6, 0)],
  inputLengths: [200, 181],
  blank: 0,
};

const mixed: Batch = {
  dims: [40, 8, 7],
  targets: [12, 10, 5, 0, 8, 3, 15, 1].map((l, n) => seededLabels(9201 + n, l, 7, 3)),
  inputLengths: [40, 33, 17, 40, 25, 9, 38, 1],
  blank: 3,
};

/** Sample 0 needs 5 frames for [1, 1, 1] but has 4; sample 1 (empty target) has a closed form. */
const infeasible: Batch = { dims: [6, 2, 4], targets: [[1, 1, 1], []], inputLengths: [4, 5], blank: 0 };

/**
 * The op's outputs for `infeasible` with their closed forms: sample 0 has loss Infinity and a
 * NaN gradient on its 4 frames (0 and 0 with zeroInfinity); sample 1's only path is all blanks,
 * so its loss is -Σ_t lp[t, blank] and its gradient exp(lp) - [c = blank] on its 5 frames.
 * Every frame past a sample's length has gradient 0.
 */
function infeasibleCase(zeroInfinity: boolean): OpCase {
  const [T, N, C] = infeasible.dims;
  return {
    name: zeroInfinity
      ? "ctcLoss gives 0 and a zero gradient for an infeasible alignment with zeroInfinity"
      : "ctcLoss gives Infinity and a NaN gradient for an infeasible alignment",
    inputs: () => {
      const x = floatInput(infeasible.dims, 9301, { low: -2, high: 2 });
      return [{ ...x, data: logSoftmaxHost(Float64Array.from(x.data), C) }, paddedTargets(infeasible)];
    },
    run: ([lp, targets]) =>
      runOp(ctcLossOp, [lp, targets], {
        inputLengths: infeasible.inputLengths,
        targetLengths: infeasible.targets.map((t) => t.length),
        blank: infeasible.blank,
        zeroInfinity,
        computeGrad: true,
      }),
    expected: ([lp]) => {
      const nll = Float64Array.of(zeroInfinity ? 0 : Infinity, 0);
      const grad = new Float64Array(T * N * C);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) {
          const i0 = (t * N) * C + c, i1 = (t * N + 1) * C + c;
          if (t < infeasible.inputLengths[0]) grad[i0] = zeroInfinity ? 0 : NaN;
          if (t < infeasible.inputLengths[1]) {
            grad[i1] = Math.exp(lp.data[i1]) - (c === infeasible.blank ? 1 : 0);
            if (c === infeasible.blank) nll[1] -= lp.data[i1];
          }
        }
      }
      return [nll, grad];
    },
  };
}

const fixture = ctcFixture();

/** ctcLoss cases. */
export const cases: OpCase[] = [
  ...fixture.filter((fx) => fx.gradLogProbs).map(fixtureCase),
  ...fixture.filter((fx) => !fx.gradLogProbs).map(fixtureChecksumCase),
  batchCase("ctcLoss over 200 frames with 50 labels (repeats among them) matches the reference", long, 9100, {
    reduction: "sum",
  }),
  batchCase(
    "ctcLoss of a batch of 8 with mixed lengths, padded targets and blank 3 matches the reference",
    mixed,
    9200,
    {
      reduction: "mean",
    },
  ),
  batchCase(
    "ctcLoss with zeroInfinity drops an infeasible sample from the summed loss and its gradient",
    infeasible,
    9300,
    { reduction: "sum", zeroInfinity: true },
  ),
  infeasibleCase(false),
  infeasibleCase(true),
];
