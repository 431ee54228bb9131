/**
 * cuda kernel of `ctcLoss` (ops/ctc_loss.ts): the alpha-beta recursions of Graves et al.
 * (2006) §4.1 in log space, written here (cuDNN's cudnnCTCLoss limits label lengths and has no
 * zero_infinity, and its gradient convention differs from PyTorch's, which the op follows).
 *
 * Kernel 1, one block per sample: the block's threads cover the S = 2L + 1 states of the
 * extended target; alpha runs forward over the sample's frames and beta backward, one frame per
 * step with a barrier between steps, into [N, T, Smax] workspaces; thread 0 writes the
 * negative log-likelihood. Kernel 2, one block per (frame, sample): for each class c the
 * log-sum of α_t(s)·β_t(s) over the states labelled c gives PyTorch's gradient
 * exp(lp) − exp(log Σ αβ + nll − lp); frames past the input length get 0, and with
 * zeroInfinity an infeasible sample gets loss 0 and gradient 0.
 *
 * Accumulation is f32 (the cpu uses float64), so losses of long utterances differ from the
 * cpu's in the last digits.
 */
import { type CtcLossAttrs, ctcLossDims } from "../../../ctc_loss.ts";
import { registerKernel } from "../../../op_registry.ts";
import { argPtr, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, packWords } from "./cuda_c.ts";

const FILE = "ops/backends/cuda/kernels/ctc_loss.ts";

const COMMON = `#define NEG_INF (-__int_as_float(0x7f800000))
struct Meta { unsigned T; unsigned N; unsigned C; unsigned maxS; unsigned blank; unsigned zeroInfinity; };
__device__ __forceinline__ float lse2(float a, float b) {
  float m = fmaxf(a, b);
  if (m == NEG_INF) return NEG_INF;
  return m + log1pf(expf(fminf(a, b) - m));
}
// samples[n] = { input length, target length, offset of the labels in targets }
__device__ __forceinline__ int label_of(const int* targets, const int* sample, unsigned s, unsigned blank) {
  return (s & 1u) ? targets[sample[2] + (s >> 1)] : (int)blank;
}
`;

/** CUDA C of the alpha-beta kernel `ctc_alpha_beta(alpha, beta, nll, lp, targets, samples, Meta)`. */
export function ctcAlphaBetaSource(): string {
  return `${COMMON}
extern "C" __global__ void ctc_alpha_beta(float* __restrict__ alpha, float* __restrict__ beta, float* __restrict__ nll,
    const float* __restrict__ lp, const int* __restrict__ targets, const int* __restrict__ samples, Meta m) {
  unsigned n = blockIdx.x;
  const int* sample = samples + 3 * n;
  unsigned Tn = (unsigned)sample[0], L = (unsigned)sample[1], S = 2 * L + 1;
  float* a = alpha + (size_t)n * m.T * m.maxS;
  float* b = beta + (size_t)n * m.T * m.maxS;
  const size_t frame = (size_t)m.N * m.C;
  const float* lpn = lp + (size_t)n * m.C;
  if (Tn == 0) {
    if (threadIdx.x == 0) nll[n] = L == 0 ? 0.0f : -NEG_INF;
    return;
  }
  for (unsigned s = threadIdx.x; s < S; s += blockDim.x) {
    a[s] = s < 2 ? lpn[label_of(targets, sample, s, m.blank)] : NEG_INF;
  }
  __syncthreads();
  for (unsigned t = 1; t < Tn; t++) {
    const float* prev = a + (size_t)(t - 1) * m.maxS;
    float* cur = a + (size_t)t * m.maxS;
    for (unsigned s = threadIdx.x; s < S; s += blockDim.x) {
      int l = label_of(targets, sample, s, m.blank);
      float v = prev[s];
      if (s >= 1) v = lse2(v, prev[s - 1]);
      if (s >= 2 && l != (int)m.blank && l != label_of(targets, sample, s - 2, m.blank)) v = lse2(v, prev[s - 2]);
      cur[s] = v == NEG_INF ? NEG_INF : v + lpn[t * frame + l];
    }
    __syncthreads();
  }
  float* last = b + (size_t)(Tn - 1) * m.maxS;
  for (unsigned s = threadIdx.x; s < S; s += blockDim.x) {
    last[s] = s + 2 >= S ? lpn[(Tn - 1) * frame + label_of(targets, sample, s, m.blank)] : NEG_INF;
  }
  __syncthreads();
  for (int t = (int)Tn - 2; t >= 0; t--) {
    const float* next = b + (size_t)(t + 1) * m.maxS;
    float* cur = b + (size_t)t * m.maxS;
    for (unsigned s = threadIdx.x; s < S; s += blockDim.x) {
      int l = label_of(targets, sample, s, m.blank);
      float v = next[s];
      if (s + 1 < S) v = lse2(v, next[s + 1]);
      if (s + 2 < S && l != (int)m.blank && l != label_of(targets, sample, s + 2, m.blank)) v = lse2(v, next[s + 2]);
      cur[s] = v == NEG_INF ? NEG_INF : v + lpn[(size_t)t * frame + l];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const float* end = a + (size_t)(Tn - 1) * m.maxS;
    float ll = S >= 2 ? lse2(end[S - 1], end[S - 2]) : end[S - 1];
    nll[n] = -ll;
  }
}
`;
}

/** CUDA C of the gradient kernel `ctc_grad(grad, loss, alpha, beta, nll, lp, targets, samples, Meta)`. */
export function ctcGradSource(): string {
  return `${COMMON}
extern "C" __global__ void ctc_grad(float* __restrict__ grad, float* __restrict__ loss, const float* __restrict__ alpha,
    const float* __restrict__ beta, const float* __restrict__ nll, const float* __restrict__ lp,
    const int* __restrict__ targets, const int* __restrict__ samples, Meta m) {
  unsigned t = blockIdx.x, n = blockIdx.y;
  const int* sample = samples + 3 * n;
  unsigned Tn = (unsigned)sample[0], L = (unsigned)sample[1], S = 2 * L + 1;
  float sampleNll = nll[n];
  bool zeroed = m.zeroInfinity && isinf(sampleNll);
  if (t == 0 && threadIdx.x == 0) loss[n] = zeroed ? 0.0f : sampleNll;
  if (grad == 0 || t >= m.T) return;
  size_t base = ((size_t)t * m.N + n) * m.C;
  const float* a = alpha + ((size_t)n * m.T + t) * m.maxS;
  const float* b = beta + ((size_t)n * m.T + t) * m.maxS;
  for (unsigned c = threadIdx.x; c < m.C; c += blockDim.x) {
    if (t >= Tn || zeroed) { grad[base + c] = 0.0f; continue; }
    float acc = NEG_INF;
    for (unsigned s = (c == m.blank ? 0u : 1u); s < S; s += (c == m.blank ? 2u : 1u)) {
      if (label_of(targets, sample, s, m.blank) == (int)c) acc = lse2(acc, a[s] + b[s]);
    }
    float l = lp[base + c];
    grad[base + c] = expf(l) - expf(acc + sampleNll - l);
  }
}
`;
}

registerKernel<CtcLossAttrs>("ctcLoss", "cuda", ({ inputs: [logProbs, targets], attrs, backend }) => {
  const cuda = cudaBackend(backend);
  if (logProbs.dtype !== "float32") {
    throw new TypeError(`${FILE}: ctcLoss on cuda needs float32, got ${logProbs.dtype}`);
  }
  const { T, N, C, targetOffsets } = ctcLossDims(logProbs, targets, attrs);
  const loss = cuda.alloc("float32", N) as CudaStorage;
  const grad = cuda.alloc("float32", attrs.computeGrad ? T * N * C : 0) as CudaStorage;
  if (N === 0) return [loss, grad];
  const maxS = Math.max(1, ...attrs.targetLengths.map((l) => 2 * l + 1));
  const samples = new Int32Array(3 * N);
  for (let n = 0; n < N; n++) {
    samples.set([attrs.inputLengths[n], attrs.targetLengths[n], targetOffsets[n]], 3 * n);
  }
  const sampleStore = cuda.upload(samples) as CudaStorage;
  const workspace = Math.max(1, N * T * maxS);
  const alpha = cuda.alloc("float32", workspace) as CudaStorage;
  const beta = cuda.alloc("float32", workspace) as CudaStorage;
  const nll = cuda.alloc("float32", N) as CudaStorage;
  // A zero-length targets tensor has no device block worth reading: any valid pointer will do.
  const targetPtr = targets.size > 0 ? argPtr(cudaStorage(targets)) : argPtr(sampleStore);
  const meta = { bytes: packWords([T, N, C, maxS, attrs.blank, attrs.zeroInfinity ? 1 : 0]) };
  try {
    const ab = cuda.kernel("ctcAlphaBeta", "ctc_alpha_beta", ctcAlphaBetaSource);
    cuda.launch(ab, [N], BLOCK, [
      argPtr(alpha),
      argPtr(beta),
      argPtr(nll),
      argPtr(cudaStorage(logProbs)),
      targetPtr,
      argPtr(sampleStore),
      meta,
    ]);
    const g = cuda.kernel("ctcGrad", "ctc_grad", ctcGradSource);
    // Without a gradient only frame 0's blocks run, and they only write the losses.
    cuda.launch(g, [attrs.computeGrad ? Math.max(1, T) : 1, N], 64, [
      attrs.computeGrad ? argPtr(grad) : { ptr: 0n },
      argPtr(loss),
      argPtr(alpha),
      argPtr(beta),
      argPtr(nll),
      argPtr(cudaStorage(logProbs)),
      targetPtr,
      argPtr(sampleStore),
      meta,
    ]);
  } finally {
    // Stream order keeps these alive until the kernels above have run.
    for (const s of [sampleStore, alpha, beta, nll]) cuda.free(s);
  }
  return [loss, grad];
});
