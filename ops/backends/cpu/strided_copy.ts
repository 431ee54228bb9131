/**
 * The one strided copy behind the cpu layout kernels (permute, slice and its backward,
 * concat, pad): dst[dstOffset + Σ i_k·dstStrides[k]] = src[srcOffset + Σ i_k·srcStrides[k]]
 * for every multi-index i of `shape`. The innermost axis runs as a plain loop.
 *
 * Not here: bounds checks (callers compute offsets and strides from validated shapes).
 */
import type { TypedArray } from "../../dtype.ts";

/** Copies the `shape`-sized strided block of `src` into the strided block of `dst`. */
export function stridedCopy(
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  shape: readonly number[],
): void {
  const rank = shape.length;
  let size = 1;
  for (let k = 0; k < rank; k++) size *= shape[k];
  if (size === 0) return;
  if (rank === 0) {
    dst[dstOffset] = src[srcOffset];
    return;
  }
  const inner = shape[rank - 1];
  const ds = dstStrides[rank - 1], ss = srcStrides[rank - 1];
  const idx = new Int32Array(rank);
  let d = dstOffset, s = srcOffset;
  for (let done = 0; done < size; done += inner) {
    for (let j = 0; j < inner; j++) dst[d + j * ds] = src[s + j * ss];
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      d += dstStrides[ax];
      s += srcStrides[ax];
      if (idx[ax] < shape[ax]) break;
      d -= dstStrides[ax] * shape[ax];
      s -= srcStrides[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
}
