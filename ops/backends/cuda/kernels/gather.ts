/**
 * cuda kernels of `gather` and `gatherBackward` (ops/gather.ts): one thread per element of the
 * index tensor, whose row-major position is unravelled over the index shape and dotted with
 * the full tensor's strides outside the gathered axis. gatherBackward scatter-adds with
 * atomicAdd into a zeroed output (so repeated indices accumulate, in no fixed order: the sum's
 * last bits may differ from the cpu's).
 *
 * An index outside the axis cannot throw from the device without a read-back: gather writes
 * NaN there (0 for int32) and gatherBackward skips it, where the cpu kernel throws.
 */
import type { GatherAttrs, GatherBackwardAttrs } from "../../../gather.ts";
import { registerKernel } from "../../../op_registry.ts";
import { type Shape, sizeOf, stridesOf } from "../../../shape.ts";
import type { Tensor } from "../../../tensor.ts";
import { argPtr, type CudaBackend, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, cudaType, MAX_RANK, packWords, unravelC } from "./cuda_c.ts";

const FILE = "ops/backends/cuda/kernels/gather.ts";

/** CUDA C of gather (`isScatter` false) or gatherBackward (true) for `type` over `rank` index axes. */
export function gatherSource(type: string, rank: number, isScatter: boolean): string {
  const r = Math.max(1, rank);
  const missing = type === "float" ? "__int_as_float(0x7fc00000)" : "0";
  const body = isScatter
    ? `if (k >= 0 && k < (int)m.axisExtent) atomicAdd(&full[base + (unsigned)k * m.axisStride], flat[i]);`
    : `flat[i] = (k >= 0 && k < (int)m.axisExtent) ? full[base + (unsigned)k * m.axisStride] : ${missing};`;
  const [fullQ, flatQ] = isScatter ? ["", "const "] : ["const ", ""];
  return `struct Meta { unsigned size; unsigned axisExtent; unsigned axisStride; unsigned ext[${r}]; unsigned baseStr[${r}]; };
extern "C" __global__ void gather_kernel(${fullQ}${type}* __restrict__ full, ${flatQ}${type}* __restrict__ flat, const int* __restrict__ index, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    unsigned base = 0;
    ${unravelC("i", r, "m.ext", [["base", "m.baseStr"]])}
    int k = index[i];
    ${body}
  }
}
`;
}

function launch(
  cuda: CudaBackend,
  full: CudaStorage,
  flat: CudaStorage,
  index: Tensor,
  fullShape: Shape,
  axis: number,
  type: string,
  isScatter: boolean,
): void {
  if (index.size === 0) return;
  if (index.rank > MAX_RANK) {
    throw new RangeError(`${FILE}: index of rank ${index.rank} (at most ${MAX_RANK})`);
  }
  const strides = stridesOf(fullShape);
  const rank = Math.max(1, index.rank);
  const fn = cuda.kernel(
    `gather|${type}|r${rank}|${isScatter ? "scatter" : "gather"}`,
    "gather_kernel",
    () => gatherSource(type, rank, isScatter),
  );
  const ext = index.rank > 0 ? index.shape : [1];
  const baseStr = index.rank > 0 ? strides.map((s, d) => (d === axis ? 0 : s)) : [0];
  const meta = packWords([index.size, fullShape[axis], strides[axis], ...ext, ...baseStr]);
  cuda.launch(fn, [blocksFor(index.size)], BLOCK, [argPtr(full), argPtr(flat), argPtr(cudaStorage(index)), {
    bytes: meta,
  }]);
}

registerKernel<GatherAttrs>("gather", "cuda", ({ inputs: [x, index], attrs, outputs, backend }) => {
  const cuda = cudaBackend(backend);
  const out = cuda.alloc(outputs[0].dtype, index.size) as CudaStorage;
  launch(cuda, cudaStorage(x), out, index, x.shape, attrs.axis, cudaType(x.dtype), false);
  return [out];
});

registerKernel<GatherBackwardAttrs>(
  "gatherBackward",
  "cuda",
  ({ inputs: [g, index], attrs, outputs, backend }) => {
    const cuda = cudaBackend(backend);
    if (g.dtype !== "float32") {
      throw new TypeError(
        `${FILE}: gatherBackward on cuda needs float32, got ${g.dtype}`,
      );
    }
    const size = sizeOf(attrs.shape);
    const out = cuda.alloc(outputs[0].dtype, size) as CudaStorage;
    if (size > 0) {
      cuda.driver.check(
        cuda.driver.api.cuMemsetD32Async(out.ptr, 0, BigInt(size), cuda.stream),
        "cuMemsetD32Async",
      );
    }
    launch(cuda, out, cudaStorage(g), index, attrs.shape, attrs.axis, "float", true);
    return [out];
  },
);
