/**
 * cast: the elements of a floating-point tensor in another floating-point dtype. Narrowing to
 * float16 rounds to nearest-even (values beyond ±65504 become ±Infinity, as IEEE 754 says);
 * widening is exact. Backward casts the gradient back to the input's dtype, so in mixed
 * precision the float16 gradient of a GEMM input is widened to the float32 master's dtype here.
 *
 * Kernels: ops/backends/<name>/cast.ts. Not here: int32 conversions (indices stay int32).
 */
import type { DType } from "./dtype.ts";
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of `cast`. */
export interface CastAttrs {
  /** The output's dtype (float32, float16, or float64 on the cpu). */
  readonly dtype: DType;
  /** The input's dtype, kept so that backward need not keep the input itself. */
  readonly from: DType;
}

/** Declaration of `cast`. */
export const castOp: OpDef<CastAttrs> = defineOp<CastAttrs>({
  name: "cast",
  acceptsFloat16: true,
  outputs([x], { dtype }) {
    if (x.dtype === "int32" || dtype === "int32") {
      throw new TypeError(`cast: converts between float dtypes only, got ${x.dtype} → ${dtype}`);
    }
    return [{ shape: x.shape, dtype }];
  },
  backward: ({ grads: [g], attrs }) => [cast(g!, attrs.from)],
});

/**
 * `x` converted to `dtype` (a new tensor, also when the dtype is already `dtype`).
 *
 * @example
 * ```ts
 * const w16 = cast(w, "float16"); // mixed precision: the GEMM's input in half precision
 * ```
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  return runOp(castOp, [x], { dtype, from: x.dtype })[0];
}
