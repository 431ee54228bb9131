/**
 * slice: a sub-block of a tensor with a start, end and positive step per axis, like Python's
 * `x[a:b:s, ...]` on a torch tensor (negative start/end count from the end and are clamped),
 * copied to a new contiguous tensor. Its backward, `sliceBackward`, writes the gradient into
 * zeros of the input's shape at the same positions.
 *
 * Not here: negative steps (PyTorch has none either), indexing by tensors (ops/gather.ts).
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { type Shape, shapesEqual } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** One axis of a slice; omitted fields take the whole axis. */
export interface SliceRange {
  /** First index (negative counts from the end); default 0. */
  start?: number;
  /** One past the last index (negative counts from the end); default the extent. */
  end?: number;
  /** Positive stride; default 1. */
  step?: number;
}

/** Attributes of `slice` and `sliceBackward`: resolved, non-negative starts and steps per axis. */
export interface SliceAttrs {
  readonly starts: readonly number[];
  readonly steps: readonly number[];
  /** Shape of the slice (the output of `slice`, the input of `sliceBackward`). */
  readonly sliceShape: Shape;
  /** Shape of the sliced tensor (the input of `slice`, the output of `sliceBackward`). */
  readonly fullShape: Shape;
}

/** Declaration of `slice`. Kernels: ops/backends/<name>/slice.ts. */
export const sliceOp: OpDef<SliceAttrs> = defineOp<SliceAttrs>({
  name: "slice",
  outputs([x], attrs) {
    if (!shapesEqual(x.shape, attrs.fullShape)) {
      throw new RangeError(
        `slice: input [${x.shape}] is not the [${attrs.fullShape}] the ranges were resolved for`,
      );
    }
    return [{ shape: attrs.sliceShape, dtype: x.dtype }];
  },
  backward: ({ grads, attrs }) => [runOp(sliceBackwardOp, [grads[0]!], attrs)[0]],
});

/** Declaration of `sliceBackward`: the slice's values placed into zeros of the full shape. */
export const sliceBackwardOp: OpDef<SliceAttrs> = defineOp<SliceAttrs>({
  name: "sliceBackward",
  outputs([g], attrs) {
    if (!shapesEqual(g.shape, attrs.sliceShape)) {
      throw new RangeError(`sliceBackward: gradient [${g.shape}] is not the slice's [${attrs.sliceShape}]`);
    }
    return [{ shape: attrs.fullShape, dtype: g.dtype }];
  },
  backward: ({ grads, attrs }) => [runOp(sliceOp, [grads[0]!], attrs)[0]],
});

/** Resolves Python-style ranges against `shape` (missing axes take everything). */
export function resolveSlice(shape: Shape, ranges: readonly (SliceRange | null | undefined)[]): SliceAttrs {
  if (ranges.length > shape.length) {
    throw new RangeError(`slice: ${ranges.length} ranges for a tensor of rank ${shape.length}`);
  }
  const starts: number[] = [], steps: number[] = [], sliceShape: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    const r = ranges[d] ?? {};
    const step = r.step ?? 1;
    if (!Number.isInteger(step) || step <= 0) {
      throw new RangeError(`slice: step ${step} on axis ${d} must be a positive integer`);
    }
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const start = clamp(r.start ?? 0);
    const end = clamp(r.end ?? n);
    starts.push(start);
    steps.push(step);
    sliceShape.push(end > start ? Math.ceil((end - start) / step) : 0);
  }
  return { starts, steps, sliceShape, fullShape: [...shape] };
}

/**
 * The block of `x` selected by one range per leading axis (later axes are taken whole),
 * like `x[start:end:step, ...]` in PyTorch, as a new tensor.
 *
 * @example
 * ```ts
 * const firstHalf = slice(x, [null, { end: T / 2 }]);   // x[:, :T/2]
 * const everyOther = slice(x, [{ step: 2 }]);            // x[::2]
 * const last = slice(x, [null, null, { start: -1 }]);   // x[:, :, -1:]
 * ```
 */
export function slice(x: Tensor, ranges: readonly (SliceRange | null | undefined)[]): Tensor {
  return runOp(sliceOp, [x], resolveSlice(x.shape, ranges))[0];
}

/**
 * `x` narrowed to `length` elements from `start` along `axis`, like `torch.narrow`.
 *
 * @example
 * ```ts
 * const frames = narrow(x, -1, 10, 5); // x[..., 10:15]
 * ```
 */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank) throw new RangeError(`narrow: axis ${axis} is out of range for rank ${x.rank}`);
  const s = start < 0 ? start + x.shape[a] : start;
  if (s < 0 || length < 0 || s + length > x.shape[a]) {
    throw new RangeError(`narrow: [${start}, ${start}+${length}) is outside axis ${axis} of [${x.shape}]`);
  }
  const ranges: SliceRange[] = [];
  ranges[a] = { start: s, end: s + length };
  return slice(x, Array.from({ length: a + 1 }, (_, i) => ranges[i] ?? null));
}
