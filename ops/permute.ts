/**
 * permute and transpose: the axes of a tensor reordered (a copy, row-major), like
 * `torch.permute` / `torch.transpose` followed by `.contiguous()`.
 *
 * Not here: strided views without a copy (every tensor in the toolkit is contiguous, which
 * keeps each backend's kernels simple).
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { normalizeAxis } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of `permute`. */
export interface PermuteAttrs {
  /** Output axis k is input axis perm[k]. */
  readonly perm: readonly number[];
}

/** The permutation that undoes `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  for (let k = 0; k < perm.length; k++) inv[perm[k]] = k;
  return inv;
}

/** Declaration of `permute`. Kernels: ops/backends/<name>/permute.ts. */
export const permuteOp: OpDef<PermuteAttrs> = defineOp<PermuteAttrs>({
  name: "permute",
  outputs([x], { perm }) {
    if (perm.length !== x.rank || [...perm].sort((p, q) => p - q).some((a, i) => a !== i)) {
      throw new RangeError(`permute: [${perm}] is not a permutation of the ${x.rank} axes of [${x.shape}]`);
    }
    return [{ shape: perm.map((a) => x.shape[a]), dtype: x.dtype }];
  },
  backward: ({ grads, attrs }) => [permute(grads[0]!, inversePermutation(attrs.perm))],
});

/**
 * The axes of `x` reordered: output axis k is input axis `axes[k]` (negative axes count
 * from the end), like `torch.permute`.
 *
 * @example
 * ```ts
 * const tnv = permute(ntv, [1, 0, 2]); // [N, T, V] → [T, N, V]
 * ```
 */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  return runOp(permuteOp, [x], { perm: axes.map((a) => normalizeAxis(a, x.rank)) })[0];
}

/**
 * `x` with axes `dim0` and `dim1` swapped (the last two by default), like `torch.transpose`.
 *
 * @example
 * ```ts
 * const xt = transpose(x); // [N, C, T] → [N, T, C]
 * ```
 */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const perm = [...Array(x.rank).keys()];
  const a = normalizeAxis(dim0, x.rank), b = normalizeAxis(dim1, x.rank);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return runOp(permuteOp, [x], { perm })[0];
}
