/**
 * matmul (batched, broadcasting batch axes, optional transposes) and linear.
 * Backward is two more matmuls, so every backend that has the matmul kernel (cuBLAS strided
 * batched GEMM, a tiled WGSL kernel, OpenBLAS) differentiates it too.
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { broadcastShapes } from "./shape.ts";
import type { Tensor } from "./tensor.ts";
import { add, sumTo } from "./elementwise.ts";
import { reshape } from "./reshape.ts";
import { gemmOutputDtype, gradientAs } from "./gemm_dtype.ts";

/** Attributes of `matmul`: whether each operand is given transposed in its last two axes. */
export interface MatmulAttrs {
  /** `a` is given transposed in its last two axes: [..., K, M] instead of [..., M, K]. */
  readonly transA: boolean;
  /** `b` is given transposed in its last two axes: [..., N, K] instead of [..., K, N]. */
  readonly transB: boolean;
}

/** Matrix sizes and broadcast batch shape of a matmul. */
export function matmulDims(
  a: readonly number[],
  b: readonly number[],
  { transA, transB }: MatmulAttrs,
): { m: number; n: number; k: number; batch: number[] } {
  if (a.length < 2 || b.length < 2) {
    throw new RangeError(`matmul needs operands of rank >= 2, got [${a}] and [${b}]`);
  }
  const [ar, ac] = a.slice(-2), [br, bc] = b.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac;
  const kb = transB ? bc : br, n = transB ? br : bc;
  if (k !== kb) {
    throw new RangeError(
      `matmul: inner sizes differ (${k} vs ${kb}) for [${a}]${transA ? "ᵀ" : ""} × [${b}]${
        transB ? "ᵀ" : ""
      }`,
    );
  }
  return { m, n, k, batch: broadcastShapes(a.slice(0, -2), b.slice(0, -2)) };
}

/**
 * Declaration of `matmul`. Kernels: ops/backends/<name>/matmul.ts. float16 operands give a
 * float32 product (f32 accumulation) and float16 gradients (ops/gemm_dtype.ts).
 */
export const matmulOp: OpDef<MatmulAttrs> = defineOp<MatmulAttrs>({
  name: "matmul",
  acceptsFloat16: true,
  outputs([a, b], attrs) {
    const dtype = gemmOutputDtype("matmul", [a, b]);
    const { m, n, batch } = matmulDims(a.shape, b.shape, attrs);
    return [{ shape: [...batch, m, n], dtype }];
  },
  saveInputs: [0, 1],
  backward({ grads: [dc], inputs: [a, b], inputShapes, attrs: { transA, transB }, needsGrad }) {
    // C = op(A)·op(B): d op(A) = G·op(B)ᵀ, d op(B) = op(A)ᵀ·G, transposed back where A or B was.
    const g = gradientAs(dc!, a!.dtype);
    const da = !needsGrad[0]
      ? null
      : transA
      ? matmul(b!, g, { transA: transB, transB: true })
      : matmul(g, b!, { transA: false, transB: !transB });
    const db = !needsGrad[1]
      ? null
      : transB
      ? matmul(g, a!, { transA: true, transB: transA })
      : matmul(a!, g, { transA: !transA, transB: false });
    return [
      da && gradientAs(sumTo(da, inputShapes[0]), a!.dtype),
      db && gradientAs(sumTo(db, inputShapes[1]), b!.dtype),
    ];
  },
});

/**
 * Batched matrix product like `torch.matmul` for rank >= 2, with optional transposes of the
 * last two axes (cheaper than materialising a transpose).
 *
 * @example
 * ```ts
 * const c = matmul(a, b);                     // [..., M, K] × [..., K, N] → [..., M, N]
 * const gram = matmul(x, x, { transB: true }); // x·xᵀ
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: Partial<MatmulAttrs> = {}): Tensor {
  return runOp(matmulOp, [a, b], { transA: options.transA ?? false, transB: options.transB ?? false })[0];
}

/**
 * `torch.nn.functional.linear`: y = x·wᵀ + b with x [..., in], w [out, in], b [out] or null.
 * Leading axes of x are folded into one GEMM.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  if (w.rank !== 2) throw new RangeError(`linear: weight must be [out, in], got [${w.shape}]`);
  const inFeatures = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const flat = x.rank === 2 ? x : reshape(x, [-1, inFeatures]);
  let y = matmul(flat, w, { transB: true });
  if (b) y = add(y, b);
  return x.rank === 2 ? y : reshape(y, [...lead, w.shape[0]]);
}
