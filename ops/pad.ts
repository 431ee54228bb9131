/**
 * pad: constant padding like `torch.nn.functional.pad(x, pad, value=v)`. Negative amounts
 * crop, as in PyTorch. The backward is the same op with the amounts negated (pad and crop
 * are each other's adjoint), so a backend implements one kernel for both directions.
 *
 * Not here: reflect/replicate/circular modes (no model in the toolkit uses them).
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";
import { stridesOf } from "./shape.ts";

/** Attributes of `pad`: amounts per axis (all axes, outermost first) and the fill value. */
export interface PadAttrs {
  readonly before: readonly number[];
  readonly after: readonly number[];
  readonly value: number;
}

/** Declaration of `pad`. Kernels: ops/backends/<name>/pad.ts. */
/** The region of a pad's input that survives into its output, as a strided copy. */
export interface PadCopy {
  /** First input element copied, and the input's row-major strides. */
  inOffset: number;
  inStrides: number[];
  /** Where it lands in the output, and the output's strides. */
  outOffset: number;
  outStrides: number[];
  /** Extent of the copied region on each axis (0 when nothing survives). */
  extent: number[];
}

/** What every backend's pad kernel copies: the input less what negative amounts crop. */
export function padCopy(
  inShape: readonly number[],
  outShape: readonly number[],
  before: readonly number[],
): PadCopy {
  const inStrides = stridesOf(inShape), outStrides = stridesOf(outShape);
  let inOffset = 0, outOffset = 0;
  const extent = new Array<number>(inShape.length);
  for (let d = 0; d < inShape.length; d++) {
    const inStart = Math.max(0, -before[d]);
    const outStart = Math.max(0, before[d]);
    extent[d] = Math.max(0, Math.min(inShape[d] - inStart, outShape[d] - outStart));
    inOffset += inStart * inStrides[d];
    outOffset += outStart * outStrides[d];
  }
  return { inOffset, inStrides, outOffset, outStrides, extent };
}

export const padOp: OpDef<PadAttrs> = defineOp<PadAttrs>({
  name: "pad",
  outputs([x], { before, after }) {
    if (before.length !== x.rank || after.length !== x.rank) {
      throw new RangeError(`pad: amounts for ${before.length}/${after.length} axes given for [${x.shape}]`);
    }
    const shape = x.shape.map((n, d) => n + before[d] + after[d]);
    if (shape.some((n) => n < 0)) {
      throw new RangeError(`pad: cropping [${before}]/[${after}] leaves a negative extent for [${x.shape}]`);
    }
    return [{ shape, dtype: x.dtype }];
  },
  backward: ({ grads, attrs }) => [
    runOp(padOp, [grads[0]!], {
      before: attrs.before.map((p) => -p),
      after: attrs.after.map((p) => -p),
      value: 0,
    })[0],
  ],
});

/**
 * `x` padded with `value` (default 0). `pads` lists (before, after) pairs starting from the
 * LAST axis, exactly like `F.pad`: `[left, right]` pads the last axis, `[left, right, top,
 * bottom]` the last two. Negative amounts crop.
 *
 * @example
 * ```ts
 * const padded = pad(x, [0, 3]);            // x: [N, C, T] → [N, C, T + 3], zeros at the end
 * const framed = pad(x, [2, 2, 1, 1], { value: -1 }); // last two axes
 * ```
 */
export function pad(x: Tensor, pads: readonly number[], options: { value?: number } = {}): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.rank) {
    throw new RangeError(`pad: ${pads.length} amounts do not form (before, after) pairs for rank ${x.rank}`);
  }
  if (pads.some((p) => !Number.isInteger(p))) throw new RangeError(`pad: amounts [${pads}] must be integers`);
  const before = new Array<number>(x.rank).fill(0);
  const after = new Array<number>(x.rank).fill(0);
  for (let k = 0; k < pads.length / 2; k++) {
    before[x.rank - 1 - k] = pads[2 * k];
    after[x.rank - 1 - k] = pads[2 * k + 1];
  }
  return runOp(padOp, [x], { before, after, value: options.value ?? 0 })[0];
}
