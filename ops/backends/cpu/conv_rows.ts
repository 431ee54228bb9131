/**
 * The row-decomposed GEMM path of 2-D convolutions with stride 1 along H and KH > 1
 * (DeepSpeech2's second and third convs: [11×21] kernels, stride [1, 2]).
 *
 * im2col would copy every input value KH·KW times. Here each padded input row a is unfolded
 * once into row columns R[(c, j), a·Wout + ow] = xp[c, a, ow·sw + j·dw] (KW copies), and the
 * KH kernel rows become KH GEMMs over shifted column windows of R:
 *   y[:, oh, :] = Σ_i W_i · R[:, (oh + i·dh)·Wout ...],  W_i[oc, (c, j)] = w[oc, c, i, j].
 * Backward-filter is the transposed product per kernel row; backward-data accumulates
 * W_iᵀ·dy into dR and scatters dR back into the padded input. Tiles of output rows keep R
 * under the column budget (each tile recomputes a halo of (KH-1)·dh input rows).
 *
 * Not here: strides along H (they break the shifted-window trick), depthwise (direct loops).
 */
import type { ConvGeometry } from "../../conv_geometry.ts";
import { gemm } from "./blas.ts";
import { columnTiling, type Floats, paddedSize, padInput, scratchLike, unpadAdd } from "./conv_buffers.ts";

/** True when the row-decomposed path applies: stride 1 along H and more than one kernel row. */
export function isRowDecomposable(g: ConvGeometry): boolean {
  return g.strideH === 1 && g.kh > 1;
}

/** Output rows per tile so that R (KW·Cin/g rows × tile rows + halo) fits the column budget. */
function rowTile(g: ConvGeometry): number {
  const [elements] = columnTiling();
  const kr = (g.cin / g.groups) * g.kw;
  const halo = (g.kh - 1) * g.dilationH;
  return Math.max(1, Math.min(g.hOut, Math.floor(elements / (kr * g.wOut)) - halo));
}

/**
 * wr[gi][i][oc, c·KW + j] = w[gi·coutG + oc, c, i, j]: every group's kernel rows as matrices
 * [coutG, Cin/g·KW]. With `add`, the reverse accumulation w += wr (for backward-filter).
 */
function kernelRows(w: Floats, wr: Floats, g: ConvGeometry, add: boolean): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  const { kh, kw } = g;
  const kr = cinG * kw;
  for (let gi = 0; gi < g.groups; gi++) {
    for (let oc = 0; oc < coutG; oc++) {
      for (let c = 0; c < cinG; c++) {
        for (let i = 0; i < kh; i++) {
          const src = (((gi * coutG + oc) * cinG + c) * kh + i) * kw;
          const dst = ((gi * kh + i) * coutG + oc) * kr + c * kw;
          if (add) { for (let j = 0; j < kw; j++) w[src + j] += wr[dst + j]; }
          else for (let j = 0; j < kw; j++) wr[dst + j] = w[src + j];
        }
      }
    }
  }
}

/** R for padded rows [a0, a1) (or, with `scatter`, xp += R): see the file comment. */
function rowColumns(
  xp: Floats,
  r: Floats,
  g: ConvGeometry,
  [hp, wp]: [number, number],
  [a0, a1]: [number, number],
  scatter: boolean,
): void {
  const cinG = g.cin / g.groups;
  const { kw, wOut, strideW: sw, dilationW: dw } = g;
  const ld = (a1 - a0) * wOut;
  for (let c = 0; c < cinG; c++) {
    for (let j = 0; j < kw; j++) {
      const rowBase = (c * kw + j) * ld;
      for (let a = a0; a < a1; a++) {
        const dst = rowBase + (a - a0) * wOut;
        let q = (c * hp + a) * wp + j * dw;
        if (scatter) {
          for (let ow = 0; ow < wOut; ow++, q += sw) xp[q] += r[dst + ow];
        } else if (sw === 1 && wOut >= 32) {
          r.set(xp.subarray(q, q + wOut), dst);
        } else {
          for (let ow = 0; ow < wOut; ow++, q += sw) r[dst + ow] = xp[q];
        }
      }
    }
  }
}

function newLike(like: Floats, size: number): Floats {
  return like instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
}

/** y += conv(x, w) by kernel rows (y zero-initialised; the caller adds the bias). */
export function convForwardRows(x: Floats, w: Floats, y: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  const { kh, wOut, dilationH: dh } = g;
  const kr = cinG * g.kw, len = g.hOut * wOut, halo = (kh - 1) * dh;
  const padded = paddedSize(g);
  const xp = scratchLike(x, cinG * padded[0] * padded[1], 1);
  const tile = rowTile(g);
  const r = scratchLike(x, kr * (tile + halo) * wOut, 0);
  const wr = newLike(w, g.groups * kh * coutG * kr);
  kernelRows(w, wr, g, false);
  for (let ni = 0; ni < g.n; ni++) {
    for (let gi = 0; gi < g.groups; gi++) {
      padInput(x, (ni * g.cin + gi * cinG) * g.h * g.w, xp, g, padded[0], padded[1]);
      for (let oh0 = 0; oh0 < g.hOut; oh0 += tile) {
        const oh1 = Math.min(g.hOut, oh0 + tile);
        const ldR = (oh1 - oh0 + halo) * wOut;
        rowColumns(xp, r, g, padded, [oh0, oh1 + halo], false);
        const yOff = (ni * g.cout + gi * coutG) * len + oh0 * wOut;
        for (let i = 0; i < kh; i++) {
          const wOff = (gi * kh + i) * coutG * kr;
          gemm(
            false,
            false,
            coutG,
            (oh1 - oh0) * wOut,
            kr,
            1,
            wr,
            wOff,
            kr,
            r,
            i * dh * wOut,
            ldR,
            1,
            y,
            yOff,
            len,
          );
        }
      }
    }
  }
}

/** dw += Σ_n corr(dy, x) by kernel rows (dw zero-initialised). */
export function convBackwardFilterRows(x: Floats, dy: Floats, dw: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  const { kh, wOut, dilationH: dh } = g;
  const kr = cinG * g.kw, len = g.hOut * wOut, halo = (kh - 1) * dh;
  const padded = paddedSize(g);
  const xp = scratchLike(x, cinG * padded[0] * padded[1], 1);
  const tile = rowTile(g);
  const r = scratchLike(x, kr * (tile + halo) * wOut, 0);
  const dwr = newLike(dw, g.groups * kh * coutG * kr);
  for (let ni = 0; ni < g.n; ni++) {
    for (let gi = 0; gi < g.groups; gi++) {
      padInput(x, (ni * g.cin + gi * cinG) * g.h * g.w, xp, g, padded[0], padded[1]);
      for (let oh0 = 0; oh0 < g.hOut; oh0 += tile) {
        const oh1 = Math.min(g.hOut, oh0 + tile);
        const ldR = (oh1 - oh0 + halo) * wOut;
        rowColumns(xp, r, g, padded, [oh0, oh1 + halo], false);
        const yOff = (ni * g.cout + gi * coutG) * len + oh0 * wOut;
        for (let i = 0; i < kh; i++) {
          const wOff = (gi * kh + i) * coutG * kr;
          gemm(
            false,
            true,
            coutG,
            kr,
            (oh1 - oh0) * wOut,
            1,
            dy,
            yOff,
            len,
            r,
            i * dh * wOut,
            ldR,
            1,
            dwr,
            wOff,
            kr,
          );
        }
      }
    }
  }
  kernelRows(dw, dwr, g, true);
}

/** dx += convᵀ(dy, w) by kernel rows (dx zero-initialised); any stride along W. */
export function convBackwardDataRows(dy: Floats, w: Floats, dx: Floats, g: ConvGeometry): void {
  const cinG = g.cin / g.groups, coutG = g.cout / g.groups;
  const { kh, wOut, dilationH: dh } = g;
  const kr = cinG * g.kw, len = g.hOut * wOut, halo = (kh - 1) * dh;
  const padded = paddedSize(g);
  const dxp = scratchLike(dx, cinG * padded[0] * padded[1], 1);
  const tile = rowTile(g);
  const dr = scratchLike(dx, kr * (tile + halo) * wOut, 0);
  const wr = newLike(w, g.groups * kh * coutG * kr);
  kernelRows(w, wr, g, false);
  for (let ni = 0; ni < g.n; ni++) {
    for (let gi = 0; gi < g.groups; gi++) {
      dxp.fill(0, 0, cinG * padded[0] * padded[1]);
      for (let oh0 = 0; oh0 < g.hOut; oh0 += tile) {
        const oh1 = Math.min(g.hOut, oh0 + tile);
        const ldR = (oh1 - oh0 + halo) * wOut;
        dr.fill(0, 0, kr * ldR);
        const yOff = (ni * g.cout + gi * coutG) * len + oh0 * wOut;
        for (let i = 0; i < kh; i++) {
          const wOff = (gi * kh + i) * coutG * kr;
          gemm(
            true,
            false,
            kr,
            (oh1 - oh0) * wOut,
            coutG,
            1,
            wr,
            wOff,
            kr,
            dy,
            yOff,
            len,
            1,
            dr,
            i * dh * wOut,
            ldR,
          );
        }
        rowColumns(dxp, dr, g, padded, [oh0, oh1 + halo], true);
      }
      unpadAdd(dxp, dx, (ni * g.cin + gi * cinG) * g.h * g.w, g, padded[0], padded[1]);
    }
  }
}
