/**
 * gather: values picked along one axis by an int32 index tensor, with `torch.gather`
 * semantics: out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (and likewise for other
 * axes). Its backward, `gatherBackward`, adds each gradient element into zeros of the input's
 * shape at the position it was read from (scatter-add, so repeated indices accumulate).
 *
 * Not here: negative indices (PyTorch rejects them in gather too), index_select.
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { normalizeAxis, type Shape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of `gather`. */
export interface GatherAttrs {
  /** Non-negative axis indexed by `index`. */
  readonly axis: number;
}

/** Attributes of `gatherBackward`. */
export interface GatherBackwardAttrs {
  readonly axis: number;
  /** Shape of the gathered-from tensor (the output of gatherBackward). */
  readonly shape: Shape;
}

function checkIndex(name: string, index: Tensor, like: Shape, axis: number): void {
  if (index.dtype !== "int32") throw new TypeError(`${name}: index must be int32, got ${index.dtype}`);
  if (index.rank !== like.length || index.shape.some((n, d) => d !== axis && n > like[d])) {
    throw new RangeError(
      `${name}: index of shape [${index.shape}] does not fit [${like}] outside axis ${axis} (same rank, no larger extents)`,
    );
  }
}

/** Declaration of `gather`. Kernels: ops/backends/<name>/gather.ts. */
export const gatherOp: OpDef<GatherAttrs> = defineOp<GatherAttrs>({
  name: "gather",
  outputs([x, index], { axis }) {
    checkIndex("gather", index, x.shape, axis);
    return [{ shape: index.shape, dtype: x.dtype }];
  },
  saveInputs: [1],
  backward: ({ grads, inputs, inputShapes, attrs }) => [
    runOp(gatherBackwardOp, [grads[0]!, inputs[1]!], { axis: attrs.axis, shape: inputShapes[0] })[0],
    null,
  ],
});

/** Declaration of `gatherBackward` (scatter-add into zeros). Kernels: ops/backends/<name>/gather.ts. */
export const gatherBackwardOp: OpDef<GatherBackwardAttrs> = defineOp<GatherBackwardAttrs>({
  name: "gatherBackward",
  outputs([g, index], { axis, shape }) {
    checkIndex("gatherBackward", index, shape, axis);
    if (g.shape.length !== index.rank || g.shape.some((n, d) => n !== index.shape[d])) {
      throw new RangeError(`gatherBackward: gradient [${g.shape}] and index [${index.shape}] differ`);
    }
    return [{ shape, dtype: g.dtype }];
  },
  saveInputs: [1],
  backward: (
    { grads, inputs, attrs },
  ) => [runOp(gatherOp, [grads[0]!, inputs[1]!], { axis: attrs.axis })[0], null],
});

/**
 * Values of `x` picked along `axis` by `index` (int32, same rank as `x`, no larger extents
 * outside `axis`), like `torch.gather(x, axis, index)`; the result has `index`'s shape.
 *
 * @example
 * ```ts
 * // log-probabilities of the target labels: logProbs [N, V], labels int32 [N, 1]
 * const picked = gather(logProbs, 1, labels); // [N, 1]
 * ```
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  return runOp(gatherOp, [x, index], { axis: normalizeAxis(axis, x.rank) })[0];
}
