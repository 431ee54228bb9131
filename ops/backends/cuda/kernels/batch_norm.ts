/**
 * cuda kernels of batchNorm and batchNormBackward (ops/batch_norm.ts), written here rather
 * than with cuDNN because of the masked statistics (`lengths`), which cuDNN has no form of.
 * x is read as [N, C, S] (S = product of the axes after C); with lengths, sample n's valid
 * positions are the first min(len, T)·inner of its S, as in the cpu kernel. One block per
 * channel: its threads accumulate in double (as the cpu does), combine in shared memory, and
 * thread 0 updates the running statistics in place (the documented in-place exception).
 *
 * Forward is two passes for the statistics (mean, then squared deviations) and one to write
 * y; backward one pass for Σdy and Σdy·x̂, one to write dx.
 *
 * Not here: the cpu's RangeError for a channel with at most one valid value (a device kernel
 * cannot throw without a read-back: the variance comes out Inf or NaN there instead).
 */
import { type BatchNormAttrs, type BatchNormBackwardAttrs, batchNormSlots } from "../../../batch_norm.ts";
import { registerKernel } from "../../../op_registry.ts";
import type { Tensor } from "../../../tensor.ts";
import { argPtr, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, packWords } from "./cuda_c.ts";

const FILE = "ops/backends/cuda/kernels/batch_norm.ts";

const COMMON =
  `struct Meta { unsigned n; unsigned c; unsigned s; unsigned t; unsigned inner; unsigned flags; float momentum; float eps; };
#define HAS_RUNNING 1u
#define HAS_WEIGHT 2u
#define HAS_BIAS 4u
#define HAS_LENGTHS 8u
#define TRAINING 16u
__device__ __forceinline__ unsigned valid_of(const int* lengths, unsigned i, const Meta& m) {
  if (!(m.flags & HAS_LENGTHS)) return m.s;
  int l = lengths[i];
  unsigned lc = l < 0 ? 0u : ((unsigned)l > m.t ? m.t : (unsigned)l);
  return lc * m.inner;
}
__device__ double block_sum(double v, double* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  double r = buf[0];
  __syncthreads();
  return r;
}
`;

/** CUDA C of the forward kernel `bn_forward(y, mean, invStd, x, runMean, runVar, weight, bias, lengths, Meta)`. */
export function batchNormForwardSource(): string {
  return `${COMMON}
extern "C" __global__ void bn_forward(float* __restrict__ y, float* __restrict__ meanOut, float* __restrict__ invStdOut,
    const float* __restrict__ x, float* runMean, float* runVar, const float* weight, const float* bias,
    const int* lengths, Meta m) {
  __shared__ double buf[${BLOCK}];
  for (unsigned ch = blockIdx.x; ch < m.c; ch += gridDim.x) {
    float mean, variance;
    if (m.flags & TRAINING) {
      double sum = 0, count = 0;
      for (unsigned i = 0; i < m.n; i++) {
        unsigned v = valid_of(lengths, i, m);
        const float* row = x + ((size_t)i * m.c + ch) * m.s;
        for (unsigned p = threadIdx.x; p < v; p += blockDim.x) sum += row[p];
        count += v;
      }
      sum = block_sum(sum, buf);
      double mu = sum / count;
      double sq = 0;
      for (unsigned i = 0; i < m.n; i++) {
        unsigned v = valid_of(lengths, i, m);
        const float* row = x + ((size_t)i * m.c + ch) * m.s;
        for (unsigned p = threadIdx.x; p < v; p += blockDim.x) { double d = row[p] - mu; sq += d * d; }
      }
      sq = block_sum(sq, buf);
      mean = (float)mu;
      variance = (float)(sq / count);
      if (threadIdx.x == 0 && (m.flags & HAS_RUNNING)) {
        runMean[ch] = (1.0f - m.momentum) * runMean[ch] + m.momentum * mean;
        runVar[ch] = (1.0f - m.momentum) * runVar[ch] + m.momentum * (float)(sq / (count - 1));
      }
    } else {
      mean = runMean[ch];
      variance = runVar[ch];
    }
    float invStd = 1.0f / sqrtf(variance + m.eps);
    if (threadIdx.x == 0) { meanOut[ch] = mean; invStdOut[ch] = invStd; }
    float scale = (m.flags & HAS_WEIGHT) ? weight[ch] * invStd : invStd;
    float shift = ((m.flags & HAS_BIAS) ? bias[ch] : 0.0f) - mean * scale;
    for (unsigned i = 0; i < m.n; i++) {
      size_t off = ((size_t)i * m.c + ch) * m.s;
      for (unsigned p = threadIdx.x; p < m.s; p += blockDim.x) y[off + p] = x[off + p] * scale + shift;
    }
  }
}
`;
}

/** CUDA C of the backward kernel `bn_backward(dx, dWeight, dBias, dy, x, mean, invStd, weight, lengths, Meta)`. */
export function batchNormBackwardSource(): string {
  return `${COMMON}
extern "C" __global__ void bn_backward(float* __restrict__ dx, float* __restrict__ dWeight, float* __restrict__ dBias,
    const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ meanIn,
    const float* __restrict__ invStdIn, const float* weight, const int* lengths, Meta m) {
  __shared__ double buf[${BLOCK}];
  for (unsigned ch = blockIdx.x; ch < m.c; ch += gridDim.x) {
    float mean = meanIn[ch], invStd = invStdIn[ch];
    double sumDy = 0, sumDyX = 0, count = 0;
    // Sums over every position: padded outputs depend on the statistics too.
    for (unsigned i = 0; i < m.n; i++) {
      size_t off = ((size_t)i * m.c + ch) * m.s;
      for (unsigned p = threadIdx.x; p < m.s; p += blockDim.x) {
        double g = dy[off + p];
        sumDy += g;
        sumDyX += g * (x[off + p] - mean);
      }
      count += valid_of(lengths, i, m);
    }
    sumDy = block_sum(sumDy, buf);
    sumDyX = block_sum(sumDyX, buf) * invStd;
    if (threadIdx.x == 0) { dBias[ch] = (float)sumDy; dWeight[ch] = (float)sumDyX; }
    float g = ((m.flags & HAS_WEIGHT) ? weight[ch] : 1.0f) * invStd;
    bool training = (m.flags & TRAINING) != 0;
    float a = training ? (float)(sumDy / count) : 0.0f;
    float bq = training ? (float)(sumDyX / count) * invStd : 0.0f;
    for (unsigned i = 0; i < m.n; i++) {
      size_t off = ((size_t)i * m.c + ch) * m.s;
      unsigned v = valid_of(lengths, i, m);
      for (unsigned p = threadIdx.x; p < m.s; p += blockDim.x) {
        float d = dy[off + p];
        dx[off + p] = p < v ? g * (d - a - (x[off + p] - mean) * bq) : g * d;
      }
    }
  }
}
`;
}

function geometry(x: Tensor): number[] {
  const n = x.shape[0], c = x.shape[1];
  const s = n * c === 0 ? 0 : x.size / (n * c);
  const t = x.rank >= 3 ? x.shape[2] : 1;
  return [n, c, s, t, t === 0 ? 0 : s / t];
}

function requireFloat32(x: Tensor): void {
  if (x.dtype !== "float32") throw new TypeError(`${FILE}: batchNorm on cuda needs float32, got ${x.dtype}`);
}

registerKernel<BatchNormAttrs>("batchNorm", "cuda", ({ inputs, attrs, backend }) => {
  const cuda = cudaBackend(backend);
  const x = inputs[0];
  requireFloat32(x);
  const slots = batchNormSlots(attrs);
  const c = x.shape[1];
  const y = cuda.alloc("float32", x.size) as CudaStorage;
  const mean = cuda.alloc("float32", c) as CudaStorage;
  const invStd = cuda.alloc("float32", c) as CudaStorage;
  if (c === 0) return [y, mean, invStd];
  const opt = (i: number) => (i >= 0 ? argPtr(cudaStorage(inputs[i])) : { ptr: 0n });
  const flags = (attrs.hasRunning ? 1 : 0) | (attrs.hasWeight ? 2 : 0) | (attrs.hasBias ? 4 : 0) |
    (attrs.hasLengths ? 8 : 0) | (attrs.training ? 16 : 0);
  const fn = cuda.kernel("batchNorm", "bn_forward", batchNormForwardSource);
  cuda.launch(fn, [Math.min(c, 65535)], BLOCK, [
    argPtr(y),
    argPtr(mean),
    argPtr(invStd),
    argPtr(cudaStorage(x)),
    opt(slots.runningMean),
    opt(slots.runningVar),
    opt(slots.weight),
    opt(slots.bias),
    opt(slots.lengths),
    { bytes: packWords([...geometry(x), flags, attrs.momentum, attrs.eps], [6, 7]) },
  ]);
  return [y, mean, invStd];
});

registerKernel<BatchNormBackwardAttrs>("batchNormBackward", "cuda", ({ inputs, attrs, backend }) => {
  const cuda = cudaBackend(backend);
  const [dy, x, mean, invStd] = inputs;
  requireFloat32(x);
  let k = 4;
  const weight = attrs.hasWeight ? argPtr(cudaStorage(inputs[k++])) : { ptr: 0n };
  const lengths = attrs.hasLengths ? argPtr(cudaStorage(inputs[k++])) : { ptr: 0n };
  const c = x.shape[1];
  const dx = cuda.alloc("float32", x.size) as CudaStorage;
  const dWeight = cuda.alloc("float32", c) as CudaStorage;
  const dBias = cuda.alloc("float32", c) as CudaStorage;
  if (c === 0) return [dx, dWeight, dBias];
  const flags = (attrs.hasWeight ? 2 : 0) | (attrs.hasLengths ? 8 : 0) | (attrs.training ? 16 : 0);
  const fn = cuda.kernel("batchNormBackward", "bn_backward", batchNormBackwardSource);
  cuda.launch(fn, [Math.min(c, 65535)], BLOCK, [
    argPtr(dx),
    argPtr(dWeight),
    argPtr(dBias),
    argPtr(cudaStorage(dy)),
    argPtr(cudaStorage(x)),
    argPtr(cudaStorage(mean)),
    argPtr(cudaStorage(invStd)),
    weight,
    lengths,
    { bytes: packWords([...geometry(x), flags, 0, 0], [6, 7]) },
  ]);
  return [dx, dWeight, dBias];
});
