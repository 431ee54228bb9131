/**
 * concat: tensors joined along one axis, like `torch.cat`. The backward hands each input
 * its slice of the gradient.
 *
 * Not here: stack (reshape each input to add the axis, then concat).
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { normalizeAxis } from "./shape.ts";
import { slice, type SliceRange } from "./slice.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of `concat`. */
export interface ConcatAttrs {
  /** Non-negative axis the inputs are joined along. */
  readonly axis: number;
}

/** Declaration of `concat` (any number of inputs). Kernels: ops/backends/<name>/concat.ts. */
export const concatOp: OpDef<ConcatAttrs> = defineOp<ConcatAttrs>({
  name: "concat",
  outputs(inputs, { axis }) {
    if (inputs.length === 0) throw new RangeError("concat: needs at least one tensor");
    const first = inputs[0];
    if (first.rank === 0) throw new RangeError("concat: cannot join 0-d tensors");
    const shape = [...first.shape];
    shape[axis] = 0;
    for (const t of inputs) {
      if (t.dtype !== first.dtype) throw new TypeError(`concat: mixed dtypes ${first.dtype} and ${t.dtype}`);
      const ok = t.rank === first.rank && t.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!ok) {
        throw new RangeError(
          `concat: shape [${t.shape}] does not match [${first.shape}] outside axis ${axis}`,
        );
      }
      shape[axis] += t.shape[axis];
    }
    return [{ shape, dtype: first.dtype }];
  },
  backward({ grads, inputShapes, attrs, needsGrad }) {
    let offset = 0;
    return inputShapes.map((s, i) => {
      const start = offset;
      offset += s[attrs.axis];
      if (!needsGrad[i]) return null;
      const ranges: (SliceRange | null)[] = s.map(() => null);
      ranges[attrs.axis] = { start, end: offset };
      return slice(grads[0]!, ranges);
    });
  },
});

/**
 * `tensors` joined along `axis` (default 0; negative counts from the end), like `torch.cat`.
 * All must have the same rank, dtype and extents outside `axis`.
 *
 * @example
 * ```ts
 * const both = concat([forward, backward], -1); // [T, N, H] twice → [T, N, 2H]
 * ```
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new RangeError("concat: needs at least one tensor");
  return runOp(concatOp, tensors, { axis: normalizeAxis(axis, tensors[0].rank) })[0];
}
