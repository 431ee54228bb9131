/**
 * The conformance case format: one op case as data, run by tests/ops/conformance/harness.ts on
 * every backend present. Op families list their cases in tests/ops/cases/<family>.ts
 * (`export const cases: OpCase[]`) and add one export line to tests/ops/cases/mod.ts.
 *
 * Adding a case (inputs from reference.ts helpers; the reference must not call the kernels):
 * ```ts
 * {
 *   name: "relu matches the reference on a [2, 3] tensor",
 *   inputs: () => [floatInput([2, 3], 1, { grad: true, awayFrom: [0] })],
 *   run: ([x]) => relu(x),
 *   expected: (inputs) => refElementwise(inputs, (x) => Math.max(x, 0)),
 * }
 * ```
 * For PyTorch fixtures use `torchCase(file, name, run)` (reference.ts); fixture scripts get
 * the gradient-check weights from finite_diff.ts's formula. Run one backend only with
 * `CONFORMANCE_BACKENDS=webgpu ./deno test -A tests/ops/conformance_test.ts`.
 *
 * Not here: running cases (harness.ts), references (reference.ts), finite differences
 * (finite_diff.ts).
 */
import type { Tensor } from "../../../ops/tensor.ts";

/** One op case: inputs, the op(s) under test, and what they must produce. */
export interface OpCase {
  /** Reads as a sentence: "conv1d matches the reference for stride 2 and groups 4". */
  name: string;
  /** Deterministic inputs. Float inputs are float64 data, cast to each backend's dtype; `grad` marks inputs to differentiate. */
  inputs: () => CaseInput[];
  /** Runs the op(s) under test on tensors made from the inputs; returns the output(s) to compare. */
  run: (inputs: Tensor[]) => Tensor | Tensor[];
  /** Expected outputs: a float64 TypeScript reference implementation (independent of the kernels) and/or committed PyTorch fixture values. */
  expected: (inputs: CaseInput[]) => Float64Array | Float64Array[];
  /** Expected gradients of sum(output_k * weights_k) w.r.t. each `grad` input, from a fixture (optional; checked on every backend; finite differences also run on cpu float64 unless `finiteDifferences` is false). */
  expectedGrads?: (inputs: CaseInput[]) => (Float64Array | null)[];
  /** Max abs error allowed relative to max(1, |expected|), per dtype/backend. */
  tolerance?: { float32?: number; float64?: number; webgpu?: number };
  /** Backward checks: finite differences (central, float64, eps 1e-6) on cpu; other backends compare gradients with cpu. */
  gradCheck?: boolean;
  /**
   * Set false when the op's gradient is by definition not the derivative of its output (PyTorch's
   * CTC gradient w.r.t. log-probs that are not renormalised), so finite differences cannot
   * check it: `expectedGrads` must then be given, and is the reference on every backend.
   */
  finiteDifferences?: boolean;
}

/** One input of a case. */
export interface CaseInput {
  data: Float64Array | Int32Array;
  shape: number[];
  dtype: "float" | "int32";
  grad?: boolean;
}

/** Default tolerances when a case gives none (max abs error relative to max(1, |expected|)). */
export const defaultTolerance = { float32: 1e-4, float64: 1e-9, webgpu: 1e-3 } as const;
