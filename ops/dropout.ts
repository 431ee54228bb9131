/**
 * dropout with inverted scaling, like `torch.nn.functional.dropout`: in training each element
 * is zeroed with probability p and the survivors are scaled by 1/(1-p), so evaluation needs
 * no rescaling. The mask is made on the tensor's own backend by the `dropoutMask` op from
 * Philox4x32-10 (ops/philox.ts): a key and counter drawn once per call from the seeded `Rng`
 * select a stream in which element i (row-major) takes word i % 4 of block i / 4, and is
 * dropped when its top 24 bits, as a fraction of 2^24, are below p. The draw is integer
 * arithmetic throughout, so a seed drops the same elements on every run and every backend,
 * and nothing is uploaded per call. The mask holds the scale folded in and is multiplied in;
 * backward reuses it through mul's gradient instead of drawing again.
 *
 * `dropoutMask` gives the mask alone, for callers that fold it into a fused elementwise op
 * (`addReluMasked`: activation × dropout mask × frame mask in one pass, the mask kept by that
 * op for its backward).
 *
 * Not here: drawing the mask inside the multiply (one kernel fewer, but the mask would then have
 * to be redrawn or kept by a dedicated backward).
 */
import { mul } from "./elementwise.ts";
import { defineOp, type OpDef } from "./op_registry.ts";
import type { Rng } from "./random.ts";
import { runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";

/** Attributes of `dropoutMask`. */
export interface DropoutMaskAttrs {
  /** Philox key (two uint32 words). */
  readonly key: readonly [number, number];
  /** Words 2 and 3 of the Philox counter (word 0 is the block index, word 1 is 0). */
  readonly counter: readonly [number, number];
  /** An element is dropped when (word >>> 8) < threshold, i.e. ceil(p · 2^24); 2^24 drops all. */
  readonly threshold: number;
  /** Value of kept elements: 1/(1-p). */
  readonly scale: number;
}

/**
 * Declaration of `dropoutMask`: a mask shaped and typed like its one input (read only for its
 * shape, dtype and backend), 0 where dropped and `scale` elsewhere; no gradient.
 * Kernels: ops/backends/<name>/dropout.ts.
 */
export const dropoutMaskOp: OpDef<DropoutMaskAttrs> = defineOp<DropoutMaskAttrs>({
  name: "dropoutMask",
  outputs([like], { threshold }) {
    if (like.dtype === "int32") throw new TypeError(`dropoutMask: needs a float tensor, got ${like}`);
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > 2 ** 24) {
      throw new RangeError(`dropoutMask: threshold ${threshold} is outside the integers [0, 2^24]`);
    }
    return [{ shape: like.shape, dtype: like.dtype }];
  },
});

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Drop elements (default true, as in F.dropout); false returns `x` unchanged. */
  training?: boolean;
  /** The seeded generator the mask's Philox key and counter are drawn from (required when training with p > 0). */
  rng?: Rng;
}

/**
 * The attributes of one dropout draw: four uint32 words from `rng` (key, then counter words
 * 2 and 3) and the integer threshold of `p`.
 */
function dropoutMaskAttrs(p: number, rng: Rng): DropoutMaskAttrs {
  const key: [number, number] = [rng.nextUint32(), rng.nextUint32()];
  const counter: [number, number] = [rng.nextUint32(), rng.nextUint32()];
  // (w >>> 8) / 2^24 < p  ⟺  (w >>> 8) < ceil(p · 2^24) for integer w >>> 8 (p · 2^24 is exact).
  return { key, counter, threshold: Math.ceil(p * 16777216), scale: p >= 1 ? 0 : 1 / (1 - p) };
}

/**
 * `x` with each element zeroed with probability `p` and the rest scaled by 1/(1-p) while
 * training; `x` itself otherwise (or when p = 0).
 *
 * @example
 * ```ts
 * const rng = new Rng(1234);
 * const h = dropout(relu(x), 0.2, { training: true, rng });
 * ```
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const mask = dropoutMask(x, p, options);
  // mul keeps the mask for backward; scopes release it with the other intermediates.
  return mask ? mul(x, mask) : x;
}

/**
 * The mask `dropout(like, p, options)` multiplies by, shaped and typed like `like`: 0 where an
 * element is dropped and 1/(1-p) elsewhere, drawn from `options.rng` exactly as `dropout` draws
 * it; null where dropout is the identity (not training, or p = 0).
 *
 * @example
 * ```ts
 * const h = addReluMasked(bnOut, 0, { mask: dropoutMask(bnOut, 0.2, { rng }) });
 * ```
 */
export function dropoutMask(like: Tensor, p: number, options: DropoutOptions = {}): Tensor | null {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: probability ${p} is outside [0, 1]`);
  if (like.dtype === "int32") throw new TypeError(`dropout: needs a float tensor, got ${like}`);
  if (!(options.training ?? true) || p === 0) return null;
  if (!options.rng) throw new TypeError("dropout: training with p > 0 needs a seeded rng (options.rng)");
  return runOp(dropoutMaskOp, [like], dropoutMaskAttrs(p, options.rng))[0];
}
