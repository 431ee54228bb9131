/**
 * The one strided copy behind the cpu layout kernels (permute, slice and its backward,
 * concat, pad): dst[dstOffset + Σ i_k·dstStrides[k]] = src[srcOffset + Σ i_k·srcStrides[k]]
 * for every multi-index i of `shape`. The innermost axis runs as a plain loop; when that
 * axis reads the source with a stride while another axis reads it contiguously (a
 * transpose), the two axes are copied in square tiles so that both sides stay in cache.
 *
 * 4-byte elements on the WASM heap are copied in WebAssembly (wasm/strided_copy_wasm.ts).
 *
 * Not here: bounds checks (callers compute offsets and strides from validated shapes).
 */
import type { TypedArray } from "../../dtype.ts";
import { wasmStridedCopy } from "./wasm/strided_copy_wasm.ts";

const TILE = 32;

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
  if (wasmStridedCopy(dst, dstOffset, dstStrides, src, srcOffset, srcStrides, shape)) return;
  const rank = shape.length;
  let size = 1;
  for (let k = 0; k < rank; k++) size *= shape[k];
  if (size === 0) return;
  if (rank === 0) {
    dst[dstOffset] = src[srcOffset];
    return;
  }
  const last = rank - 1;
  // The axis (other than the last) that reads the source contiguously, if the last does not.
  let a = -1;
  if (srcStrides[last] !== 1 && dstStrides[last] === 1 && shape[last] >= TILE) {
    for (let k = 0; k < last; k++) if (srcStrides[k] === 1 && shape[k] >= TILE) a = k;
  }
  if (a < 0) {
    copyRows(dst, dstOffset, dstStrides, src, srcOffset, srcStrides, shape);
    return;
  }
  // Walk every axis but a and the last; copy an [shape[a], shape[last]] tiled block at each.
  const outer = shape.map((n, k) => (k === a || k === last ? 1 : n));
  const idx = new Int32Array(rank);
  let d = dstOffset, s = srcOffset;
  const na = shape[a], nl = shape[last];
  const dA = dstStrides[a], sL = srcStrides[last];
  let blocks = 1;
  for (let k = 0; k < rank; k++) blocks *= outer[k];
  for (let b = 0; b < blocks; b++) {
    for (let i0 = 0; i0 < na; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, na);
      for (let j0 = 0; j0 < nl; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, nl);
        for (let i = i0; i < i1; i++) {
          const dRow = d + i * dA;
          const sRow = s + i;
          for (let j = j0; j < j1; j++) dst[dRow + j] = src[sRow + j * sL];
        }
      }
    }
    for (let ax = rank - 1; ax >= 0; ax--) {
      if (outer[ax] === 1) continue;
      idx[ax]++;
      d += dstStrides[ax];
      s += srcStrides[ax];
      if (idx[ax] < outer[ax]) break;
      d -= dstStrides[ax] * outer[ax];
      s -= srcStrides[ax] * outer[ax];
      idx[ax] = 0;
    }
  }
}

/** The plain walk: one loop over the innermost axis per position of the outer axes. */
function copyRows(
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
  const inner = shape[rank - 1];
  const ds = dstStrides[rank - 1], ss = srcStrides[rank - 1];
  const idx = new Int32Array(rank);
  let d = dstOffset, s = srcOffset;
  for (let done = 0; done < size; done += inner) {
    if (ds === 1 && ss === 1) {
      for (let j = 0; j < inner; j++) dst[d + j] = src[s + j];
    } else {
      for (let j = 0; j < inner; j++) dst[d + j * ds] = src[s + j * ss];
    }
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
