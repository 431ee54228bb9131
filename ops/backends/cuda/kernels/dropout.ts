/**
 * cuda kernel of `dropoutMask` (ops/dropout.ts, ops/philox.ts): Philox4x32-10 in CUDA C with
 * the constants of `PHILOX`, one thread per block of four elements (counter [block, 0,
 * counter0, counter1], key [key0, key1]); element 4·block + j takes word j and is 0 when its
 * top 24 bits are below the threshold, else the scale. Integer rounds (the 32×32→64-bit
 * products compile to mul.hi/mul.lo) and an integer comparison, so the mask is bit-identical
 * to the cpu and webgpu kernels'. The round function is plain C, so the same text is checked
 * on the host against Random123's known-answer vectors (tests/ops/cuda/philox_host_test.ts).
 *
 * Not here: the op's declaration and the seeded draw of key and counter (ops/dropout.ts).
 */
import { registerKernel } from "../../../op_registry.ts";
import { sizeOf } from "../../../shape.ts";
import { argPtr, cudaBackend, type CudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, packWords } from "./cuda_c.ts";

/** Attributes of `dropoutMask` as ops/dropout.ts declares them. */
interface DropoutMaskAttrs {
  readonly key: readonly [number, number];
  readonly counter: readonly [number, number];
  readonly threshold: number;
  readonly scale: number;
}

/**
 * Philox4x32-10 (Salmon et al., SC 2011, §4.1) in C that is valid both as CUDA device code
 * and as host C (`PHILOX_FN` is `__device__` for NVRTC, empty for a host compiler).
 */
export const PHILOX_C = `typedef unsigned int u32;
typedef unsigned long long u64;
PHILOX_FN void philox4x32_10(u32 c[4], u32 k0, u32 k1) {
  for (int r = 0; r < 10; r++) {
    if (r > 0) { k0 += 0x9e3779b9u; k1 += 0xbb67ae85u; }
    u64 p0 = (u64)0xd2511f53u * c[0];
    u64 p1 = (u64)0xcd9e8d57u * c[2];
    u32 n0 = (u32)(p1 >> 32) ^ c[1] ^ k0;
    u32 n2 = (u32)(p0 >> 32) ^ c[3] ^ k1;
    c[1] = (u32)p1;
    c[3] = (u32)p0;
    c[0] = n0;
    c[2] = n2;
  }
}
`;

/** CUDA C of the mask kernel: `dropout_mask(out, Meta { size, key0, key1, counter0, counter1, threshold, scale })`. */
export function dropoutMaskSource(): string {
  return `#define PHILOX_FN __device__ __forceinline__
${PHILOX_C}
struct Meta { unsigned size; unsigned key0; unsigned key1; unsigned counter0; unsigned counter1; unsigned threshold; float scale; };
extern "C" __global__ void dropout_mask(float* __restrict__ out, Meta m) {
  unsigned blocks = (m.size + 3) / 4;
  for (unsigned b = blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += gridDim.x * blockDim.x) {
    u32 c[4] = { b, 0u, m.counter0, m.counter1 };
    philox4x32_10(c, m.key0, m.key1);
    unsigned base = b * 4;
    for (unsigned j = 0; j < 4 && base + j < m.size; j++) out[base + j] = (c[j] >> 8) < m.threshold ? 0.0f : m.scale;
  }
}
`;
}

registerKernel<DropoutMaskAttrs>("dropoutMask", "cuda", ({ attrs, outputs, backend }) => {
  const cuda = cudaBackend(backend);
  const size = sizeOf(outputs[0].shape);
  const out = cuda.alloc(outputs[0].dtype, size) as CudaStorage;
  if (size === 0) return [out];
  const fn = cuda.kernel("dropoutMask", "dropout_mask", dropoutMaskSource);
  const meta = packWords(
    [size, attrs.key[0], attrs.key[1], attrs.counter[0], attrs.counter[1], attrs.threshold, attrs.scale],
    [6],
  );
  cuda.launch(fn, [blocksFor(Math.ceil(size / 4))], BLOCK, [argPtr(out), { bytes: meta }]);
  return [out];
});
