/**
 * Shared pieces of the cpu convolution kernels (ops/backends/cpu/conv2d.ts, conv_rows.ts,
 * conv_depthwise.ts): the geometry record, reusable scratch buffers, the column-buffer budget,
 * and the zero-padded copy of the input that lets column builders skip bounds checks.
 * Not here: any arithmetic of the convolution itself.
 */
import type { ConvGeometry } from "../../conv_geometry.ts";

/** Float arrays the convolution kernels run on (float64 for gradient checks). */
export type Floats = Float32Array | Float64Array;

/** Column-buffer budget in elements (16 MB of float32). */
let tileElements = 1 << 22;
/** Smallest tile width, so that GEMMs stay efficient for very deep columns. */
let minTile = 256;

/**
 * @internal Sets the column-buffer budget (elements) and the smallest tile width, returning
 * the previous pair. Tests use tiny values to force tiling through partial rows.
 */
export function setColumnTiling(elements: number, minTileWidth: number): [number, number] {
  const prev: [number, number] = [tileElements, minTile];
  tileElements = elements;
  minTile = minTileWidth;
  return prev;
}

// Two reusable buffers per dtype: [0] columns, [1] the zero-padded input.
const scratch32: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
const scratch64: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** Reusable buffer `slot` of at least `size` elements of `like`'s type (contents undefined). */
export function scratchLike(like: Floats, size: number, slot: 0 | 1): Floats {
  if (like instanceof Float32Array) {
    if (scratch32[slot].length < size) scratch32[slot] = new Float32Array(size);
    return scratch32[slot];
  }
  if (scratch64[slot].length < size) scratch64[slot] = new Float64Array(size);
  return scratch64[slot];
}

/** Current column-buffer budget in elements and smallest tile width. */
export function columnTiling(): [number, number] {
  return [tileElements, minTile];
}

/** Extent [Hp, Wp] of the padded input that the output positions read. */
export function paddedSize(g: ConvGeometry): [number, number] {
  return [
    (g.hOut - 1) * g.strideH + (g.kh - 1) * g.dilationH + 1,
    (g.wOut - 1) * g.strideW + (g.kw - 1) * g.dilationW + 1,
  ];
}

/**
 * xp[c, a, b] = x[c, a - padTop, b - padLeft] (0 outside x) for one group of one sample, so
 * that im2col needs no bounds checks. Negative padding (backward-data as a forward conv) crops.
 */
export function padInput(x: Floats, xOff: number, xp: Floats, g: ConvGeometry, hp: number, wp: number): void {
  const cinG = g.cin / g.groups;
  const { h, w, padTop: pt, padLeft: pl } = g;
  const bLo = Math.min(wp, Math.max(0, pl)), bHi = Math.max(bLo, Math.min(wp, pl + w));
  for (let c = 0; c < cinG; c++) {
    for (let a = 0; a < hp; a++) {
      const dst = (c * hp + a) * wp;
      const row = a - pt;
      if (row < 0 || row >= h) {
        xp.fill(0, dst, dst + wp);
        continue;
      }
      const src = xOff + (c * h + row) * w - pl;
      for (let b = 0; b < bLo; b++) xp[dst + b] = 0;
      if (bHi - bLo >= 32) xp.set(x.subarray(src + bLo, src + bHi), dst + bLo);
      else for (let b = bLo; b < bHi; b++) xp[dst + b] = x[src + b];
      for (let b = bHi; b < wp; b++) xp[dst + b] = 0;
    }
  }
}

/** dx[c, y, x] += dxp[c, y + padTop, x + padLeft]: the inverse of padInput for gradients. */
export function unpadAdd(
  dxp: Floats,
  dx: Floats,
  xOff: number,
  g: ConvGeometry,
  hp: number,
  wp: number,
): void {
  const cinG = g.cin / g.groups;
  const { h, w, padTop: pt, padLeft: pl } = g;
  const xLo = Math.max(0, -pl), xHi = Math.min(w, wp - pl);
  for (let c = 0; c < cinG; c++) {
    for (let row = Math.max(0, -pt); row < h && row + pt < hp; row++) {
      const src = (c * hp + row + pt) * wp + pl;
      const dst = xOff + (c * h + row) * w;
      for (let k = xLo; k < xHi; k++) dx[dst + k] += dxp[src + k];
    }
  }
}
