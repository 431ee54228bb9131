/**
 * The parameter block shared by the webgpu convolution kernels (conv_gemm.ts,
 * conv_depthwise.ts): one convolution's geometry packed into the uniform words every kernel
 * binds last, and the WGSL that unpacks it into a private struct `G` at the start of `main`.
 * Geometry lives in the uniform block rather than in the shader text, so one compiled pipeline
 * serves every shape of a direction and variant.
 *
 * Not here: any arithmetic of the convolution itself.
 */
import type { ConvGeometry } from "../../conv_geometry.ts";
import { wgslMeta } from "./backend.ts";

/** Extents of the implicit GEMM of one direction: C [M, N] = A [M, K] · B [K, N], K split as (K0, K1, K2). */
export interface GemmExtents {
  m: number;
  n: number;
  k: number;
  /** Middle and inner extents of K's split into three indices (the outer one is implied). */
  k1: number;
  k2: number;
  /** Grid slices along z per group: column blocks beyond one grid row continue there. */
  zSplit: number;
}

// Field order of the parameter block; the WGSL struct below lists the same names.
const FIELDS = [
  "n",
  "cin",
  "h",
  "w",
  "cout",
  "kh",
  "kw",
  "hOut",
  "wOut",
  "sh",
  "sw",
  "pt",
  "pl",
  "dh",
  "dw",
  "cinG",
  "coutG",
  "M",
  "N",
  "K",
  "K1",
  "K2",
  "zSplit",
] as const;

/** The parameter words of geometry `g` (GEMM extents are zero for kernels without a GEMM). */
export function convMeta(g: ConvGeometry, gemm?: GemmExtents): Uint32Array {
  const values: Record<(typeof FIELDS)[number], number> = {
    n: g.n,
    cin: g.cin,
    h: g.h,
    w: g.w,
    cout: g.cout,
    kh: g.kh,
    kw: g.kw,
    hOut: g.hOut,
    wOut: g.wOut,
    sh: g.strideH,
    sw: g.strideW,
    pt: g.padTop,
    pl: g.padLeft,
    dh: g.dilationH,
    dw: g.dilationW,
    cinG: g.cin / g.groups,
    coutG: g.cout / g.groups,
    M: gemm?.m ?? 0,
    N: gemm?.n ?? 0,
    K: gemm?.k ?? 0,
    K1: gemm?.k1 ?? 1,
    K2: gemm?.k2 ?? 1,
    zSplit: gemm?.zSplit ?? 1,
  };
  return Uint32Array.from(FIELDS, (f) => values[f]);
}

/**
 * A parameter read straight from the uniform block, e.g. `m(19u)` for "K": uniform for WGSL's
 * uniformity analysis (a loop around a barrier may depend on it), where `G.K` is not, since
 * \`G\` is a private variable.
 */
export function uniformParam(field: (typeof FIELDS)[number]): string {
  return `m(${FIELDS.indexOf(field)}u)`;
}

/**
 * WGSL of the parameter block (bound at `binding`), the struct `Geo` with one u32 per field,
 * the private `G` and `loadGeo()`, which fills it and must run first in `main`.
 */
export function convParamsWgsl(binding: number): string {
  return `${wgslMeta(binding)}
struct Geo { ${FIELDS.map((f) => `${f}: u32`).join(", ")} }
var<private> G: Geo;
fn loadGeo() { G = Geo(${FIELDS.map((_, i) => `m(${i}u)`).join(", ")}); }`;
}
