/**
 * cuda kernels of conv1d and conv2d, forward, backward-data and backward-filter (depthwise and
 * grouped included): cuDNN's convolution calls, conv1d as conv2d over [N, C, 1, T]. The
 * fastest algorithm for each (direction, shapes, attributes, precision) is measured once with
 * cudnnFind*AlgorithmEx on a 256 MiB search workspace from the backend's allocator and cached;
 * later calls take a workspace of the size that algorithm needs from the same allocator.
 *
 * cuDNN pads symmetrically: an asymmetric padding ("same" with an even kernel) runs on an
 * explicitly padded copy of x (forward, backward-filter) or computes dx of the padded input and
 * crops it (backward-data), with the layout kernels. The bias is added by the `biasAdd` kernel.
 *
 * Precision: "f32" uses cuDNN's default math (TF32 tensor cores on Ampere and later) when
 * `allowTf32`, else FMA only; "bf16"/"fp16" convert x and w (or dy) on the device, run the
 * convolution in that type with f32 compute, and convert the result back to f32.
 *
 * Not here: fusing bias and activation (cudnnConvolutionBiasActivationForward), NHWC layouts.
 */
import type { Conv1dAttrs, Conv1dBackwardDataAttrs, Conv1dBackwardFilterAttrs } from "../../../conv1d.ts";
import type { Conv2dAttrs, Conv2dBackwardDataAttrs, Conv2dBackwardFilterAttrs } from "../../../conv2d.ts";
import { registerKernel } from "../../../op_registry.ts";
import { sizeOf } from "../../../shape.ts";
import type { Tensor } from "../../../tensor.ts";
import { argPtr, type CudaBackend, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { convertFromHalf, convertToHalf } from "./convert.ts";
import { BLOCK, blocksFor, packWords } from "./cuda_c.ts";
import {
  CUDNN_ALGO_PERF_BYTES,
  CUDNN_CROSS_CORRELATION,
  CUDNN_DATA,
  CUDNN_MATH,
  CUDNN_TENSOR_NCHW,
  type CudnnAlgoPerf,
  decodeAlgoPerf,
  loadCudnn,
} from "../ffi/cudnn.ts";
import { loadCublas } from "../ffi/cublas.ts";
import { checkDriverVersion } from "../ffi/driver.ts";
import { loadCublasLt } from "../ffi/cublas_lt.ts";
import { copyBox } from "./layout.ts";
import { outU64, pointerOut } from "../ffi/library.ts";

const FILE = "ops/backends/cuda/kernels/conv.ts";
const SEARCH_WORKSPACE_BYTES = 256 * 2 ** 20;

/** A convolution as conv2d: shapes [N, C, H, W], filter [Cout, Cin/groups, KH, KW], symmetric pads. */
interface ConvGeometry {
  readonly x: readonly [number, number, number, number];
  readonly w: readonly [number, number, number, number];
  readonly y: readonly [number, number, number, number];
  readonly pad: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

type Direction = "forward" | "backwardData" | "backwardFilter";

/** CUDA C of the bias add `bias_add(y, b, Meta { size, inner, channels })`: y[n, c, ...] += b[c]. */
export function biasAddSource(): string {
  return `struct Meta { unsigned size; unsigned inner; unsigned channels; };
extern "C" __global__ void bias_add(float* __restrict__ y, const float* __restrict__ b, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    y[i] += b[(i / m.inner) % m.channels];
  }
}
`;
}

const handles = new WeakMap<CudaBackend, Deno.PointerValue>();
const algorithms = new WeakMap<CudaBackend, Map<string, CudnnAlgoPerf>>();

function cudnnHandle(cuda: CudaBackend): Deno.PointerValue {
  let h = handles.get(cuda);
  if (h !== undefined) return h;
  // cuDNN's engine libraries open libcublasLt by soname, which a wheel's folder does not put
  // on the loader's path: loading cuBLAS (and with it cuBLASLt) first makes the soname resident.
  loadCublasLt();
  loadCublas();
  const cudnn = loadCudnn();
  const { api, check } = cudnn;
  checkDriverVersion(
    cuda.device.driverVersion,
    `libcudnn (${cudnn.path})`,
    cudnn.cudartVersion,
  );
  const slot = outU64();
  check(api.cudnnCreate(slot), "cudnnCreate");
  h = pointerOut(slot);
  check(api.cudnnSetStream(h, cuda.stream), "cudnnSetStream");
  handles.set(cuda, h);
  const handle = h;
  cuda.onDispose(() => api.cudnnDestroy(handle));
  return h;
}

/** Tensor, filter and convolution descriptors for one call; `destroy` releases them. */
function descriptors(g: ConvGeometry, dataType: number, mathType: number) {
  const { api, check } = loadCudnn();
  const slot = outU64();
  const tensor = (dims: readonly number[]) => {
    check(api.cudnnCreateTensorDescriptor(slot), "cudnnCreateTensorDescriptor");
    const d = pointerOut(slot);
    const [, c, h, w] = dims;
    const strides = new Int32Array([c * h * w, h * w, w, 1]);
    check(
      api.cudnnSetTensorNdDescriptor(d, dataType, 4, new Int32Array(dims), strides),
      `cudnnSetTensorNdDescriptor([${dims}])`,
    );
    return d;
  };
  const x = tensor(g.x), y = tensor(g.y);
  check(api.cudnnCreateFilterDescriptor(slot), "cudnnCreateFilterDescriptor");
  const w = pointerOut(slot);
  check(
    api.cudnnSetFilterNdDescriptor(w, dataType, CUDNN_TENSOR_NCHW, 4, new Int32Array(g.w)),
    `cudnnSetFilterNdDescriptor([${g.w}])`,
  );
  check(api.cudnnCreateConvolutionDescriptor(slot), "cudnnCreateConvolutionDescriptor");
  const conv = pointerOut(slot);
  check(
    api.cudnnSetConvolutionNdDescriptor(
      conv,
      2,
      new Int32Array(g.pad),
      new Int32Array(g.stride),
      new Int32Array(g.dilation),
      CUDNN_CROSS_CORRELATION,
      CUDNN_DATA.f32,
    ),
    "cudnnSetConvolutionNdDescriptor",
  );
  check(api.cudnnSetConvolutionGroupCount(conv, g.groups), "cudnnSetConvolutionGroupCount");
  check(api.cudnnSetConvolutionMathType(conv, mathType), "cudnnSetConvolutionMathType");
  return {
    x,
    y,
    w,
    conv,
    destroy(): void {
      api.cudnnDestroyTensorDescriptor(x);
      api.cudnnDestroyTensorDescriptor(y);
      api.cudnnDestroyFilterDescriptor(w);
      api.cudnnDestroyConvolutionDescriptor(conv);
    },
  };
}

/**
 * Runs one convolution direction on device blocks holding f32 (or, in reduced precision, the
 * converted operands): forward y = conv(x, w); backwardData dx from (dy, w); backwardFilter dw
 * from (x, dy). `a` and `b` are the two inputs in that order, `out` the result.
 */
function runConvolution(
  cuda: CudaBackend,
  direction: Direction,
  g: ConvGeometry,
  a: CudaStorage,
  b: CudaStorage,
  out: CudaStorage,
): void {
  const { api, check } = loadCudnn();
  const handle = cudnnHandle(cuda);
  const half = cuda.precision === "f32" ? null : cuda.precision;
  const dataType = half === "bf16" ? CUDNN_DATA.bf16 : half === "fp16" ? CUDNN_DATA.f16 : CUDNN_DATA.f32;
  const mathType = half ? CUDNN_MATH.tensorOp : cuda.allowTf32 ? CUDNN_MATH.default : CUDNN_MATH.fma;
  const sizes = {
    forward: [g.x, g.w, g.y],
    backwardData: [g.y, g.w, g.x],
    backwardFilter: [g.x, g.y, g.w],
  }[direction]
    .map((s) => sizeOf(s));
  const aIn = half ? convertToHalf(cuda, a, sizes[0], half) : a;
  const bIn = half ? convertToHalf(cuda, b, sizes[1], half) : b;
  const outIn = half ? (cuda.alloc("float32", Math.ceil(sizes[2] / 2)) as CudaStorage) : out;
  const d = descriptors(g, dataType, mathType);
  try {
    // Descriptor and pointer order of each cuDNN call: (first input, second input, output).
    const order = {
      forward: [d.x, d.w, d.y],
      backwardData: [d.w, d.y, d.x],
      backwardFilter: [d.x, d.y, d.w],
    }[direction];
    const [p0, p1] = direction === "backwardData" ? [bIn, aIn] : [aIn, bIn];
    const key = `${direction}|${cuda.precision}|${mathType}|${JSON.stringify(g)}`;
    let cache = algorithms.get(cuda);
    if (!cache) algorithms.set(cuda, cache = new Map());
    let best = cache.get(key);
    if (!best) {
      const find = {
        forward: api.cudnnFindConvolutionForwardAlgorithmEx,
        backwardData: api.cudnnFindConvolutionBackwardDataAlgorithmEx,
        backwardFilter: api.cudnnFindConvolutionBackwardFilterAlgorithmEx,
      }[direction];
      const requested = 8;
      const perf = new Uint8Array(requested * CUDNN_ALGO_PERF_BYTES);
      const returned = new Int32Array(1);
      const ws = cuda.alloc("float32", SEARCH_WORKSPACE_BYTES / 4) as CudaStorage;
      try {
        check(
          find(
            handle,
            order[0],
            p0.ptr,
            order[1],
            p1.ptr,
            d.conv,
            order[2],
            outIn.ptr,
            requested,
            returned,
            perf,
            ws.ptr,
            BigInt(SEARCH_WORKSPACE_BYTES),
          ),
          `cudnnFindConvolution${direction[0].toUpperCase()}${direction.slice(1)}AlgorithmEx`,
        );
      } finally {
        cuda.free(ws);
      }
      best = decodeAlgoPerf(perf, returned[0]).find((p) =>
        p.status === 0 && p.workspaceBytes <= SEARCH_WORKSPACE_BYTES
      );
      if (!best) throw new Error(`${FILE}: cuDNN found no ${direction} algorithm for ${JSON.stringify(g)}`);
      cache.set(key, best);
    }
    const ws = best.workspaceBytes > 0
      ? (cuda.alloc("float32", Math.ceil(best.workspaceBytes / 4)) as CudaStorage)
      : null;
    try {
      const call = {
        forward: api.cudnnConvolutionForward,
        backwardData: api.cudnnConvolutionBackwardData,
        backwardFilter: api.cudnnConvolutionBackwardFilter,
      }[direction];
      const one = new Float32Array([1]), zero = new Float32Array([0]);
      check(
        call(
          handle,
          one,
          order[0],
          p0.ptr,
          order[1],
          p1.ptr,
          d.conv,
          best.algo,
          ws?.ptr ?? 0n,
          BigInt(best.workspaceBytes),
          zero,
          order[2],
          outIn.ptr,
        ),
        `cudnnConvolution${direction[0].toUpperCase()}${direction.slice(1)}(algo ${best.algo})`,
      );
    } finally {
      if (ws) cuda.free(ws);
    }
    if (half) convertFromHalf(cuda, outIn, out, sizes[2], half);
  } finally {
    d.destroy();
    if (half) {
      cuda.free(aIn);
      cuda.free(bIn);
      cuda.free(outIn);
    }
  }
}

/** Pads of one axis split into the symmetric part cuDNN takes and the explicit remainder. */
function splitPad(before: number, after: number): { sym: number; extraBefore: number; extraAfter: number } {
  const sym = Math.min(before, after);
  return { sym, extraBefore: before - sym, extraAfter: after - sym };
}

/** A new block holding x [N, C, H, W] zero-padded by the extra amounts on H and W. */
function padCopy(
  cuda: CudaBackend,
  x: CudaStorage,
  dims: readonly number[],
  ph: [number, number],
  pw: [number, number],
) {
  const [n, c, h, w] = dims;
  const hp = h + ph[0] + ph[1], wp = w + pw[0] + pw[1];
  const out = cuda.alloc("float32", n * c * hp * wp) as CudaStorage;
  const d = cuda.driver;
  d.check(d.api.cuMemsetD32Async(out.ptr, 0, BigInt(n * c * hp * wp), cuda.stream), "cuMemsetD32Async");
  const axes = [
    { e: n * c, d: hp * wp, s: h * w },
    { e: h, d: wp, s: w },
    { e: w, d: 1, s: 1 },
  ];
  copyBox(cuda, out, ph[0] * wp + pw[0], x, 0, axes);
  return { storage: out, dims: [n, c, hp, wp] as const };
}

function addBias(cuda: CudaBackend, y: CudaStorage, b: Tensor, dims: readonly number[]): void {
  const [n, c] = dims, inner = sizeOf(dims.slice(2));
  const fn = cuda.kernel("biasAdd", "bias_add", biasAddSource);
  cuda.launch(fn, [blocksFor(n * c * inner)], BLOCK, [argPtr(y), argPtr(cudaStorage(b)), {
    bytes: packWords([n * c * inner, inner, c]),
  }]);
}

/** The generic 2-D attributes of both ops (conv1d as H = 1). */
interface Conv2dLike {
  strideH: number;
  strideW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

function as2d(a: Conv1dAttrs): Conv2dLike {
  return {
    strideH: 1,
    strideW: a.stride,
    padTop: 0,
    padBottom: 0,
    padLeft: a.padLeft,
    padRight: a.padRight,
    dilationH: 1,
    dilationW: a.dilation,
    groups: a.groups,
  };
}

function outExtent(n: number, k: number, pad: number, stride: number, dilation: number): number {
  return Math.floor((n + pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** Forward on [N, C, H, W] dims with possibly asymmetric pads. */
function forward(
  cuda: CudaBackend,
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  xd: number[],
  wd: number[],
  a: Conv2dLike,
): CudaStorage {
  const ph = splitPad(a.padTop, a.padBottom), pw = splitPad(a.padLeft, a.padRight);
  const padded = ph.extraBefore + ph.extraAfter + pw.extraBefore + pw.extraAfter > 0
    ? padCopy(cuda, cudaStorage(x), xd, [ph.extraBefore, ph.extraAfter], [pw.extraBefore, pw.extraAfter])
    : null;
  const xIn = padded ? padded.dims : xd;
  const yd = [
    xd[0],
    wd[0],
    outExtent(xIn[2], wd[2], 2 * ph.sym, a.strideH, a.dilationH),
    outExtent(xIn[3], wd[3], 2 * pw.sym, a.strideW, a.dilationW),
  ] as const;
  const y = cuda.alloc("float32", sizeOf(yd)) as CudaStorage;
  const g: ConvGeometry = {
    x: xIn as unknown as ConvGeometry["x"],
    w: wd as unknown as ConvGeometry["w"],
    y: yd,
    pad: [ph.sym, pw.sym],
    stride: [a.strideH, a.strideW],
    dilation: [a.dilationH, a.dilationW],
    groups: a.groups,
  };
  try {
    if (sizeOf(yd) > 0) {
      runConvolution(cuda, "forward", g, padded?.storage ?? cudaStorage(x), cudaStorage(w), y);
    }
  } finally {
    if (padded) cuda.free(padded.storage);
  }
  if (b && sizeOf(yd) > 0) addBias(cuda, y, b, yd);
  return y;
}

/** dx [N, Cin, H, W] from dy and w. */
function backwardData(
  cuda: CudaBackend,
  dy: Tensor,
  w: Tensor,
  xd: number[],
  wd: number[],
  a: Conv2dLike,
): CudaStorage {
  const ph = splitPad(a.padTop, a.padBottom), pw = splitPad(a.padLeft, a.padRight);
  const xp = [
    xd[0],
    xd[1],
    xd[2] + ph.extraBefore + ph.extraAfter,
    xd[3] + pw.extraBefore + pw.extraAfter,
  ] as const;
  const isPadded = xp[2] !== xd[2] || xp[3] !== xd[3];
  const dxp = cuda.alloc("float32", sizeOf(xp)) as CudaStorage;
  const g: ConvGeometry = {
    x: xp,
    w: wd as unknown as ConvGeometry["w"],
    y: dy.shape.length === 3
      ? [dy.shape[0], dy.shape[1], 1, dy.shape[2]]
      : dy.shape as unknown as ConvGeometry["y"],
    pad: [ph.sym, pw.sym],
    stride: [a.strideH, a.strideW],
    dilation: [a.dilationH, a.dilationW],
    groups: a.groups,
  };
  if (sizeOf(xp) > 0) {
    if (sizeOf(g.y) > 0) runConvolution(cuda, "backwardData", g, cudaStorage(dy), cudaStorage(w), dxp);
    else {cuda.driver.check(
        cuda.driver.api.cuMemsetD32Async(dxp.ptr, 0, BigInt(sizeOf(xp)), cuda.stream),
        "cuMemsetD32Async",
      );}
  }
  if (!isPadded) return dxp;
  // The explicit padding's gradient is dropped: crop dx of the padded input back to x.
  const dx = cuda.alloc("float32", sizeOf(xd)) as CudaStorage;
  const axes = [
    { e: xd[0] * xd[1], d: xd[2] * xd[3], s: xp[2] * xp[3] },
    { e: xd[2], d: xd[3], s: xp[3] },
    { e: xd[3], d: 1, s: 1 },
  ];
  copyBox(cuda, dx, 0, dxp, ph.extraBefore * xp[3] + pw.extraBefore, axes);
  cuda.free(dxp);
  return dx;
}

/** dw [Cout, Cin/groups, KH, KW] from x and dy. */
function backwardFilter(
  cuda: CudaBackend,
  x: Tensor,
  dy: Tensor,
  xd: number[],
  wd: number[],
  a: Conv2dLike,
): CudaStorage {
  const ph = splitPad(a.padTop, a.padBottom), pw = splitPad(a.padLeft, a.padRight);
  const padded = ph.extraBefore + ph.extraAfter + pw.extraBefore + pw.extraAfter > 0
    ? padCopy(cuda, cudaStorage(x), xd, [ph.extraBefore, ph.extraAfter], [pw.extraBefore, pw.extraAfter])
    : null;
  const dw = cuda.alloc("float32", sizeOf(wd)) as CudaStorage;
  const yd = dy.shape.length === 3 ? [dy.shape[0], dy.shape[1], 1, dy.shape[2]] : dy.shape;
  const g: ConvGeometry = {
    x: (padded?.dims ?? xd) as unknown as ConvGeometry["x"],
    w: wd as unknown as ConvGeometry["w"],
    y: yd as unknown as ConvGeometry["y"],
    pad: [ph.sym, pw.sym],
    stride: [a.strideH, a.strideW],
    dilation: [a.dilationH, a.dilationW],
    groups: a.groups,
  };
  try {
    if (sizeOf(yd) > 0 && sizeOf(xd) > 0) {
      runConvolution(cuda, "backwardFilter", g, padded?.storage ?? cudaStorage(x), cudaStorage(dy), dw);
    } else {cuda.driver.check(
        cuda.driver.api.cuMemsetD32Async(dw.ptr, 0, BigInt(sizeOf(wd)), cuda.stream),
        "cuMemsetD32Async",
      );}
  } finally {
    if (padded) cuda.free(padded.storage);
  }
  return dw;
}

const dims1d = (s: readonly number[]): number[] => [s[0], s[1], 1, s[2]];

registerKernel<Conv1dAttrs>("conv1d", "cuda", ({ inputs: [x, w, b], attrs, backend }) => {
  return [forward(cudaBackend(backend), x, w, b, dims1d(x.shape), dims1d(w.shape), as2d(attrs))];
});
registerKernel<Conv1dBackwardDataAttrs>(
  "conv1dBackwardData",
  "cuda",
  ({ inputs: [dy, w], attrs, backend }) => {
    const xd = [dy.shape[0], w.shape[1] * attrs.groups, 1, attrs.inputLength];
    return [backwardData(cudaBackend(backend), dy, w, xd, dims1d(w.shape), as2d(attrs))];
  },
);
registerKernel<Conv1dBackwardFilterAttrs>(
  "conv1dBackwardFilter",
  "cuda",
  ({ inputs: [x, dy], attrs, backend }) => {
    const wd = [dy.shape[1], x.shape[1] / attrs.groups, 1, attrs.kernelSize];
    return [backwardFilter(cudaBackend(backend), x, dy, dims1d(x.shape), wd, as2d(attrs))];
  },
);
registerKernel<Conv2dAttrs>("conv2d", "cuda", ({ inputs: [x, w, b], attrs, backend }) => {
  return [forward(cudaBackend(backend), x, w, b, [...x.shape], [...w.shape], attrs)];
});
registerKernel<Conv2dBackwardDataAttrs>(
  "conv2dBackwardData",
  "cuda",
  ({ inputs: [dy, w], attrs, backend }) => {
    const xd = [dy.shape[0], w.shape[1] * attrs.groups, attrs.inputSize[0], attrs.inputSize[1]];
    return [backwardData(cudaBackend(backend), dy, w, xd, [...w.shape], attrs)];
  },
);
registerKernel<Conv2dBackwardFilterAttrs>(
  "conv2dBackwardFilter",
  "cuda",
  ({ inputs: [x, dy], attrs, backend }) => {
    const wd = [dy.shape[1], x.shape[1] / attrs.groups, attrs.kernelSize[0], attrs.kernelSize[1]];
    return [backwardFilter(cudaBackend(backend), x, dy, [...x.shape], wd, attrs)];
  },
);
