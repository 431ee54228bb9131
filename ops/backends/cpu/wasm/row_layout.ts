/**
 * The broadcast layouts the WASM elementwise kernels take, as "rows": the output is walked as
 * `rows` rows of `inner` contiguous elements, and input k's row r starts at element
 * ⌊r / div_k⌋ mod mod_k · rowStride_k, read contiguously (innerStride 1) or as one value for
 * the whole row (innerStride 0). That covers same shapes, scalars, a bias over [N, C, T]
 * ([1, C, 1]: one value per row), a row vector over a matrix ([T] over [N, T]), a mask over
 * channels ([N, 1, T] over [N, C, T]), and a column against a row.
 *
 * Returns undefined for a layout it cannot express (an input whose broadcast axes interleave
 * with its real ones among the row axes); the caller then uses the TypeScript kernel.
 */

/** Input k's place in the rows walk (strides in elements). */
export interface RowInput {
  readonly innerStride: 0 | 1;
  readonly div: number;
  readonly mod: number;
  readonly rowStride: number;
}

/** The rows walk of one elementwise call. */
export interface RowLayout {
  readonly rows: number;
  readonly inner: number;
  readonly inputs: readonly RowInput[];
}

/** Plans the rows walk of inputs `shapes` broadcast to `outShape`. */
export function planRows(
  shapes: readonly (readonly number[])[],
  outShape: readonly number[],
): RowLayout | undefined {
  const rank = outShape.length;
  // flags[k][axis]: 1 where input k runs along the (non-unit) output axis, 0 where broadcast.
  const dims: number[] = [];
  const flags: number[][] = shapes.map(() => []);
  for (let ax = 0; ax < rank; ax++) {
    const d = outShape[ax];
    if (d === 1) continue;
    const f = shapes.map((s) => {
      const j = ax - (rank - s.length);
      return j >= 0 && s[j] === d ? 1 : 0;
    });
    const last = dims.length - 1;
    if (last >= 0 && f.every((v, k) => flags[k][last] === v)) {
      dims[last] *= d;
    } else {
      dims.push(d);
      f.forEach((v, k) => flags[k].push(v));
    }
  }
  if (dims.length === 0) {
    return {
      rows: 1,
      inner: 1,
      inputs: shapes.map(() => ({ innerStride: 0, div: 1, mod: 1, rowStride: 0 })),
    };
  }
  const r = dims.length;
  const inner = dims[r - 1];
  let rows = 1;
  for (let i = 0; i < r - 1; i++) rows *= dims[i];
  const inputs: RowInput[] = [];
  for (const f of flags) {
    const innerStride = f[r - 1] as 0 | 1;
    let p = -1, q = -1;
    for (let i = 0; i < r - 1; i++) {
      if (f[i] !== 1) continue;
      if (p < 0) p = i;
      else if (q !== i) return undefined; // a second run of real axes
      q = i + 1;
    }
    if (p < 0) {
      inputs.push({ innerStride, div: 1, mod: 1, rowStride: 0 });
      continue;
    }
    let div = 1, mod = 1;
    for (let i = q; i < r - 1; i++) div *= dims[i];
    for (let i = p; i < q; i++) mod *= dims[i];
    inputs.push({ innerStride, div, mod, rowStride: innerStride ? inner : 1 });
  }
  return { rows, inner, inputs };
}
