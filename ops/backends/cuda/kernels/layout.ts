/**
 * cuda kernels of the layout ops (permute, slice, sliceBackward, pad, concat) and of
 * `sequenceMask`, all but the last from one strided copy: a box of extents is walked in
 * row-major order and each 32-bit word is copied from `srcBase + Σ i·srcStride` to
 * `dstBase + Σ i·dstStride`. Words are copied as bits, so one kernel serves float32 and int32.
 * Fills (pad's value, sliceBackward's zeros) are `cuMemsetD32Async`.
 *
 * Not here: collapsing contiguous axes of the box (each axis costs a division per element),
 * vectorised copies.
 */
import type { ConcatAttrs } from "../../../concat.ts";
import type { SequenceMaskAttrs } from "../../../masks.ts";
import { registerKernel } from "../../../op_registry.ts";
import type { PadAttrs } from "../../../pad.ts";
import type { PermuteAttrs } from "../../../permute.ts";
import { sizeOf, stridesOf } from "../../../shape.ts";
import type { SliceAttrs } from "../../../slice.ts";
import { argPtr, type CudaBackend, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, MAX_RANK, packWords, unravelC } from "./cuda_c.ts";

const FILE = "ops/backends/cuda/kernels/layout.ts";

/** CUDA C of the strided copy over a box of `rank` axes: `copy_kernel(dst, src, Meta)`. */
export function copySource(rank: number): string {
  const r = Math.max(1, rank);
  return `struct Meta { unsigned size; unsigned dstBase; unsigned srcBase; unsigned ext[${r}]; unsigned dstStr[${r}]; unsigned srcStr[${r}]; };
extern "C" __global__ void copy_kernel(unsigned* __restrict__ dst, const unsigned* __restrict__ src, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    unsigned d = m.dstBase, s = m.srcBase;
    ${unravelC("i", r, "m.ext", [["d", "m.dstStr"], ["s", "m.srcStr"]])}
    dst[d] = src[s];
  }
}
`;
}

/** CUDA C of `sequenceMask`: `mask_kernel(out, lengths, Meta { size, maxLen })`, 1 before each length, else 0. */
export function sequenceMaskSource(): string {
  return `struct Meta { unsigned size; unsigned maxLen; };
extern "C" __global__ void mask_kernel(float* __restrict__ out, const int* __restrict__ lengths, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    out[i] = (int)(i % m.maxLen) < lengths[i / m.maxLen] ? 1.0f : 0.0f;
  }
}
`;
}

/** One axis of a copy box: extent and the strides on both sides. */
interface BoxAxis {
  e: number;
  d: number;
  s: number;
}

/** Enqueues the copy of a box (axes of extent 1 dropped) between two blocks. */
export function copyBox(
  cuda: CudaBackend,
  dst: CudaStorage,
  dstBase: number,
  src: CudaStorage,
  srcBase: number,
  axes: readonly BoxAxis[],
): void {
  const box = axes.filter((a) => a.e !== 1);
  const size = box.reduce((n, a) => n * a.e, 1);
  if (size === 0 || axes.some((a) => a.e === 0)) return;
  if (box.length > MAX_RANK) {
    throw new RangeError(`${FILE}: a copy over ${box.length} axes (at most ${MAX_RANK})`);
  }
  const list = box.length > 0 ? box : [{ e: 1, d: 0, s: 0 }];
  const fn = cuda.kernel(`copy|r${list.length}`, "copy_kernel", () => copySource(list.length));
  const meta = packWords([
    size,
    dstBase,
    srcBase,
    ...list.map((a) => a.e),
    ...list.map((a) => a.d),
    ...list.map((a) => a.s),
  ]);
  cuda.launch(fn, [blocksFor(size)], BLOCK, [argPtr(dst), argPtr(src), { bytes: meta }]);
}

/** Fills `size` words of `dst` with the bits of `value` (a float, or an int for int32 tensors). */
function fill(cuda: CudaBackend, dst: CudaStorage, size: number, value: number, isInt: boolean): void {
  if (size === 0) return;
  const bits = new Uint32Array(isInt ? new Int32Array([value]).buffer : new Float32Array([value]).buffer)[0];
  const d = cuda.driver;
  d.check(d.api.cuMemsetD32Async(dst.ptr, bits, BigInt(size), cuda.stream), "cuMemsetD32Async");
}

registerKernel<PermuteAttrs>("permute", "cuda", ({ inputs: [x], attrs, outputs, backend }) => {
  const cuda = cudaBackend(backend);
  const shape = outputs[0].shape;
  const out = cuda.alloc(x.dtype, sizeOf(shape)) as CudaStorage;
  const inStrides = stridesOf(x.shape), outStrides = stridesOf(shape);
  const axes = shape.map((e, i) => ({ e, d: outStrides[i], s: inStrides[attrs.perm[i]] }));
  copyBox(cuda, out, 0, cudaStorage(x), 0, axes);
  return [out];
});

/** Offset of the slice's first element in the full tensor, and its strides there. */
function placement(attrs: SliceAttrs): [number, number[]] {
  const full = stridesOf(attrs.fullShape);
  const offset = full.reduce((o, s, d) => o + attrs.starts[d] * s, 0);
  return [offset, full.map((s, d) => s * attrs.steps[d])];
}

registerKernel<SliceAttrs>("slice", "cuda", ({ inputs: [x], attrs, backend }) => {
  const cuda = cudaBackend(backend);
  const out = cuda.alloc(x.dtype, sizeOf(attrs.sliceShape)) as CudaStorage;
  const [offset, strides] = placement(attrs);
  const own = stridesOf(attrs.sliceShape);
  copyBox(
    cuda,
    out,
    0,
    cudaStorage(x),
    offset,
    attrs.sliceShape.map((e, i) => ({ e, d: own[i], s: strides[i] })),
  );
  return [out];
});

registerKernel<SliceAttrs>("sliceBackward", "cuda", ({ inputs: [g], attrs, backend }) => {
  const cuda = cudaBackend(backend);
  const size = sizeOf(attrs.fullShape);
  const out = cuda.alloc(g.dtype, size) as CudaStorage;
  fill(cuda, out, size, 0, g.dtype === "int32"); // positions the slice skips get no gradient
  const [offset, strides] = placement(attrs);
  const own = stridesOf(attrs.sliceShape);
  copyBox(
    cuda,
    out,
    offset,
    cudaStorage(g),
    0,
    attrs.sliceShape.map((e, i) => ({ e, d: strides[i], s: own[i] })),
  );
  return [out];
});

registerKernel<PadAttrs>("pad", "cuda", ({ inputs: [x], attrs, outputs, backend }) => {
  const cuda = cudaBackend(backend);
  const shape = outputs[0].shape;
  const out = cuda.alloc(x.dtype, sizeOf(shape)) as CudaStorage;
  fill(cuda, out, sizeOf(shape), attrs.value, x.dtype === "int32");
  const inStrides = stridesOf(x.shape), outStrides = stridesOf(shape);
  let dstBase = 0, srcBase = 0;
  // Negative amounts crop: the copied box starts inside the input instead of inside the output.
  const axes = x.shape.map((n, d) => {
    const cropBefore = Math.max(0, -attrs.before[d]), cropAfter = Math.max(0, -attrs.after[d]);
    dstBase += Math.max(0, attrs.before[d]) * outStrides[d];
    srcBase += cropBefore * inStrides[d];
    return { e: Math.max(0, n - cropBefore - cropAfter), d: outStrides[d], s: inStrides[d] };
  });
  copyBox(cuda, out, dstBase, cudaStorage(x), srcBase, axes);
  return [out];
});

registerKernel<ConcatAttrs>("concat", "cuda", ({ inputs, attrs, outputs, backend }) => {
  const cuda = cudaBackend(backend);
  const shape = outputs[0].shape;
  const out = cuda.alloc(outputs[0].dtype, sizeOf(shape)) as CudaStorage;
  const outStrides = stridesOf(shape);
  let at = 0;
  for (const t of inputs) {
    const own = stridesOf(t.shape);
    copyBox(
      cuda,
      out,
      at * outStrides[attrs.axis],
      cudaStorage(t),
      0,
      t.shape.map((e, i) => ({ e, d: outStrides[i], s: own[i] })),
    );
    at += t.shape[attrs.axis];
  }
  return [out];
});

registerKernel<SequenceMaskAttrs>(
  "sequenceMask",
  "cuda",
  ({ inputs: [lengths], attrs, outputs, backend }) => {
    const cuda = cudaBackend(backend);
    const size = sizeOf(outputs[0].shape);
    const out = cuda.alloc(attrs.dtype, size) as CudaStorage;
    if (size === 0) return [out];
    const fn = cuda.kernel("sequenceMask", "mask_kernel", sequenceMaskSource);
    cuda.launch(fn, [blocksFor(size)], BLOCK, [
      argPtr(out),
      argPtr(cudaStorage(lengths)),
      { bytes: packWords([size, attrs.maxLen]) },
    ]);
    return [out];
  },
);
