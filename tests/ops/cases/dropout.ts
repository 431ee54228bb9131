/**
 * Conformance cases of dropout (ops/dropout.ts). The reference replays the documented draw
 * (one Rng uniform per element, row-major, dropped when u < p) with a generator of the same
 * seed, so every backend must drop exactly these elements; the gradient goes through the
 * same mask.
 */
import { dropout } from "../../../ops/dropout.ts";
import { Rng } from "../../../ops/random.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput } from "../conformance/reference.ts";

function refDropout(x: CaseInput, p: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from(x.data, (v) => (rng.uniform() < p ? 0 : v / (1 - p)));
}

/** The dropout family's cases. */
export const cases: OpCase[] = [
  ...[0.1, 0.5, 0.9].map((p, k): OpCase => ({
    name: `dropout with p ${p} drops the seeded elements and scales the rest by 1/(1-p)`,
    inputs: () => [floatInput([4, 6], 6001 + k, { grad: true })],
    run: ([x]) => dropout(x, p, { rng: new Rng(42 + k) }),
    expected: ([x]) => refDropout(x, p, 42 + k),
  })),
  {
    name: "dropout in evaluation mode returns its input unchanged",
    inputs: () => [floatInput([3, 3], 6010, { grad: true })],
    run: ([x]) => dropout(x, 0.5, { training: false }),
    expected: ([x]) => Float64Array.from(x.data),
  },
  {
    name: "dropout with p 1 zeroes everything",
    inputs: () => [floatInput([2, 3], 6011, { grad: true })],
    run: ([x]) => dropout(x, 1, { rng: new Rng(1) }),
    expected: () => new Float64Array(6),
  },
];
