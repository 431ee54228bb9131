/**
 * A row-major 2-D matrix as a plain Float32Array with a readonly `shape` property attached, so
 * feature matrices pass through typed-array code (and later onto a GPU backend) unchanged.
 *
 * Not a tensor class: no strides, views or broadcasting.
 */

/** A row-major Float32Array with its `[rows, cols]` shape. */
export type Matrix2D = Float32Array & { readonly shape: readonly [number, number] };

/**
 * Attaches a readonly `[rows, cols]` shape to `data` (which must hold rows * cols values).
 *
 * @example
 * ```ts
 * const m = withShape(new Float32Array(6), 2, 3);
 * m.shape; // [2, 3]
 * ```
 */
export function withShape(data: Float32Array, rows: number, cols: number): Matrix2D {
  if (data.length !== rows * cols) {
    throw new RangeError(`withShape: ${data.length} values do not fill a [${rows}, ${cols}] matrix`);
  }
  Object.defineProperty(data, "shape", {
    value: Object.freeze([rows, cols]),
    enumerable: false,
    writable: false,
  });
  return data as Matrix2D;
}
