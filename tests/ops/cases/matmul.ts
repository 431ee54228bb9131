/**
 * Conformance cases of matmul (ops/matmul.ts): plain, transposed operands, broadcast batch
 * axes, and linear, against a float64 triple loop; gradients by finite differences.
 */
import { linear, matmul } from "../../../ops/matmul.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput, refBroadcastShape, refSize } from "../conformance/reference.ts";

/** op(A)·op(B) over broadcast batch axes, with A and B given as stored. */
export function refMatmul(a: CaseInput, b: CaseInput, transA = false, transB = false): Float64Array {
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac, n = transB ? br : bc;
  const batch = refBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const nb = refSize(batch);
  const out = new Float64Array(nb * m * n);
  const batchOffset = (shape: readonly number[], t: number): number => {
    // Index of batch entry t within an operand whose batch axes may be 1 (broadcast).
    const own = shape.slice(0, -2);
    let off = 0, rest = t, stride = 1;
    const idx: number[] = [];
    for (let ax = batch.length - 1; ax >= 0; ax--) {
      idx[ax] = rest % batch[ax];
      rest = Math.floor(rest / batch[ax]);
    }
    for (let ax = own.length - 1; ax >= 0; ax--) {
      const i = own[ax] === 1 ? 0 : idx[ax + batch.length - own.length];
      off += i * stride;
      stride *= own[ax];
    }
    return off;
  };
  for (let t = 0; t < nb; t++) {
    const ao = batchOffset(a.shape, t) * ar * ac, bo = batchOffset(b.shape, t) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += a.data[ao + (transA ? p * ac + i : i * ac + p)] *
            b.data[bo + (transB ? j * bc + p : p * bc + j)];
        }
        out[(t * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

/** The cases. */
export const cases: OpCase[] = [
  {
    name: "matmul of [3, 4] and [4, 5] matches the reference",
    inputs: () => [floatInput([3, 4], 7001, { grad: true }), floatInput([4, 5], 7002, { grad: true })],
    run: ([a, b]) => matmul(a, b),
    expected: ([a, b]) => refMatmul(a, b),
    gradCheck: true,
  },
  {
    name: "matmul with transA and transB matches the reference",
    inputs: () => [floatInput([4, 3], 7003, { grad: true }), floatInput([5, 4], 7004, { grad: true })],
    run: ([a, b]) => matmul(a, b, { transA: true, transB: true }),
    expected: ([a, b]) => refMatmul(a, b, true, true),
    gradCheck: true,
  },
  {
    name: "matmul broadcasts batch axes [2, 1, 3, 4] × [3, 4, 2]",
    inputs:
      () => [floatInput([2, 1, 3, 4], 7005, { grad: true }), floatInput([3, 4, 2], 7006, { grad: true })],
    run: ([a, b]) => matmul(a, b),
    expected: ([a, b]) => refMatmul(a, b),
    gradCheck: true,
  },
  {
    name: "matmul with transB over a batch of 3 matches the reference",
    inputs: () => [floatInput([3, 2, 5], 7007, { grad: true }), floatInput([3, 4, 5], 7008, { grad: true })],
    run: ([a, b]) => matmul(a, b, { transB: true }),
    expected: ([a, b]) => refMatmul(a, b, false, true),
    gradCheck: true,
  },
  {
    name: "linear folds leading axes: [2, 3, 4] · [5, 4]ᵀ + [5]",
    inputs: () => [
      floatInput([2, 3, 4], 7009, { grad: true }),
      floatInput([5, 4], 7010, { grad: true }),
      floatInput([5], 7011, { grad: true }),
    ],
    run: ([x, w, b]) => linear(x, w, b),
    expected: ([x, w, b]) => {
      const y = refMatmul({ ...x, shape: [6, 4] }, w, false, true);
      for (let i = 0; i < y.length; i++) y[i] += b.data[i % 5];
      return y;
    },
    gradCheck: true,
  },
];
