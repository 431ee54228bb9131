/**
 * Masks for padded batches, so that padded frames never influence valid ones:
 * `sequenceMask` turns int32 lengths into a float mask (1 on valid frames, 0 on padding),
 * `applySequenceMask` zeroes (or fills) the padded frames of an activation whatever its
 * layout, and `maskedFill` is PyTorch's `masked_fill`. Gradients never flow into filled
 * positions, so padding contributes nothing to the valid frames' gradients either.
 *
 * Not here: computing lengths after strided convolutions (the layers that stride know how).
 */
import type { DType } from "./dtype.ts";
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { tensor } from "./creation.ts";
import { where } from "./elementwise.ts";
import { permute } from "./permute.ts";
import { reshape } from "./reshape.ts";
import { normalizeAxis } from "./shape.ts";
import { Tensor } from "./tensor.ts";

/** Attributes of `sequenceMask`. */
export interface SequenceMaskAttrs {
  /** Extent of the time axis of the mask. */
  readonly maxLen: number;
  /** Float dtype of the mask. */
  readonly dtype: DType;
}

/** Declaration of `sequenceMask` (no gradient: lengths are integers). Kernels: ops/backends/<name>/masks.ts. */
export const sequenceMaskOp: OpDef<SequenceMaskAttrs> = defineOp<SequenceMaskAttrs>({
  name: "sequenceMask",
  outputs([lengths], { maxLen, dtype }) {
    if (lengths.dtype !== "int32") {
      throw new TypeError(`sequenceMask: lengths must be int32, got ${lengths.dtype}`);
    }
    if (!Number.isInteger(maxLen) || maxLen < 0) {
      throw new RangeError(`sequenceMask: maxLen ${maxLen} must be a non-negative integer`);
    }
    return [{ shape: [...lengths.shape, maxLen], dtype }];
  },
});

/** Options of `sequenceMask`. */
export interface SequenceMaskOptions {
  /** Mask dtype (default float32). */
  dtype?: DType;
  /** Backend for lengths given as numbers (default: the default backend). */
  backend?: string;
}

/**
 * A mask of shape [...lengths.shape, maxLen] with 1 where t < lengths[n] and 0 after, like
 * `tf.sequence_mask`. Lengths beyond maxLen give a full row; negative lengths are an error.
 *
 * @example
 * ```ts
 * const mask = sequenceMask([3, 5], 5); // [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
 * ```
 */
export function sequenceMask(
  lengths: Tensor | ArrayLike<number>,
  maxLen: number,
  options: SequenceMaskOptions = {},
): Tensor {
  const lens = lengths instanceof Tensor
    ? lengths
    : tensor(Int32Array.from(lengths), [lengths.length], { dtype: "int32", backend: options.backend });
  try {
    return runOp(sequenceMaskOp, [lens], { maxLen, dtype: options.dtype ?? "float32" })[0];
  } finally {
    // Lengths made here are an intermediate: free them now rather than leave them to a scope.
    if (lens !== lengths) lens.dispose();
  }
}

/**
 * `value` where `mask` is non-zero and `x` elsewhere, broadcasting, like PyTorch's
 * `x.masked_fill(mask, value)`. No gradient reaches `x` at filled positions.
 *
 * @example
 * ```ts
 * const scores = maskedFill(logits, padMask, -Infinity);
 * ```
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

/** Options of `applySequenceMask`. */
export interface ApplySequenceMaskOptions {
  /** Axis of `x` that holds the batch (default 0). */
  batchAxis?: number;
  /** Axis of `x` that holds time (default the last, as in [N, C, T]). */
  timeAxis?: number;
  /** What padded frames become (default 0). */
  value?: number;
}

/**
 * `x` with every frame at or past its sequence's length set to `value` (default 0).
 * `mask` is a [N, T] sequence mask (from `sequenceMask`); it is broadcast over every other
 * axis of `x`, which may be laid out [N, C, T] (default), [N, T, C] or [T, N, C].
 *
 * @example
 * ```ts
 * const mask = sequenceMask(lengths, T);
 * const y = applySequenceMask(conv1d(x, w), mask);                     // [N, C, T]
 * const z = applySequenceMask(rnnOut, mask, { batchAxis: 1, timeAxis: 0 }); // [T, N, H]
 * ```
 */
export function applySequenceMask(x: Tensor, mask: Tensor, options: ApplySequenceMaskOptions = {}): Tensor {
  const b = normalizeAxis(options.batchAxis ?? 0, x.rank);
  const t = normalizeAxis(options.timeAxis ?? -1, x.rank);
  if (b === t) throw new RangeError(`applySequenceMask: batch and time are both axis ${b}`);
  if (mask.rank !== 2 || mask.shape[0] !== x.shape[b] || mask.shape[1] !== x.shape[t]) {
    throw new RangeError(
      `applySequenceMask: mask [${mask.shape}] must be [N=${x.shape[b]}, T=${x.shape[t]}] for x [${x.shape}]`,
    );
  }
  const ordered = b < t ? mask : permute(mask, [1, 0]);
  const shape = x.shape.map((n, d) => (d === b || d === t ? n : 1));
  const m = reshape(ordered, shape);
  const value = options.value ?? 0;
  // The reshaped mask stays alive: where() keeps it for backward; scopes release it.
  return where(m, x, value);
}
