/**
 * Conformance cases of the padding masks (ops/masks.ts): sequenceMask, maskedFill and
 * applySequenceMask on the [N, C, T], [N, T, C] and [T, N, C] layouts.
 */
import { applySequenceMask, maskedFill, sequenceMask } from "../../../ops/masks.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput, floatValues, intInput, torchCase, unravel } from "../conformance/reference.ts";

function refSequenceMask(lengths: ArrayLike<number>, maxLen: number): Float64Array {
  const out = new Float64Array(lengths.length * maxLen);
  for (let n = 0; n < lengths.length; n++) {
    for (let t = 0; t < maxLen; t++) out[n * maxLen + t] = t < lengths[n] ? 1 : 0;
  }
  return out;
}

/** x with positions at or past lengths[n] along (batchAxis, timeAxis) set to value. */
function refApply(
  x: CaseInput,
  lengths: number[],
  batchAxis: number,
  timeAxis: number,
  value: number,
): Float64Array {
  return Float64Array.from(x.data, (v, f) => {
    const i = unravel(f, x.shape);
    return i[timeAxis] < lengths[i[batchAxis]] ? v : value;
  });
}

const layouts: [string, number[], number, number][] = [
  ["[N, C, T]", [3, 2, 5], 0, 2],
  ["[N, T, C]", [3, 5, 2], 0, 1],
  ["[T, N, C]", [5, 3, 2], 1, 0],
];
const lengths = [5, 2, 0];

/** The mask family's cases. */
export const cases: OpCase[] = [
  {
    name: "sequenceMask is 1 before each length and 0 after",
    inputs: () => [intInput([3, 0, 5, 1], [4])],
    run: ([l]) => sequenceMask(l, 5),
    expected: ([l]) => refSequenceMask(l.data, 5),
  },
  {
    name: "sequenceMask gives a full row for a length beyond maxLen",
    inputs: () => [intInput([7, 2], [2])],
    run: ([l]) => sequenceMask(l, 4),
    expected: () => refSequenceMask([4, 2], 4),
  },
  {
    name: "maskedFill puts the value where the mask is set and passes gradients elsewhere",
    inputs: () => [floatInput([2, 4], 5001, { grad: true }), floatValues([0, 1, 0, 1, 1, 0, 0, 0], [2, 4])],
    run: ([x, m]) => maskedFill(x, m, -3),
    expected: ([x, m]) => Float64Array.from(x.data, (v, i) => (m.data[i] !== 0 ? -3 : v)),
  },
  {
    name: "maskedFill broadcasts a [N, 1, T] mask over channels",
    inputs:
      () => [floatInput([2, 3, 4], 5002, { grad: true }), floatValues([0, 0, 1, 1, 0, 1, 1, 1], [2, 1, 4])],
    run: ([x, m]) => maskedFill(x, m, 0),
    expected: ([x, m]) =>
      Float64Array.from(x.data, (v, f) => {
        const [n, , t] = unravel(f, x.shape);
        return m.data[n * 4 + t] !== 0 ? 0 : v;
      }),
  },
  ...layouts.map(([desc, shape, b, t], k): OpCase => ({
    name: `applySequenceMask zeroes padded frames of a ${desc} activation`,
    inputs: () => [floatInput(shape, 5010 + k, { grad: true }), intInput(lengths, [3])],
    run: ([x, l]) => applySequenceMask(x, sequenceMask(l, 5), { batchAxis: b, timeAxis: t }),
    expected: ([x]) => refApply(x, lengths, b, t, 0),
  })),
  {
    name: "applySequenceMask fills padded frames with a given value",
    inputs: () => [floatInput([2, 3, 4], 5020, { grad: true }), intInput([1, 3], [2])],
    run: ([x, l]) => applySequenceMask(x, sequenceMask(l, 4), { value: -1e4 }),
    expected: ([x]) => refApply(x, [1, 3], 0, 2, -1e4),
  },
  {
    name: "sequenceMask makes an int32 mask when asked",
    inputs: () => [intInput([2, 0, 4], [3])],
    run: ([l]) => sequenceMask(l, 4, { dtype: "int32" }),
    expected: ([l]) => refSequenceMask(l.data, 4),
  },
  {
    name: "sequenceMask of 300 lengths over 70 frames matches the reference",
    inputs: () => [intInput(Array.from({ length: 300 }, (_, n) => (n * 37) % 90), [300])],
    run: ([l]) => sequenceMask(l, 70),
    expected: ([l]) => refSequenceMask(l.data, 70),
  },
  {
    name: "sequenceMask of [2, 3] lengths gives a [2, 3, T] mask",
    inputs: () => [intInput([1, 4, 0, 3, 2, 5], [2, 3])],
    run: ([l]) => sequenceMask(l, 4),
    expected: ([l]) => refSequenceMask(l.data, 4),
  },
  torchCase("general.json", "masked_fill with a broadcast mask", { run: ([x, m]) => maskedFill(x, m, -2) }),
];
