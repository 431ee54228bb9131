/**
 * f32 → bf16 / fp16 conversion on the device, for GEMMs and convolutions in reduced precision
 * (`CudaBackend.precision`): operands stay f32 in memory (the master copy the optimizer
 * updates), and each reduced-precision call first converts its operands into scratch blocks
 * with round-to-nearest-even, as PyTorch's autocast does. Inline PTX (cvt.rn.bf16.f32, sm_80
 * and later; cvt.rn.f16.f32) keeps NVRTC from needing cuda_bf16.h.
 *
 * Not here: bf16/fp16 tensors as a dtype of the op layer (ops/dtype.ts has f32, i32, f64).
 */
import { argPtr, type CudaBackend, type CudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, packWords } from "./cuda_c.ts";

/** A reduced-precision storage format. */
export type HalfFormat = "bf16" | "fp16";

/** CUDA C of the conversion kernel `to_half(out u16*, in f32*, Meta { size })`. */
export function convertSource(format: HalfFormat): string {
  const cvt = format === "bf16" ? "cvt.rn.bf16.f32" : "cvt.rn.f16.f32";
  return `struct Meta { unsigned size; };
extern "C" __global__ void to_half(unsigned short* __restrict__ out, const float* __restrict__ in, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    unsigned short h;
    asm("${cvt} %0, %1;" : "=h"(h) : "f"(in[i]));
    out[i] = h;
  }
}
`;
}

/**
 * CUDA C of the conversion back `from_half(out f32*, in u16*, Meta { size })`: exact for both
 * formats (bf16 is the top half of an f32; every fp16 is an f32).
 */
export function convertBackSource(format: HalfFormat): string {
  const body = format === "bf16" ? "out[i] = __int_as_float(((unsigned)in[i]) << 16);" : `float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(in[i]));
    out[i] = f;`;
  return `struct Meta { unsigned size; };
extern "C" __global__ void from_half(float* __restrict__ out, const unsigned short* __restrict__ in, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    ${body}
  }
}
`;
}

/** Enqueues the conversion of `size` 2-byte values in `src` to f32 in `dst`. */
export function convertFromHalf(
  cuda: CudaBackend,
  src: CudaStorage,
  dst: CudaStorage,
  size: number,
  format: HalfFormat,
): void {
  if (size === 0) return;
  const fn = cuda.kernel(`convertBack|${format}`, "from_half", () => convertBackSource(format));
  cuda.launch(fn, [blocksFor(size)], BLOCK, [argPtr(dst), argPtr(src), { bytes: packWords([size]) }]);
}

/**
 * A scratch block holding `size` f32 elements of `src` converted to `format` (2 bytes each),
 * enqueued on the compute stream. The caller frees it once the call that reads it is enqueued
 * (stream order keeps the block alive long enough).
 */
export function convertToHalf(
  cuda: CudaBackend,
  src: CudaStorage,
  size: number,
  format: HalfFormat,
): CudaStorage {
  // Allocated as f32 elements: half the count rounded up holds `size` 2-byte values.
  const out = cuda.alloc("float32", Math.ceil(size / 2)) as CudaStorage;
  if (size === 0) return out;
  const fn = cuda.kernel(`convert|${format}`, "to_half", () => convertSource(format));
  cuda.launch(fn, [blocksFor(size)], BLOCK, [argPtr(out), argPtr(src), { bytes: packWords([size]) }]);
  return out;
}
