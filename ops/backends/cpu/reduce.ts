/**
 * cpu kernels of max, logsumexp, softmax, logSoftmax and their one-pass backward ops
 * (declared in ops/reduce.ts).
 * Reductions over one contiguous run of axes view the input as [outer, n, inner] and read it
 * in order; other axis sets map each input element to its output slot once (`outputSlots`).
 * softmax views the input as [outer, n, inner] around its axis. Accumulation is in float64.
 * Float32 softmax along a contiguous axis, and max over a contiguous run of axes, run in WASM
 * SIMD (wasm/softmax_wasm.ts, wasm/max_wasm.ts).
 *
 * Not here: sum (./reduce_sum.ts); the gradients of max and logsumexp (composed from other
 * ops in ops/reduce.ts).
 */
import { type Kernel, registerKernel } from "../../op_registry.ts";
import type { ReduceAttrs } from "../../reduce_sum.ts";
import type { SoftmaxAttrs } from "../../reduce.ts";
import { sizeOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { wasmSoftmax, wasmSoftmaxBackward } from "./wasm/softmax_wasm.ts";
import { wasmMax } from "./wasm/max_wasm.ts";

/** For each input element (row-major), the flat index of its slot in the reduced output. */
function outputSlots(shape: readonly number[], axes: readonly number[]): Int32Array {
  const size = sizeOf(shape);
  const slots = new Int32Array(size);
  const rank = shape.length;
  if (rank === 0 || size === 0) return slots;
  // Output strides over the input's axes: 0 along reduced axes.
  const ostr = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!axes.includes(i)) {
      ostr[i] = s;
      s *= shape[i];
    }
  }
  const idx = new Int32Array(rank);
  let o = 0;
  for (let f = 0; f < size; f++) {
    slots[f] = o;
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]++;
      o += ostr[ax];
      if (idx[ax] < shape[ax]) break;
      o -= ostr[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
  return slots;
}

/**
 * [outer, n, inner] when the reduced axes are one contiguous run (the usual case), so that
 * slot p·inner + q collects src[(p·n + k)·inner + q]; null otherwise.
 */
function contiguousSplit(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  if (axes.length === 0 || axes[axes.length - 1] - axes[0] !== axes.length - 1) return null;
  let outer = 1, n = 1, inner = 1;
  for (let i = 0; i < shape.length; i++) {
    if (i < axes[0]) outer *= shape[i];
    else if (i <= axes[axes.length - 1]) n *= shape[i];
    else inner *= shape[i];
  }
  return [outer, n, inner];
}

registerKernel<ReduceAttrs>("max", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const src = cpuData(x);
  const out = cpuOutput(backend, outputs[0].dtype, sizeOf(outputs[0].shape));
  out.fill(x.dtype === "int32" ? -2147483648 : -Infinity);
  // NaN propagates, as in PyTorch: once a slot holds NaN, no comparison replaces it.
  const split = contiguousSplit(x.shape, attrs.axes);
  if (wasmMax(src, out, split)) return [out];
  if (split) {
    const [outer, n, inner] = split;
    for (let p = 0; p < outer; p++) {
      const row = p * inner;
      for (let k = 0; k < n; k++) {
        const base = (p * n + k) * inner;
        for (let q = 0; q < inner; q++) {
          const v = src[base + q];
          if (v > out[row + q] || v !== v) out[row + q] = v;
        }
      }
    }
    return [out];
  }
  const slots = outputSlots(x.shape, attrs.axes);
  for (let i = 0; i < src.length; i++) {
    const o = slots[i];
    const v = src[i];
    if (v > out[o] || v !== v) out[o] = v;
  }
  return [out];
});

registerKernel<ReduceAttrs>("logsumexp", "cpu", ({ inputs: [x], attrs, outputs, backend }) => {
  const src = cpuData(x);
  const size = sizeOf(outputs[0].shape);
  const out = cpuOutput(backend, outputs[0].dtype, size);
  // Without a contiguous run of axes, every element's slot comes from a precomputed map.
  const split = contiguousSplit(x.shape, attrs.axes) ?? [1, src.length, 1];
  const slots = contiguousSplit(x.shape, attrs.axes) ? null : outputSlots(x.shape, attrs.axes);
  const [outer, n, inner] = split;
  const shift = new Float64Array(size).fill(-Infinity);
  for (let p = 0; p < outer; p++) {
    for (let k = 0; k < n; k++) {
      const base = (p * n + k) * inner;
      for (let q = 0; q < inner; q++) {
        const o = slots ? slots[base + q] : p * inner + q;
        if (src[base + q] > shift[o]) shift[o] = src[base + q];
      }
    }
  }
  // An all -Infinity (or empty) slot keeps shift 0 so that the sum is 0 and the result -Infinity.
  for (let o = 0; o < size; o++) {
    if (!Number.isFinite(shift[o])) {
      shift[o] = shift[o] === Infinity ? Infinity : 0;
    }
  }
  const acc = new Float64Array(size);
  for (let p = 0; p < outer; p++) {
    for (let k = 0; k < n; k++) {
      const base = (p * n + k) * inner;
      for (let q = 0; q < inner; q++) {
        const o = slots ? slots[base + q] : p * inner + q;
        acc[o] += Math.exp(src[base + q] - shift[o]);
      }
    }
  }
  for (let o = 0; o < size; o++) out[o] = shift[o] === Infinity ? Infinity : shift[o] + Math.log(acc[o]);
  return [out];
});

/** Views `shape` as [outer, n, inner] around `axis`. */
function aroundAxis(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

function softmaxKernel(isLog: boolean): Kernel<SoftmaxAttrs> {
  return ({ inputs: [x], attrs, outputs, backend }) => {
    const src = cpuData(x);
    const out = cpuOutput(backend, outputs[0].dtype, src.length);
    if (wasmSoftmax(isLog, src, out, x.shape, attrs.axis)) return [out];
    const [outer, n, inner] = aroundAxis(x.shape, attrs.axis);
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const base = p * n * inner + q;
        let m = -Infinity;
        for (let k = 0; k < n; k++) {
          const v = src[base + k * inner];
          if (v > m) m = v;
        }
        if (m === -Infinity) m = 0; // all -Infinity: exp gives 0s and the result is NaN, as in PyTorch
        let total = 0;
        if (isLog) {
          for (let k = 0; k < n; k++) total += Math.exp(src[base + k * inner] - m);
          const lse = m + Math.log(total);
          for (let k = 0; k < n; k++) out[base + k * inner] = src[base + k * inner] - lse;
        } else {
          // One exp per element: the exponentials wait in the output until the total is known.
          for (let k = 0; k < n; k++) {
            const e = Math.exp(src[base + k * inner] - m);
            out[base + k * inner] = e;
            total += e;
          }
          const inv = 1 / total;
          for (let k = 0; k < n; k++) out[base + k * inner] *= inv;
        }
      }
    }
    return [out];
  };
}

registerKernel<SoftmaxAttrs>("softmax", "cpu", softmaxKernel(false));
registerKernel<SoftmaxAttrs>("logSoftmax", "cpu", softmaxKernel(true));

/** One pass per line: s = Σ g·y (softmax) or Σ g (log-softmax), then dx from s. */
function softmaxBackwardKernel(isLog: boolean): Kernel<SoftmaxAttrs> {
  return ({ inputs: [gt, yt], attrs, outputs, backend }) => {
    const g = cpuData(gt), y = cpuData(yt);
    const out = cpuOutput(backend, outputs[0].dtype, g.length);
    if (wasmSoftmaxBackward(isLog, g, y, out, gt.shape, attrs.axis)) return [out];
    const [outer, n, inner] = aroundAxis(gt.shape, attrs.axis);
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const base = p * n * inner + q;
        let s = 0;
        if (isLog) {
          for (let k = 0; k < n; k++) s += g[base + k * inner];
          for (let k = 0; k < n; k++) {
            const i = base + k * inner;
            out[i] = g[i] - Math.exp(y[i]) * s;
          }
        } else {
          for (let k = 0; k < n; k++) s += g[base + k * inner] * y[base + k * inner];
          for (let k = 0; k < n; k++) {
            const i = base + k * inner;
            out[i] = y[i] * (g[i] - s);
          }
        }
      }
    }
    return [out];
  };
}

registerKernel<SoftmaxAttrs>("softmaxBackward", "cpu", softmaxBackwardKernel(false));
registerKernel<SoftmaxAttrs>("logSoftmaxBackward", "cpu", softmaxBackwardKernel(true));
