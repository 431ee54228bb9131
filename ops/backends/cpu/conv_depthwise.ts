/**
 * Direct cpu loops for convolutions with one input channel per group and few outputs per
 * group (depthwise, as in QuartzNet), where im2col + GEMM would multiply matrices with M ≈ 1.
 * Forward and backward-filter are blocked by four (outputs, resp. taps) for independent sums;
 * backward-data here serves stride > 1 only (stride 1 runs as a forward conv, see conv2d.ts).
 * Float32 rows with stride 1 along the width run their interior (forward) and their taps
 * (backward-filter) in WASM SIMD (wasm/depthwise_wasm.ts), queued and run in one kernel call
 * that large calls split across threads; edges and outer loops stay here.
 * Not here: the GEMM paths.
 */
import type { ConvGeometry } from "../../conv_geometry.ts";
import type { Floats } from "./conv_buffers.ts";
import { DepthwiseSimd } from "./wasm/depthwise_wasm.ts";

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
export function depthwiseForward(x: Floats, w: Floats, y: Floats, g: ConvGeometry): void {
  const { n, cin, cout, h, w: width, kh, kw, hOut, wOut, strideH: sh, strideW: sw } = g;
  const dw = g.dilationW, pl = g.padLeft;
  const coutG = cout / g.groups;
  const [inLo, inHi] = interiorColumns(g);
  const simd = DepthwiseSimd.forCall(x, w, y, sw);
  for (let ni = 0; ni < n; ni++) {
    for (let oc = 0; oc < cout; oc++) {
      const xOff = (ni * cin + Math.floor(oc / coutG)) * h * width;
      const yOff = (ni * cout + oc) * hOut * wOut;
      // Each (sample, channel) writes its own output plane: a thread boundary may fall here.
      let isGroupStart = true;
      for (let oh = 0; oh < hOut; oh++) {
        const dst = yOff + oh * wOut;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i * g.dilationH - g.padTop;
          if (ih < 0 || ih >= h) continue;
          const src = xOff + ih * width - pl; // x index of (ow, j): src + ow·sw + j·dw
          const wRow = (oc * kh + i) * kw;
          let ow = inLo;
          if (simd && inHi > inLo) {
            // Queued, run below in one kernel call; writes only the interior columns, which
            // the loops here do not touch then.
            simd.queueForward(
              x as Float32Array,
              src + inLo,
              wRow,
              y as Float32Array,
              dst + inLo,
              isGroupStart,
            );
            isGroupStart = false;
            ow = inHi;
          }
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
          // Columns [0, inLo) then [ow, wOut): the left edge, the interior's remainder and the
          // right edge, with a bounds check per tap.
          for (let o = 0; o < wOut; o++) {
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
  simd?.runForward(inHi - inLo, kw, dw);
  simd?.release();
}

/**
 * Backward-filter with one input channel per group: dw[oc, i, j] = Σ dy·x. Each input row is
 * first copied into a zero-padded row, so every tap reads in bounds; four taps are then
 * accumulated together (each dy value loaded once per four taps, four independent sums).
 */
export function depthwiseBackwardFilter(x: Floats, dy: Floats, dWeight: Floats, g: ConvGeometry): void {
  const simd = DepthwiseSimd.forFilter(x, dy, dWeight, g.strideW);
  if (simd) {
    try {
      if (depthwiseBackwardFilterSimd(simd, x as Float32Array, dy as Float32Array, dWeight, g)) return;
    } finally {
      simd.release();
    }
  }
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

/**
 * The backward-filter above on the WASM rows (stride 1 along the width): every input row is
 * zero-padded once into one heap copy, each (output channel, kernel row) gets its own float64
 * accumulator, and all (channel, kernel row, sample, output row) dot products run as one queued
 * kernel call, grouped by accumulator, in the order the loops above take. False (nothing
 * written) when the heap has no room for the copy.
 */
function depthwiseBackwardFilterSimd(
  simd: DepthwiseSimd,
  x: Float32Array,
  dy: Float32Array,
  dWeight: Floats,
  g: ConvGeometry,
): boolean {
  const { n, cin, cout, h, w: width, kh, kw, hOut, wOut, strideH: sh } = g;
  const dw = g.dilationW, pl = g.padLeft;
  const coutG = cout / g.groups;
  const span = wOut + (kw - 1) * dw;
  const copyLo = Math.min(span, pl), copyHi = Math.max(copyLo, Math.min(span, pl + width));
  let padded: Float32Array, acc: Float64Array;
  try {
    padded = simd.scratch(n * cin * h * span);
    acc = simd.accumulator(cout * kh * kw);
  } catch {
    return false;
  }
  // padded[r·span + k] = x[r·width + k − pl] for input row r = (ni·cin + c)·h + ih, zero outside.
  for (let r = 0; r < n * cin * h; r++) {
    const src = r * width - pl;
    padded.set(x.subarray(src + copyLo, src + copyHi), r * span + copyLo);
  }
  for (let oc = 0; oc < cout; oc++) {
    const c = Math.floor(oc / coutG);
    for (let i = 0; i < kh; i++) {
      let isGroupStart = true;
      for (let ni = 0; ni < n; ni++) {
        const yOff = (ni * cout + oc) * hOut * wOut;
        for (let oh = 0; oh < hOut; oh++) {
          const ih = oh * sh + i * g.dilationH - g.padTop;
          if (ih < 0 || ih >= h) continue;
          const r = (ni * cin + c) * h + ih;
          simd.queueFilter(padded, r * span, dy, yOff + oh * wOut, acc, (oc * kh + i) * kw, isGroupStart);
          isGroupStart = false;
        }
      }
    }
  }
  simd.runFilter(wOut, kw, dw);
  for (let k = 0; k < cout * kh * kw; k++) dWeight[k] += acc[k];
  return true;
}

/** Backward-data with one input channel per group and stride > 1: per tap, an axpy into dx. */
export function depthwiseBackwardDataStrided(dy: Floats, w: Floats, dx: Floats, g: ConvGeometry): void {
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
