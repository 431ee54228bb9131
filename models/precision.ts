/**
 * Training precision: which dtype the GEMM-shaped layers (Conv1d, Conv2d, Linear) feed to
 * their matmul/convolution. In "fp16" they cast activations and weights to float16 right before
 * the op, which accumulates in f32 and returns f32 (ops/gemm_dtype.ts): master weights,
 * optimizer state, batch norm, softmax, CTC and the recurrent layers stay f32, and the loss is
 * scaled dynamically (models/loss_scaler.ts).
 *
 * Backends: webgpu runs fp16 where the device has `shader-f16` (float16 storage, f16 loads in
 * matmul); without it `resolvePrecision` says so on stderr and training runs in f32. The cpu
 * emulates fp16 (the same float16 rounding, computed in f32 with no speed-up), which is what
 * tests compare against; a backend without a `cast` kernel trains in f32 with a notice.
 *
 * `Precision` is a union other backends extend (CUDA: "bf16"), with `gemmDtype` mapping each
 * member onto the tensor dtype of the GEMM inputs.
 */
import type { Backend } from "../ops/backend.ts";
import type { DType } from "../ops/dtype.ts";
import { hasKernel } from "../ops/op_registry.ts";

/** Precision of a training run's GEMM inputs: "f32" (default) or "fp16" (mixed precision). */
export type Precision = "f32" | "fp16";

/** All precisions, for validating configs and flags. */
export const PRECISIONS: readonly Precision[] = ["f32", "fp16"];

/** The dtype GEMM/conv inputs are cast to under `precision`. */
export function gemmDtype(precision: Precision): DType {
  return precision === "fp16" ? "float16" : "float32";
}

/**
 * The precision a run on `backend` actually uses when `requested` is asked for: `requested`
 * where the backend can hold its dtype, else "f32", with one line on stderr saying why.
 */
export function resolvePrecision(requested: Precision, backend: Backend): Precision {
  if (!PRECISIONS.includes(requested)) {
    throw new RangeError(`training.precision must be one of ${PRECISIONS.join(", ")}, got ${requested}`);
  }
  if (requested === "f32") return "f32";
  if (!hasKernel("cast", backend.name) || backend.hasFloat16 !== true) {
    const why = backend.hasFloat16 === false
      ? `the device lacks the "shader-f16" feature (${backend.description ?? backend.name})`
      : `the ${backend.name} backend has no float16 support`;
    console.error(`[deno-ctc] precision "${requested}" requested, but ${why}: training in f32`);
    return "f32";
  }
  if (backend.name === "cpu") {
    console.error(
      `[deno-ctc] precision "${requested}" on the cpu is an emulation: float16 rounding, f32 compute, no speed-up`,
    );
  }
  return requested;
}
