/**
 * cpu kernels of conv2d, conv2dBackwardData and conv2dBackwardFilter, and the convolution
 * engine they share with conv1d (ops/backends/cpu/conv1d.ts runs it with H = KH = 1).
 *
 * - General case: the input of one group of one sample is copied once into a zero-padded
 *   buffer, im2col copies from it into a column buffer [Cin/g·KH·KW, tile of output positions]
 *   (no bounds checks), then `gemm` (OpenBLAS sgemm/dgemm when present): forward W·cols,
 *   backward-filter dy·colsᵀ accumulated over the batch, backward-data Wᵀ·dy followed by col2im
 *   (scatter-add). Columns are tiled along the output positions so the buffer stays under 16 MB
 *   of float32 (DeepSpeech2's second conv would need ~600 MB); buffers are reused between calls.
 * - Stride-1 backward-data is the forward conv of dy with the flipped, transposed kernel, so its
 *   im2col is a copy instead of a scatter-add.
 * - 1×1 convolutions with stride 1 and no padding skip im2col: x is its own column matrix.
 * - One input channel per group and few outputs per group (depthwise, QuartzNet): direct loops,
 *   where a GEMM would have M ≈ 1.
 *
 * Kernels are generic over Float32Array / Float64Array (float64 for gradient checks).
 * Not here: Winograd/FFT algorithms, multithreading outside of gemm.
 */
import { registerKernel } from "../../engine.ts";
import type { Conv2dAttrs, Conv2dBackwardDataAttrs, Conv2dBackwardFilterAttrs } from "../../conv2d.ts";
import { sizeOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { gemm } from "./blas.ts";

type Floats = Float32Array | Float64Array;

/**
 * Sizes and attributes of one convolution, as the engine reads them: x [n, cin, h, w],
 * w [cout, cin/groups, kh, kw], y [n, cout, hOut, wOut]; padBottom/padRight are implied by hOut/wOut.
 */
export interface ConvGeometry {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  hOut: number;
  wOut: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

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
function scratchLike(like: Floats, size: number, slot: 0 | 1): Floats {
  if (like instanceof Float32Array) {
    if (scratch32[slot].length < size) scratch32[slot] = new Float32Array(size);
    return scratch32[slot];
  }
  if (scratch64[slot].length < size) scratch64[slot] = new Float64Array(size);
  return scratch64[slot];
}

function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 &&
    g.padLeft === 0 && g.hOut === g.h && g.wOut === g.w;
}

/**
 * Direct loops for one input channel per group with few outputs per group (depthwise): there a
 * GEMM would have M = Cout/groups ≈ 1. A single input channel feeding many outputs (the first
 * conv of DeepSpeech2: 1 → 32 channels) still goes through im2col + GEMM.
 */
function isDirect(g: ConvGeometry): boolean {
  return g.cin === g.groups && g.cout / g.groups < 8;
}

function tileLength(g: ConvGeometry): number {
  const rows = (g.cin / g.groups) * g.kh * g.kw;
  const len = g.hOut * g.wOut;
  return Math.min(len, Math.max(minTile, Math.floor(tileElements / rows)));
}

/** Extent [Hp, Wp] of the padded input that the output positions read. */
function paddedSize(g: ConvGeometry): [number, number] {
  return [
    (g.hOut - 1) * g.strideH + (g.kh - 1) * g.dilationH + 1,
    (g.wOut - 1) * g.strideW + (g.kw - 1) * g.dilationW + 1,
  ];
}

/**
 * xp[c, a, b] = x[c, a - padTop, b - padLeft] (0 outside x) for one group of one sample, so
 * that im2col needs no bounds checks. Negative padding (backward-data as a forward conv) crops.
 */
function padInput(x: Floats, xOff: number, xp: Floats, g: ConvGeometry, hp: number, wp: number): void {
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
function unpadAdd(dxp: Floats, dx: Floats, xOff: number, g: ConvGeometry, hp: number, wp: number): void {
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

/**
 * Columns for output positions [p0, p1) (p = oh·wOut + ow) from the padded input:
 * cols[r·(p1-p0) + p - p0] = xp[c, oh·sh + i·dh, ow·sw + j·dw], r = (c·KH + i)·KW + j.
 * With `scatter`, the reverse: xp[...] += cols[...] (col2im).
 */
function im2col(
  xp: Floats,
  cols: Floats,
  g: ConvGeometry,
  hp: number,
  wp: number,
  range: [number, number],
  scatter: boolean,
): void {
  const [p0, p1] = range;
  const cinG = g.cin / g.groups;
  const { kh, kw, wOut, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw } = g;
  const ld = p1 - p0;
  const ohStart = Math.floor(p0 / wOut);
  const ohEnd = Math.floor((p1 - 1) / wOut) + 1;
  let r = 0;
  for (let c = 0; c < cinG; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        for (let oh = ohStart; oh < ohEnd; oh++) {
          const pRow = oh * wOut;
          const a = p0 > pRow ? p0 - pRow : 0;
          const b = p1 - pRow < wOut ? p1 - pRow : wOut;
          const dst = r * ld - p0 + pRow;
          let q = (c * hp + oh * sh + i * dh) * wp + j * dw + a * sw;
          if (scatter) {
            for (let ow = a; ow < b; ow++, q += sw) xp[q] += cols[dst + ow];
          } else if (sw === 1 && b - a >= 32) {
            cols.set(xp.subarray(q, q + b - a), dst + a);
          } else {
            for (let ow = a; ow < b; ow++, q += sw) cols[dst + ow] = xp[q];
          }
        }
      }
    }
  }
}

/** Output columns [lo, hi) for which every tap of a kernel row reads inside [0, w). */
function interiorColumns(g: ConvGeometry): [number, number] {
  const { w, kw, wOut, strideW: sw, padLeft: pl, dilationW: dw } = g;
  const lo = Math.min(wOut, Math.ceil(pl / sw));
  const last = w - 1 + pl - (kw - 1) * dw;
  const hi = last < 0 ? lo : Math.max(lo, Math.min(wOut, Math.floor(last / sw) + 1));
  return [lo, hi];
}

/**
 * Forward with one input channel per group (depthwise): each output is a dot product over
 * the taps, four outputs at a time (independent sums, each tap weight loaded once per four).
 */
function depthwiseForward(x: Floats, w: Floats, y: Floats, g: ConvGeometry): void {
  const { n, cin, cout, h, w: width, kh, kw, hOut, wOut, strideH: sh, strideW: sw } = g;
  const dw = g.dilationW, pl = g.padLeft;
  const coutG = cout / g.groups;
  const [inLo, inHi] = interiorColumns(g);
  for (let ni = 0; ni < n; ni++) {
    for (let oc = 0; oc < cout; oc++) {
      const xOff = (ni * cin + Math.floor(oc / coutG)) * h * width;
      const yOff = (ni * cout + oc) * hOut * wOut;
      for (let oh = 0; oh < hOut; oh++) {
        const dst = yOff + oh * wOut;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i * g.dilationH - g.padTop;
          if (ih < 0 || ih >= h) continue;
          const src = xOff + ih * width - pl; // x index of (ow, j): src + ow·sw + j·dw
          const wRow = (oc * kh + i) * kw;
          let ow = inLo;
          for (; ow + 3 < inHi; ow += 4) {
            let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            let p = src + ow * sw;
            for (let j = 0; j < kw; j++, p += dw) {
              const wv = w[wRow + j];
              s0 += wv * x[p];
              s1 += wv * x[p + sw];
              s2 += wv * x[p + 2 * sw];
              s3 += wv * x[p + 3 * sw];
            }
            y[dst + ow] += s0;
            y[dst + ow + 1] += s1;
            y[dst + ow + 2] += s2;
            y[dst + ow + 3] += s3;
          }
          for (let o = 0; o < wOut; o++) {
            // The remainder of the interior and both edges, with a bounds check per tap.
            if (o === inLo) o = ow;
            if (o >= wOut) break;
            let acc = 0;
            for (let j = 0; j < kw; j++) {
              const iw = o * sw - pl + j * dw;
              if (iw >= 0 && iw < width) acc += w[wRow + j] * x[src + pl + iw];
            }
            y[dst + o] += acc;
          }
        }
      }
    }
  }
}

/**
 * Backward-filter with one input channel per group: dw[oc, i, j] = Σ dy·x. Each input row is
 * first copied into a zero-padded row, so every tap reads in bounds; four taps are then
 * accumulated together (each dy value loaded once per four taps, four independent sums).
 */
function depthwiseBackwardFilter(x: Floats, dy: Floats, dWeight: Floats, g: ConvGeometry): void {
  const { n, cin, cout, h, w: width, kh, kw, hOut, wOut, strideH: sh, strideW: sw } = g;
  const dw = g.dilationW, pl = g.padLeft;
  const coutG = cout / g.groups;
  const span = (wOut - 1) * sw + (kw - 1) * dw + 1;
  const row = new Float64Array(span);
  const acc = new Float64Array(kw);
  const copyLo = Math.min(span, pl), copyHi = Math.max(copyLo, Math.min(span, pl + width));
  for (let oc = 0; oc < cout; oc++) {
    for (let i = 0; i < kh; i++) {
      acc.fill(0);
      for (let ni = 0; ni < n; ni++) {
        const xOff = (ni * cin + Math.floor(oc / coutG)) * h * width;
        const yOff = (ni * cout + oc) * hOut * wOut;
        for (let oh = 0; oh < hOut; oh++) {
          const ih = oh * sh + i * g.dilationH - g.padTop;
          if (ih < 0 || ih >= h) continue;
          // row[k] = x[ih, k - pl], zero outside the input.
          const src = xOff + ih * width - pl;
          row.fill(0, 0, copyLo);
          for (let k = copyLo; k < copyHi; k++) row[k] = x[src + k];
          row.fill(0, copyHi);
          const d = yOff + oh * wOut;
          let j = 0;
          for (; j + 3 < kw; j += 4) {
            let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            let p = j * dw;
            for (let ow = 0; ow < wOut; ow++, p += sw) {
              const v = dy[d + ow];
              a0 += v * row[p];
              a1 += v * row[p + dw];
              a2 += v * row[p + 2 * dw];
              a3 += v * row[p + 3 * dw];
            }
            acc[j] += a0;
            acc[j + 1] += a1;
            acc[j + 2] += a2;
            acc[j + 3] += a3;
          }
          for (; j < kw; j++) {
            let a = 0;
            let p = j * dw;
            for (let ow = 0; ow < wOut; ow++, p += sw) a += dy[d + ow] * row[p];
            acc[j] += a;
          }
        }
      }
      const wRow = (oc * kh + i) * kw;
      for (let j = 0; j < kw; j++) dWeight[wRow + j] += acc[j];
    }
  }
}

/** Backward-data with one input channel per group and stride > 1: per tap, an axpy into dx. */
function depthwiseBackwardDataStrided(dy: Floats, w: Floats, dx: Floats, g: ConvGeometry): void {
  const { n, cin, cout, h, w: width, kh, kw, hOut, wOut, strideH: sh, strideW: sw } = g;
  const coutG = cout / g.groups;
  for (let ni = 0; ni < n; ni++) {
    for (let oc = 0; oc < cout; oc++) {
      const xOff = (ni * cin + Math.floor(oc / coutG)) * h * width;
      const yOff = (ni * cout + oc) * hOut * wOut;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const wBase = j * g.dilationW - g.padLeft;
          let owLo = wBase >= 0 ? 0 : Math.ceil(-wBase / sw);
          let owHi = wBase > width - 1 ? 0 : Math.floor((width - 1 - wBase) / sw) + 1;
          if (owLo > wOut) owLo = wOut;
          if (owHi > wOut) owHi = wOut;
          const wv = w[(oc * kh + i) * kw + j];
          for (let oh = 0; oh < hOut; oh++) {
            const ih = oh * sh + i * g.dilationH - g.padTop;
            if (ih < 0 || ih >= h) continue;
            const src = xOff + ih * width + wBase;
            const d = yOff + oh * wOut;
            for (let ow = owLo; ow < owHi; ow++) dx[src + ow * sw] += wv * dy[d + ow];
          }
        }
      }
    }
  }
}

/** y = conv(x, w) + b, y zero-initialised [N, Cout, Hout, Wout]. */
export function convForward(x: Floats, w: Floats, b: Floats | null, y: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  const rows = cinG * g.kh * g.kw;
  const len = g.hOut * g.wOut;
  const plane = g.h * g.w;
  if (isDirect(g)) {
    depthwiseForward(x, w, y, g);
  } else {
    const pointwise = isPointwise(g);
    const tile = tileLength(g);
    const cols = pointwise ? null : scratchLike(x, rows * tile, 0);
    const [hp, wp] = paddedSize(g);
    const xp = pointwise ? null : scratchLike(x, cinG * hp * wp, 1);
    for (let ni = 0; ni < g.n; ni++) {
      for (let gi = 0; gi < g.groups; gi++) {
        const xOff = (ni * g.cin + gi * cinG) * plane;
        const yOff = (ni * g.cout + gi * coutG) * len;
        const wOff = gi * coutG * rows;
        if (!cols || !xp) {
          gemm(false, false, coutG, len, rows, 1, w, wOff, rows, x, xOff, len, 0, y, yOff, len);
          continue;
        }
        padInput(x, xOff, xp, g, hp, wp);
        for (let p0 = 0; p0 < len; p0 += tile) {
          const p1 = Math.min(len, p0 + tile);
          im2col(xp, cols, g, hp, wp, [p0, p1], false);
          gemm(false, false, coutG, p1 - p0, rows, 1, w, wOff, rows, cols, 0, p1 - p0, 0, y, yOff + p0, len);
        }
      }
    }
  }
  if (b) {
    for (let ni = 0; ni < g.n; ni++) {
      for (let oc = 0; oc < g.cout; oc++) {
        const off = (ni * g.cout + oc) * len;
        const bv = b[oc];
        for (let p = 0; p < len; p++) y[off + p] += bv;
      }
    }
  }
}

/**
 * With stride 1, backward-data is a forward convolution of dy with the kernel transposed
 * (Cin ↔ Cout within each group) and flipped, padded by (K-1)·dilation - pad before: its
 * im2col is a copy, where the general path needs a scatter-add (col2im) after the GEMM.
 */
function backwardDataAsForward(dy: Floats, w: Floats, dx: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  const taps = g.kh * g.kw;
  const wt = new (w.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(w.length);
  // w [G·coutG, cinG, KH, KW] → wt [G·cinG, coutG, KH, KW], taps reversed.
  for (let gi = 0; gi < g.groups; gi++) {
    for (let co = 0; co < coutG; co++) {
      for (let ci = 0; ci < cinG; ci++) {
        const src = ((gi * coutG + co) * cinG + ci) * taps;
        const dst = ((gi * cinG + ci) * coutG + co) * taps;
        for (let k = 0; k < taps; k++) wt[dst + k] = w[src + taps - 1 - k];
      }
    }
  }
  convForward(dy, wt, null, dx, {
    n: g.n,
    cin: g.cout,
    h: g.hOut,
    w: g.wOut,
    cout: g.cin,
    kh: g.kh,
    kw: g.kw,
    hOut: g.h,
    wOut: g.w,
    strideH: 1,
    strideW: 1,
    padTop: (g.kh - 1) * g.dilationH - g.padTop,
    padLeft: (g.kw - 1) * g.dilationW - g.padLeft,
    dilationH: g.dilationH,
    dilationW: g.dilationW,
    groups: g.groups,
  });
}

/** dx = convᵀ(dy, w), dx zero-initialised [N, Cin, H, W]. */
export function convBackwardData(dy: Floats, w: Floats, dx: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  if (g.strideH === 1 && g.strideW === 1 && !isPointwise(g)) return backwardDataAsForward(dy, w, dx, g);
  if (isDirect(g)) return depthwiseBackwardDataStrided(dy, w, dx, g);
  const rows = cinG * g.kh * g.kw;
  const len = g.hOut * g.wOut;
  const plane = g.h * g.w;
  const pointwise = isPointwise(g);
  const tile = tileLength(g);
  const cols = pointwise ? null : scratchLike(dx, rows * tile, 0);
  const [hp, wp] = paddedSize(g);
  const dxp = pointwise ? null : scratchLike(dx, cinG * hp * wp, 1);
  for (let ni = 0; ni < g.n; ni++) {
    for (let gi = 0; gi < g.groups; gi++) {
      const xOff = (ni * g.cin + gi * cinG) * plane;
      const yOff = (ni * g.cout + gi * coutG) * len;
      const wOff = gi * coutG * rows;
      if (!cols || !dxp) {
        gemm(true, false, cinG, len, coutG, 1, w, wOff, rows, dy, yOff, len, 0, dx, xOff, len);
        continue;
      }
      dxp.fill(0, 0, cinG * hp * wp);
      for (let p0 = 0; p0 < len; p0 += tile) {
        const p1 = Math.min(len, p0 + tile);
        gemm(true, false, rows, p1 - p0, coutG, 1, w, wOff, rows, dy, yOff + p0, len, 0, cols, 0, p1 - p0);
        im2col(dxp, cols, g, hp, wp, [p0, p1], true);
      }
      unpadAdd(dxp, dx, xOff, g, hp, wp);
    }
  }
}

/** dw = Σ_n corr(dy, x), dw zero-initialised [Cout, Cin/groups, KH, KW]. */
export function convBackwardFilter(x: Floats, dy: Floats, dw: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  if (isDirect(g)) return depthwiseBackwardFilter(x, dy, dw, g);
  const rows = cinG * g.kh * g.kw;
  const len = g.hOut * g.wOut;
  const plane = g.h * g.w;
  const pointwise = isPointwise(g);
  const tile = tileLength(g);
  const cols = pointwise ? null : scratchLike(x, rows * tile, 0);
  const [hp, wp] = paddedSize(g);
  const xp = pointwise ? null : scratchLike(x, cinG * hp * wp, 1);
  for (let ni = 0; ni < g.n; ni++) {
    for (let gi = 0; gi < g.groups; gi++) {
      const xOff = (ni * g.cin + gi * cinG) * plane;
      const yOff = (ni * g.cout + gi * coutG) * len;
      const wOff = gi * coutG * rows;
      if (!cols || !xp) {
        gemm(false, true, coutG, cinG, len, 1, dy, yOff, len, x, xOff, len, 1, dw, wOff, rows);
        continue;
      }
      padInput(x, xOff, xp, g, hp, wp);
      for (let p0 = 0; p0 < len; p0 += tile) {
        const p1 = Math.min(len, p0 + tile);
        im2col(xp, cols, g, hp, wp, [p0, p1], false);
        gemm(false, true, coutG, rows, p1 - p0, 1, dy, yOff + p0, len, cols, 0, p1 - p0, 1, dw, wOff, rows);
      }
    }
  }
}

function geometry2d(
  xShape: readonly number[],
  wShape: readonly number[],
  yShape: readonly number[],
  a: Conv2dAttrs,
): ConvGeometry {
  return {
    n: xShape[0],
    cin: xShape[1],
    h: xShape[2],
    w: xShape[3],
    cout: wShape[0],
    kh: wShape[2],
    kw: wShape[3],
    hOut: yShape[2],
    wOut: yShape[3],
    strideH: a.strideH,
    strideW: a.strideW,
    padTop: a.padTop,
    padLeft: a.padLeft,
    dilationH: a.dilationH,
    dilationW: a.dilationW,
    groups: a.groups,
  };
}

registerKernel<Conv2dAttrs>("conv2d", "cpu", ({ inputs: [x, w, b], attrs, outputs: [spec], backend }) => {
  const y = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
  const g = geometry2d(x.shape, w.shape, spec.shape, attrs);
  convForward(cpuData(x) as Floats, cpuData(w) as Floats, b ? cpuData(b) as Floats : null, y, g);
  return [y];
});

registerKernel<Conv2dBackwardDataAttrs>(
  "conv2dBackwardData",
  "cpu",
  ({ inputs: [dy, w], attrs, outputs: [spec], backend }) => {
    const dx = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
    const g = geometry2d(spec.shape, w.shape, dy.shape, attrs);
    convBackwardData(cpuData(dy) as Floats, cpuData(w) as Floats, dx, g);
    return [dx];
  },
);

registerKernel<Conv2dBackwardFilterAttrs>(
  "conv2dBackwardFilter",
  "cpu",
  ({ inputs: [x, dy], attrs, outputs: [spec], backend }) => {
    const dw = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
    const g = geometry2d(x.shape, spec.shape, dy.shape, attrs);
    convBackwardFilter(cpuData(x) as Floats, cpuData(dy) as Floats, dw, g);
    return [dw];
  },
);
