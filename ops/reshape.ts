/** reshape: the same elements under a new shape. Backends share the buffer (no copy). */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { type Shape, sizeOf } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of `reshape`. */
export interface ReshapeAttrs {
  readonly shape: Shape;
}

/** Declaration of `reshape`. Kernels: ops/backends/<name>/reshape.ts (they retain the buffer). */
export const reshapeOp: OpDef<ReshapeAttrs> = defineOp<ReshapeAttrs>({
  name: "reshape",
  acceptsFloat16: true,
  outputs([x], { shape }) {
    if (sizeOf(shape) !== x.size) {
      throw new RangeError(`Cannot reshape [${x.shape}] (${x.size} elements) to [${shape}]`);
    }
    return [{ shape, dtype: x.dtype }];
  },
  backward: ({ grads, inputShapes }) => [reshape(grads[0]!, inputShapes[0])],
});

/** Resolves one -1 extent from the element count. */
export function resolveShape(shape: Shape, size: number): number[] {
  const out = [...shape];
  const i = out.indexOf(-1);
  if (i >= 0) {
    const rest = sizeOf(out.filter((_, j) => j !== i));
    if (rest === 0 || size % rest !== 0) {
      throw new RangeError(`Cannot infer -1 in [${shape}] for ${size} elements`);
    }
    out[i] = size / rest;
  }
  return out;
}

/**
 * The elements of `x` under `shape` (one extent may be -1).
 *
 * @example
 * ```ts
 * const flat = reshape(x, [-1]);
 * ```
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return runOp(reshapeOp, [x], { shape: resolveShape(shape, x.size) })[0];
}
