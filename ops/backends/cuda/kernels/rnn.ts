/**
 * cuda kernels of `gruLayer`, `lstmLayer` and their backward ops (ops/rnn.ts), with the cpu
 * kernel's structure (ops/backends/cpu/rnn.ts) on the device: per direction the input
 * projections of all T·N frames are one cuBLAS GEMM; each time step is one GEMM
 * [N, H]×[H, G·H] plus one gate kernel (a thread per (sequence, unit)). Backward keeps the gate
 * gradients of every step, so dx, dW_ih and dW_hh are three large GEMMs and the bias gradients
 * a GEMM with a row of ones; only dh flows step by step. Rows past a sequence's length take
 * part in the step GEMMs but their state is left untouched and their gate gradients stay 0.
 *
 * The weights keep PyTorch's layout and gate order (no conversion to cuDNN's packed blob).
 *
 * Not here: cuDNN's persistent RNN kernels, running the two directions on two streams.
 */
import { registerKernel } from "../../../op_registry.ts";
import type { RnnLayerAttrs, RnnLayerBackwardAttrs } from "../../../rnn.ts";
import type { Tensor } from "../../../tensor.ts";
import { argPtr, type CudaBackend, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, packWords } from "./cuda_c.ts";
import { deviceGemm } from "./matmul.ts";

const FILE = "ops/backends/cuda/kernels/rnn.ts";

// Meta of every RNN kernel: t, T, N, H, D, d (the direction), in this order.
const META = `struct Meta { unsigned t; unsigned T; unsigned N; unsigned H; unsigned D; unsigned d; };
__device__ __forceinline__ float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }
`;

/** CUDA C of the GRU forward step `gru_step(h, y, ws, gi, gh, bIh, bHh, lengths, Meta)`. */
export function gruStepSource(): string {
  return `${META}
extern "C" __global__ void gru_step(float* h, float* y, float* ws, const float* gi, const float* gh,
    const float* bIh, const float* bHh, const int* lengths, Meta m) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= m.N * m.H) return;
  unsigned b = i / m.H, j = i % m.H, H = m.H, G = 3 * H;
  if (m.t >= (unsigned)lengths[b]) return; // y stays 0; h keeps its value
  size_t gio = ((size_t)m.t * m.N + b) * G, gho = (size_t)b * G;
  float r = sigm(gi[gio + j] + bIh[j] + gh[gho + j] + bHh[j]);
  float z = sigm(gi[gio + H + j] + bIh[H + j] + gh[gho + H + j] + bHh[H + j]);
  float hn = gh[gho + 2 * H + j] + bHh[2 * H + j];
  float n = tanhf(gi[gio + 2 * H + j] + bIh[2 * H + j] + r * hn);
  float hv = (1.0f - z) * n + z * h[i];
  h[i] = hv;
  y[((size_t)m.t * m.N + b) * m.D * H + m.d * H + j] = hv;
  size_t wo = (((size_t)m.d * m.T + m.t) * m.N + b) * 4 * H;
  ws[wo + j] = r;
  ws[wo + H + j] = z;
  ws[wo + 2 * H + j] = n;
  ws[wo + 3 * H + j] = hn;
}
`;
}

/** CUDA C of the LSTM forward step `lstm_step(h, c, y, ws, gi, gh, bIh, bHh, lengths, Meta)`. */
export function lstmStepSource(): string {
  return `${META}
extern "C" __global__ void lstm_step(float* h, float* c, float* y, float* ws, const float* gi, const float* gh,
    const float* bIh, const float* bHh, const int* lengths, Meta m) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= m.N * m.H) return;
  unsigned b = i / m.H, j = i % m.H, H = m.H, G = 4 * H;
  if (m.t >= (unsigned)lengths[b]) return;
  size_t gio = ((size_t)m.t * m.N + b) * G, gho = (size_t)b * G;
  float ig = sigm(gi[gio + j] + bIh[j] + gh[gho + j] + bHh[j]);
  float fg = sigm(gi[gio + H + j] + bIh[H + j] + gh[gho + H + j] + bHh[H + j]);
  float gg = tanhf(gi[gio + 2 * H + j] + bIh[2 * H + j] + gh[gho + 2 * H + j] + bHh[2 * H + j]);
  float og = sigm(gi[gio + 3 * H + j] + bIh[3 * H + j] + gh[gho + 3 * H + j] + bHh[3 * H + j]);
  float cv = fg * c[i] + ig * gg;
  float hv = og * tanhf(cv);
  c[i] = cv;
  h[i] = hv;
  y[((size_t)m.t * m.N + b) * m.D * H + m.d * H + j] = hv;
  size_t wo = (((size_t)m.d * m.T + m.t) * m.N + b) * 5 * H;
  ws[wo + j] = ig;
  ws[wo + H + j] = fg;
  ws[wo + 2 * H + j] = gg;
  ws[wo + 3 * H + j] = og;
  ws[wo + 4 * H + j] = cv;
}
`;
}

/**
 * CUDA C of `previous_states(hp, y, h0, lengths, Meta)`: hp [T·N, H] gets the state each valid
 * step started from (h0 at a sequence's first processed frame, else the direction's previous
 * output), 0 past the length.
 */
export function previousStatesSource(): string {
  return `${META}
extern "C" __global__ void previous_states(float* hp, const float* y, const float* h0, const int* lengths, Meta m) {
  size_t total = (size_t)m.T * m.N * m.H;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    unsigned j = i % m.H, b = (i / m.H) % m.N, t = i / ((size_t)m.H * m.N);
    unsigned L = (unsigned)lengths[b];
    if (t >= L) { hp[i] = 0.0f; continue; }
    bool reverse = m.d == 1;
    bool first = reverse ? t == L - 1 : t == 0;
    hp[i] = first ? h0[((size_t)m.d * m.N + b) * m.H + j]
                  : y[((size_t)(reverse ? t + 1 : t - 1) * m.N + b) * m.D * m.H + m.d * m.H + j];
  }
}
`;
}

/** CUDA C of the GRU backward step `gru_step_back(dgi, dgh, dh, dy, ws, hp, lengths, Meta)`. */
export function gruStepBackSource(): string {
  return `${META}
extern "C" __global__ void gru_step_back(float* dgi, float* dgh, float* dh, const float* dy, const float* ws,
    const float* hp, const int* lengths, Meta m) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= m.N * m.H) return;
  unsigned b = i / m.H, j = i % m.H, H = m.H, G = 3 * H;
  if (m.t >= (unsigned)lengths[b]) return; // dh passes through unchanged
  size_t go = ((size_t)m.t * m.N + b) * G, po = ((size_t)m.t * m.N + b) * H;
  size_t wo = (((size_t)m.d * m.T + m.t) * m.N + b) * 4 * H;
  float r = ws[wo + j], z = ws[wo + H + j], n = ws[wo + 2 * H + j], hn = ws[wo + 3 * H + j];
  float g = dh[i] + dy[((size_t)m.t * m.N + b) * m.D * H + m.d * H + j];
  float dnPre = g * (1.0f - z) * (1.0f - n * n);
  float dzPre = g * (hp[po + j] - n) * z * (1.0f - z);
  float drPre = dnPre * hn * r * (1.0f - r);
  dgi[go + j] = drPre;
  dgi[go + H + j] = dzPre;
  dgi[go + 2 * H + j] = dnPre;
  dgh[go + j] = drPre;
  dgh[go + H + j] = dzPre;
  dgh[go + 2 * H + j] = dnPre * r;
  dh[i] = g * z; // the direct path h' = ... + z·h; the GEMM after this kernel adds the rest
}
`;
}

/** CUDA C of the LSTM backward step `lstm_step_back(dg, dh, dc, dy, ws, c0, lengths, Meta)`. */
export function lstmStepBackSource(): string {
  return `${META}
extern "C" __global__ void lstm_step_back(float* dg, float* dh, float* dc, const float* dy, const float* ws,
    const float* c0, const int* lengths, Meta m) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= m.N * m.H) return;
  unsigned b = i / m.H, j = i % m.H, H = m.H, G = 4 * H, W = 5 * H;
  unsigned L = (unsigned)lengths[b];
  if (m.t >= L) return;
  bool reverse = m.d == 1;
  bool first = reverse ? m.t == L - 1 : m.t == 0;
  size_t go = ((size_t)m.t * m.N + b) * G;
  size_t wo = (((size_t)m.d * m.T + m.t) * m.N + b) * W;
  // The cell state this step started from: c0, or the previous processed step's c.
  float cp = first ? c0[((size_t)m.d * m.N + b) * H + j]
                   : ws[(((size_t)m.d * m.T + (reverse ? m.t + 1 : m.t - 1)) * m.N + b) * W + 4 * H + j];
  float ig = ws[wo + j], fg = ws[wo + H + j], gg = ws[wo + 2 * H + j], og = ws[wo + 3 * H + j];
  float tc = tanhf(ws[wo + 4 * H + j]);
  float gH = dh[i] + dy[((size_t)m.t * m.N + b) * m.D * H + m.d * H + j];
  float gC = dc[i] + gH * og * (1.0f - tc * tc);
  dg[go + j] = gC * gg * ig * (1.0f - ig);
  dg[go + H + j] = gC * cp * fg * (1.0f - fg);
  dg[go + 2 * H + j] = gC * ig * (1.0f - gg * gg);
  dg[go + 3 * H + j] = gH * tc * og * (1.0f - og);
  dc[i] = gC * fg;
  dh[i] = 0.0f; // h reaches the next step only through the gates: the GEMM after this kernel
}
`;
}

/** Every RNN kernel: cache key, entry and source (for kernel_sources.ts and the launches). */
export const RNN_KERNELS = {
  gruStep: { entry: "gru_step", source: gruStepSource },
  lstmStep: { entry: "lstm_step", source: lstmStepSource },
  previousStates: { entry: "previous_states", source: previousStatesSource },
  gruStepBack: { entry: "gru_step_back", source: gruStepBackSource },
  lstmStepBack: { entry: "lstm_step_back", source: lstmStepBackSource },
} as const;

type RnnKernelName = keyof typeof RNN_KERNELS;

/** Launch helpers bound to one backend and one call's sizes. */
function context(
  cuda: CudaBackend,
  dims: { T: number; N: number; H: number; D: number },
  lengths: readonly number[] | null,
) {
  const { T, N, H, D } = dims;
  const d0 = cuda.driver;
  const lengthStore = cuda.upload(
    Int32Array.from({ length: N }, (_, b) => lengths ? lengths[b] : T),
  ) as CudaStorage;
  const temps: CudaStorage[] = [lengthStore];
  return {
    lengths: lengthStore,
    temp(size: number, zero = false): CudaStorage {
      const s = cuda.alloc("float32", Math.max(1, size)) as CudaStorage;
      temps.push(s);
      if (zero) this.zero(s, size);
      return s;
    },
    zero(s: CudaStorage, size: number, offset = 0): void {
      if (size > 0) {
        d0.check(
          d0.api.cuMemsetD32Async(s.ptr + BigInt(offset) * 4n, 0, BigInt(size), cuda.stream),
          "cuMemsetD32Async",
        );
      }
    },
    fillOnes(s: CudaStorage, size: number): void {
      if (size > 0) {
        d0.check(d0.api.cuMemsetD32Async(s.ptr, 0x3f800000, BigInt(size), cuda.stream), "cuMemsetD32Async");
      }
    },
    copy(dst: CudaStorage, dstOffset: number, src: CudaStorage, srcOffset: number, size: number): void {
      if (size === 0) return;
      d0.check(
        d0.api.cuMemcpyDtoDAsync_v2(
          dst.ptr + BigInt(dstOffset) * 4n,
          src.ptr + BigInt(srcOffset) * 4n,
          BigInt(size * 4),
          cuda.stream,
        ),
        "cuMemcpyDtoDAsync_v2",
      );
    },
    run(name: RnnKernelName, threads: number, t: number, d: number, buffers: (CudaStorage | bigint)[]): void {
      const k = RNN_KERNELS[name];
      const fn = cuda.kernel(`rnn|${name}`, k.entry, k.source);
      cuda.launch(fn, [blocksFor(threads)], BLOCK, [...buffers.map((b) => argPtr(b)), {
        bytes: packWords([t, T, N, H, D, d]),
      }]);
    },
    /** Returns the scratch blocks (and the lengths) to the cache; stream order keeps them alive long enough. */
    release(): void {
      for (const s of temps) cuda.free(s);
    },
  };
}

function requireFloat32(x: Tensor, op: string): void {
  if (x.dtype !== "float32") throw new TypeError(`${FILE}: ${op} on cuda needs float32, got ${x.dtype}`);
}

/** Forward of one layer; `isLstm` selects the cell (and the c state and 5H reserve). */
function forward(
  cuda: CudaBackend,
  inputs: readonly Tensor[],
  attrs: RnnLayerAttrs,
  isLstm: boolean,
): CudaStorage[] {
  const x = inputs[0];
  requireFloat32(x, isLstm ? "lstmLayer" : "gruLayer");
  const [T, N, I] = x.shape;
  const H = inputs[1].shape[2];
  const D = attrs.bidirectional ? 2 : 1;
  const G = (isLstm ? 4 : 3) * H, W = (isLstm ? 5 : 4) * H, states = isLstm ? 2 : 1;
  const y = cuda.alloc("float32", T * N * D * H) as CudaStorage;
  const hN = cuda.alloc("float32", D * N * H) as CudaStorage;
  const cN = isLstm ? (cuda.alloc("float32", D * N * H) as CudaStorage) : null;
  const ws = cuda.alloc("float32", D * T * N * W) as CudaStorage;
  const k = context(cuda, { T, N, H, D }, attrs.lengths);
  try {
    k.zero(y, T * N * D * H);
    k.zero(ws, D * T * N * W);
    const gi = k.temp(T * N * G), gh = k.temp(N * G), h = k.temp(N * H), c = isLstm ? k.temp(N * H) : null;
    for (let d = 0; d < D; d++) {
      const o = 1 + states + 4 * d;
      const [wIh, wHh, bIh, bHh] = [0, 1, 2, 3].map((i) => cudaStorage(inputs[o + i]));
      deviceGemm(
        cuda,
        false,
        true,
        { m: T * N, n: G, k: I },
        1,
        { ptr: cudaStorage(x).ptr, ld: I },
        { ptr: wIh.ptr, ld: I },
        0,
        { ptr: gi.ptr, ld: G },
      );
      k.copy(h, 0, cudaStorage(inputs[1]), d * N * H, N * H);
      if (c) k.copy(c, 0, cudaStorage(inputs[2]), d * N * H, N * H);
      for (let step = 0; step < T; step++) {
        const t = d === 1 ? T - 1 - step : step;
        deviceGemm(
          cuda,
          false,
          true,
          { m: N, n: G, k: H },
          1,
          { ptr: h.ptr, ld: H },
          { ptr: wHh.ptr, ld: H },
          0,
          { ptr: gh.ptr, ld: G },
        );
        if (c) k.run("lstmStep", N * H, t, d, [h, c, y, ws, gi, gh, bIh, bHh, k.lengths]);
        else k.run("gruStep", N * H, t, d, [h, y, ws, gi, gh, bIh, bHh, k.lengths]);
      }
      k.copy(hN, d * N * H, h, 0, N * H);
      if (c && cN) k.copy(cN, d * N * H, c, 0, N * H);
    }
  } finally {
    k.release();
  }
  return cN ? [y, hN, cN, ws] : [y, hN, ws];
}

/** Backward of one layer: outputs [dx, dh0, (dc0,) then dw_ih, dw_hh, db_ih, db_hh per direction]. */
function backward(
  cuda: CudaBackend,
  inputs: readonly Tensor[],
  attrs: RnnLayerBackwardAttrs,
  isLstm: boolean,
): CudaStorage[] {
  // GRU inputs: x, h0, y, ws, dy, dhN, weights; LSTM: x, h0, c0, y, ws, dy, dhN, dcN, weights.
  const [x, h0] = inputs;
  const c0 = isLstm ? inputs[2] : null;
  const at = isLstm ? 3 : 2;
  const [y, ws, dy, dhN] = [inputs[at], inputs[at + 1], inputs[at + 2], inputs[at + 3]].map(cudaStorage);
  const dcN = isLstm ? cudaStorage(inputs[7]) : null;
  const wFirst = isLstm ? 8 : 6;
  requireFloat32(x, isLstm ? "lstmLayerBackward" : "gruLayerBackward");
  const [T, N, I] = x.shape;
  const H = h0.shape[2];
  const D = attrs.bidirectional ? 2 : 1;
  const G = (isLstm ? 4 : 3) * H;
  const dx = cuda.alloc("float32", attrs.needsInputGrad ? T * N * I : 0) as CudaStorage;
  const dh0 = cuda.alloc("float32", D * N * H) as CudaStorage;
  const dc0 = isLstm ? (cuda.alloc("float32", D * N * H) as CudaStorage) : null;
  const result: CudaStorage[] = dc0 ? [dx, dh0, dc0] : [dx, dh0];
  const k = context(cuda, { T, N, H, D }, attrs.lengths);
  try {
    const dgi = k.temp(T * N * G), dgh = isLstm ? dgi : k.temp(T * N * G), hp = k.temp(T * N * H);
    const dh = k.temp(N * H), dc = isLstm ? k.temp(N * H) : null;
    const ones = k.temp(T * N);
    k.fillOnes(ones, T * N);
    for (let d = 0; d < D; d++) {
      const wIh = cudaStorage(inputs[wFirst + 2 * d]), wHh = cudaStorage(inputs[wFirst + 1 + 2 * d]);
      k.run("previousStates", T * N * H, 0, d, [hp, y, cudaStorage(h0), k.lengths]);
      k.zero(dgi, T * N * G);
      if (!isLstm) k.zero(dgh, T * N * G);
      k.copy(dh, 0, dhN, d * N * H, N * H);
      if (dc && dcN) k.copy(dc, 0, dcN, d * N * H, N * H);
      // Steps in the reverse of the order forward processed them.
      for (let step = T - 1; step >= 0; step--) {
        const t = d === 1 ? T - 1 - step : step;
        if (dc && c0) k.run("lstmStepBack", N * H, t, d, [dgi, dh, dc, dy, ws, cudaStorage(c0), k.lengths]);
        else k.run("gruStepBack", N * H, t, d, [dgi, dgh, dh, dy, ws, hp, k.lengths]);
        // dh += dgh[t] · W_hh: [N, G] × [G, H] (rows past their length have dgh = 0).
        deviceGemm(
          cuda,
          false,
          false,
          { m: N, n: H, k: G },
          1,
          { ptr: dgh.ptr, offset: t * N * G, ld: G },
          { ptr: wHh.ptr, ld: H },
          1,
          { ptr: dh.ptr, ld: H },
        );
      }
      k.copy(dh0, d * N * H, dh, 0, N * H);
      if (dc && dc0) k.copy(dc0, d * N * H, dc, 0, N * H);
      const dwIh = cuda.alloc("float32", G * I) as CudaStorage,
        dwHh = cuda.alloc("float32", G * H) as CudaStorage;
      const dbIh = cuda.alloc("float32", G) as CudaStorage, dbHh = cuda.alloc("float32", G) as CudaStorage;
      if (attrs.needsInputGrad) {
        deviceGemm(
          cuda,
          false,
          false,
          { m: T * N, n: I, k: G },
          1,
          { ptr: dgi.ptr, ld: G },
          { ptr: wIh.ptr, ld: I },
          d === 0 ? 0 : 1,
          { ptr: dx.ptr, ld: I },
        );
      }
      deviceGemm(
        cuda,
        true,
        false,
        { m: G, n: I, k: T * N },
        1,
        { ptr: dgi.ptr, ld: G },
        { ptr: cudaStorage(x).ptr, ld: I },
        0,
        { ptr: dwIh.ptr, ld: I },
      );
      deviceGemm(
        cuda,
        true,
        false,
        { m: G, n: H, k: T * N },
        1,
        { ptr: dgh.ptr, ld: G },
        { ptr: hp.ptr, ld: H },
        0,
        { ptr: dwHh.ptr, ld: H },
      );
      // Bias gradients: column sums as a row of ones times the gate gradients.
      deviceGemm(
        cuda,
        false,
        false,
        { m: 1, n: G, k: T * N },
        1,
        { ptr: ones.ptr, ld: T * N },
        { ptr: dgi.ptr, ld: G },
        0,
        { ptr: dbIh.ptr, ld: G },
      );
      deviceGemm(
        cuda,
        false,
        false,
        { m: 1, n: G, k: T * N },
        1,
        { ptr: ones.ptr, ld: T * N },
        { ptr: dgh.ptr, ld: G },
        0,
        { ptr: dbHh.ptr, ld: G },
      );
      result.push(dwIh, dwHh, dbIh, dbHh);
    }
  } finally {
    k.release();
  }
  return result;
}

registerKernel<RnnLayerAttrs>(
  "gruLayer",
  "cuda",
  ({ inputs, attrs, backend }) => forward(cudaBackend(backend), inputs, attrs, false),
);
registerKernel<RnnLayerAttrs>(
  "lstmLayer",
  "cuda",
  ({ inputs, attrs, backend }) => forward(cudaBackend(backend), inputs, attrs, true),
);
registerKernel<RnnLayerBackwardAttrs>(
  "gruLayerBackward",
  "cuda",
  ({ inputs, attrs, backend }) => backward(cudaBackend(backend), inputs, attrs, false),
);
registerKernel<RnnLayerBackwardAttrs>(
  "lstmLayerBackward",
  "cuda",
  ({ inputs, attrs, backend }) => backward(cudaBackend(backend), inputs, attrs, true),
);
