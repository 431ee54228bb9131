/**
 * sum over axes. It lives apart from the other reductions (ops/reduce.ts) because the
 * elementwise ops need it to undo broadcasting in their gradients.
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { normalizeAxis, type Shape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";
import { broadcastTo } from "./elementwise.ts";
import { reshape } from "./reshape.ts";

/** Attributes of reductions over axes. */
export interface ReduceAttrs {
  /** Sorted, non-negative axes to reduce. */
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

/** Output shape of a reduction. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (!axes.includes(i)) out.push(shape[i]);
    else if (keepDims) out.push(1);
  }
  return out;
}

/** Normalises the `axis` argument of a reduction: undefined means all axes. */
export function reduceAxes(rank: number, axis?: number | readonly number[]): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const list = typeof axis === "number" ? [axis] : axis;
  return [...new Set(list.map((a) => normalizeAxis(a, rank)))].sort((p, q) => p - q);
}

/** Declaration of `sum`. Kernels: ops/backends/<name>/reduce.ts. */
export const sumOp: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: "sum",
  outputs([x], { axes, keepDims }) {
    return [{ shape: reducedShape(x.shape, axes, keepDims), dtype: x.dtype }];
  },
  backward: ({ grads, inputShapes, attrs }) => {
    const kept = reducedShape(inputShapes[0], attrs.axes, true);
    return [broadcastTo(reshape(grads[0]!, kept), inputShapes[0])];
  },
});

/**
 * Sum over `axis` (one axis, a list, or all when omitted), like `torch.sum`.
 *
 * @example
 * ```ts
 * const total = sum(x);            // scalar
 * const perRow = sum(x, 1);        // [N]
 * const kept = sum(x, [0, 2], { keepDims: true });
 * ```
 */
export function sum(
  x: Tensor,
  axis?: number | readonly number[],
  options: { keepDims?: boolean } = {},
): Tensor {
  return runOp(sumOp, [x], { axes: reduceAxes(x.rank, axis), keepDims: options.keepDims ?? false })[0];
}
