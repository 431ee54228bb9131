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
 * - Stride 1 along H with KH > 1 (DeepSpeech2's [11×21] convs): kernel rows as separate GEMMs
 *   over row columns, unfolding each input row KW instead of KH·KW times (conv_rows.ts).
 * - Stride-1 backward-data is the forward conv of dy with the flipped, transposed kernel, so its
 *   im2col is a copy instead of a scatter-add.
 * - 1×1 convolutions with stride 1 and no padding skip im2col: x is its own column matrix.
 * - One input channel per group and few outputs per group (depthwise, QuartzNet): direct loops,
 *   where a GEMM would have M ≈ 1.
 *
 * Kernels are generic over Float32Array / Float64Array (float64 for gradient checks);
 * float16 inputs are widened to float32 first (ops/gemm_dtype.ts).
 * Not here: Winograd/FFT algorithms, multithreading outside of gemm.
 */
import { registerKernel } from "../../op_registry.ts";
import type { Conv2dAttrs } from "../../conv2d.ts";
import { conv2dGeometry, type ConvGeometry } from "../../conv_geometry.ts";
import { sizeOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { gemm } from "./blas.ts";
import { widenFloat16Inputs } from "../../gemm_dtype.ts";
import { columnTiling, type Floats, paddedSize, padInput, scratchLike, unpadAdd } from "./conv_buffers.ts";
import { depthwiseBackwardDataStrided, depthwiseBackwardFilter, depthwiseForward } from "./conv_depthwise.ts";
import {
  convBackwardDataRows,
  convBackwardFilterRows,
  convForwardRows,
  isRowDecomposable,
} from "./conv_rows.ts";

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
  const [elements, minTile] = columnTiling();
  return Math.min(len, Math.max(minTile, Math.floor(elements / rows)));
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

/** y = conv(x, w) + b, y zero-initialised [N, Cout, Hout, Wout]. */
export function convForward(x: Floats, w: Floats, b: Floats | null, y: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  const rows = cinG * g.kh * g.kw;
  const len = g.hOut * g.wOut;
  if (isDirect(g)) {
    depthwiseForward(x, w, y, g);
  } else if (!isPointwise(g) && isRowDecomposable(g)) {
    convForwardRows(x, w, y, g);
  } else {
    forEachColumnTile(x, g, (cols, colsOff, ldCols, yOff, wOff, p0, p1) => {
      gemm(false, false, coutG, p1 - p0, rows, 1, w, wOff, rows, cols, colsOff, ldCols, 0, y, yOff + p0, len);
    });
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
  if (isRowDecomposable(g)) return convBackwardDataRows(dy, w, dx, g);
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
  if (isRowDecomposable(g)) return convBackwardFilterRows(x, dy, dw, g);
  const rows = cinG * g.kh * g.kw;
  const len = g.hOut * g.wOut;
  forEachColumnTile(x, g, (cols, colsOff, ldCols, yOff, wOff, p0, p1) => {
    gemm(false, true, coutG, rows, p1 - p0, 1, dy, yOff + p0, len, cols, colsOff, ldCols, 1, dw, wOff, rows);
  });
}

/**
 * Walks the im2col column matrix of x tile by tile, per sample and group, for the GEMMs of
 * the forward and of the filter gradient: `cols` holds rows × (p1 − p0) columns of output
 * positions [p0, p1) with leading dimension `ldCols` (for 1×1 stride-1 convolutions it is x
 * itself, no copy). `yOff` / `wOff` locate the sample-group block of the output and weights.
 */
function forEachColumnTile(
  x: Floats,
  g: ConvGeometry,
  fn: (
    cols: Floats,
    colsOff: number,
    ldCols: number,
    yOff: number,
    wOff: number,
    p0: number,
    p1: number,
  ) => void,
): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
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
        fn(x, xOff, len, yOff, wOff, 0, len);
        continue;
      }
      padInput(x, xOff, xp, g, hp, wp);
      for (let p0 = 0; p0 < len; p0 += tile) {
        const p1 = Math.min(len, p0 + tile);
        im2col(xp, cols, g, hp, wp, [p0, p1], false);
        fn(cols, 0, p1 - p0, yOff, wOff, p0, p1);
      }
    }
  }
}

/**
 * Registers the forward, backward-data and backward-filter kernels of `op` ("conv1d" or
 * "conv2d"): one engine, with `geometry` mapping each op's shapes and attributes onto it.
 */
export function registerConvKernels<A>(
  op: "conv1d" | "conv2d",
  geometry: (
    xShape: readonly number[],
    wShape: readonly number[],
    yShape: readonly number[],
    a: A,
  ) => ConvGeometry,
): void {
  registerKernel<A>(
    op,
    "cpu",
    widenFloat16Inputs<A>(({ inputs: [x, w, b], attrs, outputs: [spec], backend }) => {
      const y = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
      const g = geometry(x.shape, w.shape, spec.shape, attrs);
      convForward(cpuData(x) as Floats, cpuData(w) as Floats, b ? cpuData(b) as Floats : null, y, g);
      return [y];
    }),
  );
  registerKernel<A>(
    `${op}BackwardData`,
    "cpu",
    widenFloat16Inputs<A>(({ inputs: [dy, w], attrs, outputs: [spec], backend }) => {
      const dx = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
      const g = geometry(spec.shape, w.shape, dy.shape, attrs);
      convBackwardData(cpuData(dy) as Floats, cpuData(w) as Floats, dx, g);
      return [dx];
    }),
  );
  registerKernel<A>(
    `${op}BackwardFilter`,
    "cpu",
    widenFloat16Inputs<A>(({ inputs: [x, dy], attrs, outputs: [spec], backend }) => {
      const dw = cpuOutput(backend, spec.dtype, sizeOf(spec.shape)) as Floats;
      const g = geometry(x.shape, spec.shape, dy.shape, attrs);
      convBackwardFilter(cpuData(x) as Floats, cpuData(dy) as Floats, dw, g);
      return [dw];
    }),
  );
}

registerConvKernels<Conv2dAttrs>("conv2d", conv2dGeometry);
