/**
 * The dtype rule of the GEMM-shaped ops (matmul, conv1d/conv2d and their backward-data and
 * backward-filter ops) in mixed precision, in one place for the declarations and the kernels:
 *
 * - the operands share one float dtype; float16 operands are multiplied with float32
 *   accumulation and the result is stored as float32 (so batch norm, softmax, CTC and the
 *   reductions after a layer stay in f32, and one kernel rule serves forward and backward);
 * - a bias added by the op is float32 when the operands are float16;
 * - each forward op's backward rounds the gradients of float16 inputs back to float16
 *   (`cast`), as a half-precision cuDNN/cuBLAS call would store them, and `cast`'s own backward
 *   widens them to the float32 master weights. The gradient a backward op receives (float32) is
 *   rounded to float16 first, so the backward GEMMs have float16 operands too: that is where
 *   small gradients underflow and large ones overflow, which loss scaling (models/loss_scaler.ts)
 *   is for.
 *
 * `widenFloat16Inputs` is how a backend without half-precision loads in its GEMM kernels runs
 * such an op (the cpu: OpenBLAS has no f16 GEMM): it casts the float16 inputs to float32 on the
 * backend and runs its float32 kernel, which gives the result of f16 loads with f32
 * accumulation without the bandwidth saving. The webgpu kernels load f16 themselves
 * (ops/backends/webgpu/f16_loads.ts, matmul.ts).
 */
import type { DType } from "./dtype.ts";
import type { Kernel, KernelContext } from "./op_registry.ts";
import { castOp } from "./cast.ts";
import { noGrad, runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";

/** Output dtype of a GEMM-shaped op `op` over `operands`; throws on int32 or mixed dtypes. */
export function gemmOutputDtype(op: string, operands: readonly Tensor[]): DType {
  const d = operands[0].dtype;
  if (d === "int32") throw new TypeError(`${op}: needs float tensors, got int32`);
  for (const t of operands) {
    if (t.dtype !== d) throw new TypeError(`${op}: dtypes differ (${d}, ${t.dtype})`);
  }
  return d === "float16" ? "float32" : d;
}

/** Checks an op's bias against its operands' dtype: float32 for float16 operands, else the same. */
export function checkBiasDtype(op: string, operandDtype: DType, bias: Tensor | null | undefined): void {
  if (!bias) return;
  const expected = operandDtype === "float16" ? "float32" : operandDtype;
  if (bias.dtype !== expected) {
    throw new TypeError(`${op}: bias must be ${expected} for ${operandDtype} operands, got ${bias.dtype}`);
  }
}

/** The gradient `g` of an input of dtype `dtype`: rounded to float16 for float16 inputs, else `g`. */
export function gradientAs(g: Tensor, dtype: DType): Tensor {
  return dtype === "float16" && g.dtype !== "float16" ? runOp(castOp, [g], { dtype, from: g.dtype })[0] : g;
}

/**
 * `kernel` (a float32 kernel) made to accept float16 inputs: they are cast to float32 on the
 * same backend first and released after the kernel has enqueued its work.
 */
export function widenFloat16Inputs<A>(kernel: Kernel<A>): Kernel<A> {
  return (ctx: KernelContext<A>) => {
    if (!ctx.inputs.some((t) => t.dtype === "float16")) return kernel(ctx);
    const widened = noGrad(() =>
      ctx.inputs.map((t) =>
        t.dtype === "float16" ? runOp(castOp, [t], { dtype: "float32", from: "float16" })[0] : t
      )
    );
    try {
      return kernel({ ...ctx, inputs: widened });
    } finally {
      widened.forEach((t, i) => {
        if (t !== ctx.inputs[i]) t.dispose();
      });
    }
  };
}
