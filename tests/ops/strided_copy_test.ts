import assert from "node:assert/strict";
import { stridedCopy } from "../../ops/backends/cpu/strided_copy.ts";
import { stridesOf } from "../../ops/shape.ts";

/** dst[Σ i·ds] = src[Σ i·ss] written as one loop over flat indices. */
function naive(
  shape: number[],
  srcStrides: number[],
  dstStrides: number[],
  src: Float64Array,
  dstSize: number,
) {
  const out = new Float64Array(dstSize).fill(-1);
  const size = shape.reduce((p, q) => p * q, 1);
  for (let f = 0; f < size; f++) {
    let rest = f, so = 0, d = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      const i = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
      so += i * srcStrides[k];
      d += i * dstStrides[k];
    }
    out[d] = src[so];
  }
  return out;
}

Deno.test("stridedCopy transposes large blocks in tiles exactly like the naive walk", () => {
  for (
    const [shape, perm] of [[[3, 70, 45], [0, 2, 1]], [[40, 2, 33], [2, 1, 0]], [[33, 5, 64], [
      2,
      0,
      1,
    ]]] as const
  ) {
    const src = Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => i);
    const inStrides = stridesOf(shape);
    const outShape = perm.map((a) => shape[a]);
    const srcStrides = perm.map((a) => inStrides[a]);
    const dstStrides = stridesOf(outShape);
    const dst = new Float64Array(src.length).fill(-1);
    stridedCopy(dst, 0, dstStrides, src, 0, srcStrides, outShape);
    assert.deepEqual(
      dst,
      naive(outShape, srcStrides, dstStrides, src, src.length),
      `[${shape}] by [${perm}]`,
    );
  }
});

Deno.test("stridedCopy writes only its block when offsets and gaps are involved", () => {
  const src = Float64Array.from({ length: 64 * 40 }, (_, i) => i);
  // A [40, 32] block read transposed from a [64, 40] source into rows of 50 at offset 7.
  const dst = new Float64Array(7 + 40 * 50).fill(-1);
  stridedCopy(dst, 7, [50, 1], src, 3, [1, 40], [40, 32]);
  const want = new Float64Array(dst.length).fill(-1);
  for (let i = 0; i < 40; i++) for (let j = 0; j < 32; j++) want[7 + i * 50 + j] = src[3 + i + j * 40];
  assert.deepEqual(dst, want);
});
