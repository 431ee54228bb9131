/**
 * Conformance cases of batchNorm (ops/batch_norm.ts) against a float64 reference written
 * from the definition (mean and biased variance over N and the spatial axes, or over the
 * valid frames only when lengths are given), with finite-difference gradient checks of x,
 * weight and bias, and the in-place running-statistics update. PyTorch fixture checks are in
 * tests/ops/batch_norm_test.ts.
 */
import { batchNorm } from "../../../ops/batch_norm.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput, intInput } from "../conformance/reference.ts";

interface RefOptions {
  training: boolean;
  momentum: number;
  eps: number;
  lengths?: number[];
}

/** y, and the running statistics after the call. */
function refBatchNorm(
  x: CaseInput,
  rm: CaseInput | null,
  rv: CaseInput | null,
  w: CaseInput | null,
  b: CaseInput | null,
  o: RefOptions,
): { y: Float64Array; rm: Float64Array | null; rv: Float64Array | null } {
  const [n, c] = x.shape;
  const s = x.data.length / (n * c);
  const t = x.shape[2] ?? 1;
  const inner = s / t;
  const isValid = (ni: number, p: number): boolean =>
    !o.lengths || Math.floor(p / inner) < Math.min(o.lengths[ni], t);
  const y = new Float64Array(x.data.length);
  const rmOut = rm ? Float64Array.from(rm.data) : null;
  const rvOut = rv ? Float64Array.from(rv.data) : null;
  for (let ch = 0; ch < c; ch++) {
    let mean = 0, variance = 0;
    if (o.training) {
      const vals: number[] = [];
      for (let ni = 0; ni < n; ni++) {
        for (let p = 0; p < s; p++) if (isValid(ni, p)) vals.push(x.data[(ni * c + ch) * s + p]);
      }
      mean = vals.reduce((p, q) => p + q, 0) / vals.length;
      const ss = vals.reduce((p, q) => p + (q - mean) ** 2, 0);
      variance = ss / vals.length;
      if (rmOut && rvOut) {
        rmOut[ch] = (1 - o.momentum) * rmOut[ch] + o.momentum * mean;
        rvOut[ch] = (1 - o.momentum) * rvOut[ch] + o.momentum * ss / (vals.length - 1);
      }
    } else {
      mean = rm!.data[ch];
      variance = rv!.data[ch];
    }
    for (let ni = 0; ni < n; ni++) {
      for (let p = 0; p < s; p++) {
        const i = (ni * c + ch) * s + p;
        const xhat = (x.data[i] - mean) / Math.sqrt(variance + o.eps);
        y[i] = xhat * (w ? w.data[ch] : 1) + (b ? b.data[ch] : 0);
      }
    }
  }
  return { y, rm: rmOut, rv: rvOut };
}

function positive(shape: number[], seed: number): CaseInput {
  return floatInput(shape, seed, { low: 0.5, high: 1.5 });
}

/** The batch norm family's cases. */
export const cases: OpCase[] = [
  {
    name: "batchNorm in training normalises [N, C, T] by the batch statistics",
    inputs: () => [
      floatInput([3, 2, 4], 8001, { grad: true }),
      floatInput([2], 8002, { low: 0.5, high: 1.5, grad: true }),
      floatInput([2], 8003, { grad: true }),
    ],
    run: ([x, w, b]) => batchNorm(x, null, null, w, b, { training: true, eps: 1e-3 }),
    expected: ([x, w, b]) =>
      refBatchNorm(x, null, null, w, b, { training: true, momentum: 0.1, eps: 1e-3 }).y,
  },
  {
    name: "batchNorm in training normalises [N, C, H, W] without weight and bias",
    inputs: () => [floatInput([2, 3, 2, 3], 8011, { grad: true })],
    run: ([x]) => batchNorm(x, null, null, null, null, { training: true }),
    expected: ([x]) =>
      refBatchNorm(x, null, null, null, null, { training: true, momentum: 0.1, eps: 1e-5 }).y,
  },
  {
    name: "batchNorm in eval normalises by the running statistics",
    inputs: () => [
      floatInput([2, 3, 4], 8021, { grad: true }),
      floatInput([3], 8022),
      positive([3], 8023),
      floatInput([3], 8024, { grad: true }),
      floatInput([3], 8025, { grad: true }),
    ],
    run: ([x, rm, rv, w, b]) => batchNorm(x, rm, rv, w, b, { training: false, eps: 1e-3 }),
    expected: ([x, rm, rv, w, b]) =>
      refBatchNorm(x, rm, rv, w, b, { training: false, momentum: 0.1, eps: 1e-3 }).y,
  },
  {
    name: "batchNorm in training updates the running statistics in place with the unbiased variance",
    inputs: () => [floatInput([2, 3, 5], 8031), floatInput([3], 8032), positive([3], 8033)],
    run: ([x, rm, rv]) => [batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3 }), rm, rv],
    expected: ([x, rm, rv]) => {
      const r = refBatchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3, eps: 1e-5 });
      return [r.y, r.rm!, r.rv!];
    },
  },
  {
    name: "batchNorm with lengths takes the statistics over the valid frames of [N, C, T] only",
    inputs: () => [
      floatInput([3, 2, 5], 8041, { grad: true }),
      floatInput([2], 8042, { grad: true }),
      floatInput([2], 8043, { grad: true }),
      intInput([5, 2, 3], [3]),
    ],
    run: ([x, w, b, len]) => batchNorm(x, null, null, w, b, { training: true, lengths: len }),
    expected: ([x, w, b]) =>
      refBatchNorm(x, null, null, w, b, { training: true, momentum: 0.1, eps: 1e-5, lengths: [5, 2, 3] }).y,
  },
  {
    name: "batchNorm with lengths masks the time axis of [N, C, T, F] and updates running statistics",
    inputs: () => [
      floatInput([2, 2, 4, 3], 8051),
      floatInput([2], 8052),
      positive([2], 8053),
      intInput([1, 4], [2]),
    ],
    run: ([x, rm, rv, len]) => [
      batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5, lengths: len }),
      rm,
      rv,
    ],
    expected: ([x, rm, rv]) => {
      const r = refBatchNorm(x, rm, rv, null, null, {
        training: true,
        momentum: 0.5,
        eps: 1e-5,
        lengths: [1, 4],
      });
      return [r.y, r.rm!, r.rv!];
    },
  },
  {
    name: "batchNorm gradients flow through masked statistics of [N, C, T, F]",
    inputs: () => [floatInput([2, 2, 3, 2], 8061, { grad: true }), intInput([2, 3], [2])],
    run: ([x, len]) => batchNorm(x, null, null, null, null, { training: true, lengths: len }),
    expected: ([x]) =>
      refBatchNorm(x, null, null, null, null, { training: true, momentum: 0.1, eps: 1e-5, lengths: [2, 3] })
        .y,
  },
];
