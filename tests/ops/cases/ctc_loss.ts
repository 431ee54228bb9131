/**
 * Conformance cases of `ctcLoss` (ops/ctc_loss.ts) against torch.nn.functional.ctc_loss in
 * float64 (tests/fixtures/ops/make_ctc.py): padded and concatenated targets, repeated labels,
 * each reduction, an empty target, infeasible alignments with and without zeroInfinity, a
 * non-zero blank and peaked distributions. Normalised cases run logSoftmax in front of the
 * loss, where PyTorch's gradient is the true derivative, so finite differences check it too.
 *
 * Not here: the gradient w.r.t. unnormalised log-probs (PyTorch's formula, not a derivative),
 * the 2000-frame case and argument errors (tests/ops/ctc_loss_test.ts).
 */
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { ctcLoss, type CtcReduction } from "../../../ops/ctc_loss.ts";
import { logSoftmax } from "../../../ops/reduce.ts";
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

/** The fixture's cases. */
export function ctcFixture(): CtcFixtureCase[] {
  const text = Deno.readTextFileSync(new URL("../../fixtures/ops/ctc_reference.json", import.meta.url));
  return (JSON.parse(text) as { cases: CtcFixtureCase[] }).cases;
}

function ctcCase(fx: CtcFixtureCase): OpCase {
  // Finite differences see the derivative; PyTorch's gradient equals it only behind a
  // log_softmax, and an infinite loss has none.
  const differentiable = fx.normalised && !fx.loss.some((v) => v === "Infinity");
  return {
    name: `ctcLoss matches torch for ${fx.name}`,
    inputs: (): CaseInput[] => [
      { data: fixtureX(fx), shape: fx.x.shape, dtype: "float", grad: differentiable },
      { data: Int32Array.from(fx.targets.data), shape: fx.targets.shape, dtype: "int32" },
    ],
    run: ([x, targets]: Tensor[]): Tensor =>
      ctcLoss(fx.normalised ? logSoftmax(x, -1) : x, targets, fx.inputLengths, fx.targetLengths, {
        blank: fx.blank,
        reduction: fx.reduction,
        zeroInfinity: fx.zeroInfinity,
      }),
    expected: () => fixtureNumbers(fx.loss),
    expectedGrads: differentiable ? () => [fixtureNumbers(fx.gradX!), null] : undefined,
    tolerance: { float32: 1e-4, float64: 1e-9 },
    gradCheck: differentiable,
  };
}

/** ctcLoss cases. */
export const cases: OpCase[] = ctcFixture().filter((fx) => fx.x.data !== "formula").map(ctcCase);
