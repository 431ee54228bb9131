/**
 * What every CUDA C kernel of the cuda backend shares: helpers where C's math differs from
 * JavaScript's (the cpu reference), the storage type of each dtype, launch geometry, and the
 * packing of the small by-value parameter structs the kernels take (extents and strides).
 *
 * Not here: any kernel (one file per op family renders its own source).
 */
import type { DType } from "../../../dtype.ts";

/** Threads per block of the elementwise and reduction kernels. */
export const BLOCK = 256;
/** Most axes a kernel indexes after collapsing contiguous ones. */
export const MAX_RANK = 8;

/**
 * C's fmaxf/fminf return the other operand for a NaN and powf(1, NaN) is 1, where
 * Math.max/min/pow give NaN: these helpers follow JavaScript, so cuda matches the cpu.
 */
export const CUDA_PRELUDE = `#define JS_NAN __int_as_float(0x7fc00000)
__device__ __forceinline__ float js_max(float a, float b) { return (a != a || b != b) ? JS_NAN : fmaxf(a, b); }
__device__ __forceinline__ float js_min(float a, float b) { return (a != a || b != b) ? JS_NAN : fminf(a, b); }
__device__ __forceinline__ float js_pow(float x, float y) {
  if (y == 0.0f) return 1.0f;
  if (y != y || ((x == 1.0f || x == -1.0f) && isinf(y))) return JS_NAN;
  return powf(x, y);
}
`;

/** The C type of a dtype's storage. */
export function cudaType(dtype: DType): string {
  if (dtype === "float32") return "float";
  if (dtype === "int32") return "int";
  throw new TypeError(`ops/backends/cuda: no CUDA kernels for ${dtype} (float64 stays on the cpu backend)`);
}

/** Blocks for `n` threads of `BLOCK`, capped so that grid-stride loops cover the rest. */
export function blocksFor(n: number, cap = 65535): number {
  return Math.max(1, Math.min(cap, Math.ceil(n / BLOCK)));
}

/** Little-endian bytes of a struct of 32-bit fields (unsigned, int or float by `kinds`). */
export function packWords(words: readonly number[], floatAt: readonly number[] = []): Uint8Array {
  const bytes = new Uint8Array(Math.max(4, words.length * 4));
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => {
    if (floatAt.includes(i)) view.setFloat32(i * 4, w, true);
    else view.setUint32(i * 4, w >>> 0, true);
  });
  return bytes;
}

/**
 * C statements that unravel flat index `index` over `extents` (a C array of `rank` entries,
 * outermost first) and add `index`'s offset under each of `strides` to the named variables.
 */
export function unravelC(
  index: string,
  rank: number,
  extents: string,
  strides: readonly [string, string][],
): string {
  const lines = [`unsigned rest_${index} = ${index};`];
  for (let d = rank - 1; d >= 0; d--) {
    const c = d > 0 ? `rest_${index} % ${extents}[${d}]` : `rest_${index}`;
    const adds = strides.map(([v, s]) => `${v} += c * ${s}[${d}];`).join(" ");
    lines.push(`{ unsigned c = ${c}; ${adds}${d > 0 ? ` rest_${index} /= ${extents}[${d}];` : ""} }`);
  }
  return lines.join("\n    ");
}
