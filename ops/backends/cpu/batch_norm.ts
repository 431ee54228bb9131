/**
 * cpu kernels of batchNorm and batchNormBackward (ops/batch_norm.ts). x is read as
 * [N, C, S] (S = product of the axes after C); with lengths, sample n's valid positions are the
 * first min(len, T)·inner of its S, T = shape[2], inner = product of the axes after 2.
 * Statistics are accumulated in float64, two-pass (mean, then squared deviations).
 *
 * batchNorm writes the updated running statistics into the storage of its running-mean and
 * running-variance inputs (the documented in-place exception). Not here: anything else in place.
 */
import { registerKernel } from "../../op_registry.ts";
import { type BatchNormAttrs, type BatchNormBackwardAttrs, batchNormSlots } from "../../batch_norm.ts";
import type { Tensor } from "../../tensor.ts";
import { cpuData, cpuOutput } from "./backend.ts";

type Floats = Float32Array | Float64Array;

/** Valid positions of each sample within its per-channel block of S elements. */
function validCounts(x: Tensor, lengths: Tensor | null): Int32Array {
  const n = x.shape[0];
  const s = x.size / (n * x.shape[1] || 1);
  const out = new Int32Array(n).fill(s);
  if (!lengths) return out;
  const t = x.shape[2];
  const inner = s / t;
  const len = cpuData(lengths);
  for (let i = 0; i < n; i++) {
    const l = len[i] < 0 ? 0 : len[i] > t ? t : len[i];
    out[i] = l * inner;
  }
  return out;
}

// Reductions with four independent partial sums (a single float64 sum is latency-bound).

/** Σ a[p] for p in [from, to). */
function sumRange(a: Floats, from: number, to: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = from;
  for (; p + 3 < to; p += 4) {
    s0 += a[p];
    s1 += a[p + 1];
    s2 += a[p + 2];
    s3 += a[p + 3];
  }
  for (; p < to; p++) s0 += a[p];
  return (s0 + s1) + (s2 + s3);
}

/** Σ (a[p] - mean)² for p in [from, to). */
function sumSquaredDeviations(a: Floats, from: number, to: number, mean: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = from;
  for (; p + 3 < to; p += 4) {
    const d0 = a[p] - mean, d1 = a[p + 1] - mean, d2 = a[p + 2] - mean, d3 = a[p + 3] - mean;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; p < to; p++) s0 += (a[p] - mean) * (a[p] - mean);
  return (s0 + s1) + (s2 + s3);
}

/** Σ g[p]·(a[p] - mean) for p in [from, to). */
function sumProductDeviations(g: Floats, a: Floats, from: number, to: number, mean: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = from;
  for (; p + 3 < to; p += 4) {
    s0 += g[p] * (a[p] - mean);
    s1 += g[p + 1] * (a[p + 1] - mean);
    s2 += g[p + 2] * (a[p + 2] - mean);
    s3 += g[p + 3] * (a[p + 3] - mean);
  }
  for (; p < to; p++) s0 += g[p] * (a[p] - mean);
  return (s0 + s1) + (s2 + s3);
}

registerKernel<BatchNormAttrs>("batchNorm", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const x = inputs[0];
  const slots = batchNormSlots(attrs);
  const xd = cpuData(x) as Floats;
  const n = x.shape[0], c = x.shape[1];
  const s = n * c === 0 ? 0 : x.size / (n * c);
  const y = cpuOutput(backend, outputs[0].dtype, x.size) as Floats;
  const meanOut = cpuOutput(backend, outputs[1].dtype, c) as Floats;
  const invStdOut = cpuOutput(backend, outputs[2].dtype, c) as Floats;
  const rm = slots.runningMean >= 0 ? cpuData(inputs[slots.runningMean]) as Floats : null;
  const rv = slots.runningVar >= 0 ? cpuData(inputs[slots.runningVar]) as Floats : null;
  const w = slots.weight >= 0 ? cpuData(inputs[slots.weight]) as Floats : null;
  const b = slots.bias >= 0 ? cpuData(inputs[slots.bias]) as Floats : null;
  const valid = validCounts(x, slots.lengths >= 0 ? inputs[slots.lengths] : null);
  let count = 0;
  for (let i = 0; i < n; i++) count += valid[i];
  if (attrs.training && count <= 1 && c > 0) {
    throw new RangeError(`batchNorm: training needs more than 1 valid value per channel, got ${count}`);
  }
  const m = attrs.momentum;
  for (let ch = 0; ch < c; ch++) {
    let mean: number, variance: number;
    if (attrs.training) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const off = (i * c + ch) * s;
        sum += sumRange(xd, off, off + valid[i]);
      }
      mean = sum / count;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const off = (i * c + ch) * s;
        sq += sumSquaredDeviations(xd, off, off + valid[i], mean);
      }
      variance = sq / count;
      if (rm && rv) {
        rm[ch] = (1 - m) * rm[ch] + m * mean;
        rv[ch] = (1 - m) * rv[ch] + m * (sq / (count - 1));
      }
    } else {
      mean = rm![ch];
      variance = rv![ch];
    }
    const invStd = 1 / Math.sqrt(variance + attrs.eps);
    meanOut[ch] = mean;
    invStdOut[ch] = invStd;
    const scale = w ? w[ch] * invStd : invStd;
    const shift = (b ? b[ch] : 0) - mean * scale;
    for (let i = 0; i < n; i++) {
      const off = (i * c + ch) * s;
      const end = off + s;
      for (let p = off; p < end; p++) y[p] = xd[p] * scale + shift;
    }
  }
  return [y, meanOut, invStdOut];
});

registerKernel<BatchNormBackwardAttrs>("batchNormBackward", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const [dyT, x, meanT, invStdT] = inputs;
  let k = 4;
  const w = attrs.hasWeight ? cpuData(inputs[k++]) as Floats : null;
  const lengths = attrs.hasLengths ? inputs[k++] : null;
  const dy = cpuData(dyT) as Floats, xd = cpuData(x) as Floats;
  const meanA = cpuData(meanT) as Floats, invStdA = cpuData(invStdT) as Floats;
  const n = x.shape[0], c = x.shape[1];
  const s = n * c === 0 ? 0 : x.size / (n * c);
  const dx = cpuOutput(backend, outputs[0].dtype, x.size) as Floats;
  const dWeight = cpuOutput(backend, outputs[1].dtype, c) as Floats;
  const dBias = cpuOutput(backend, outputs[2].dtype, c) as Floats;
  const valid = validCounts(x, lengths);
  let count = 0;
  for (let i = 0; i < n; i++) count += valid[i];
  for (let ch = 0; ch < c; ch++) {
    const mean = meanA[ch], invStd = invStdA[ch];
    // Sums over every position: padded outputs depend on the statistics too.
    let sumDy = 0, sumDyXhat = 0;
    for (let i = 0; i < n; i++) {
      const off = (i * c + ch) * s;
      sumDy += sumRange(dy, off, off + s);
      sumDyXhat += sumProductDeviations(dy, xd, off, off + s, mean);
    }
    sumDyXhat *= invStd;
    dBias[ch] = sumDy;
    dWeight[ch] = sumDyXhat;
    const g = (w ? w[ch] : 1) * invStd;
    // dx = g·(dy - [valid]·(Σdy + x̂·Σdy·x̂)/M) in training; g·dy in eval.
    const a = attrs.training ? sumDy / count : 0;
    const bq = attrs.training ? (sumDyXhat / count) * invStd : 0;
    for (let i = 0; i < n; i++) {
      const off = (i * c + ch) * s;
      const mid = off + valid[i];
      const end = off + s;
      for (let p = off; p < mid; p++) dx[p] = g * (dy[p] - a - (xd[p] - mean) * bq);
      for (let p = mid; p < end; p++) dx[p] = g * dy[p];
    }
  }
  return [dx, dWeight, dBias];
});
