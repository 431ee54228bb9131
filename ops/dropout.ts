/**
 * dropout with inverted scaling, like `torch.nn.functional.dropout`: in training each element
 * is zeroed with probability p and the survivors are scaled by 1/(1-p), so evaluation needs
 * no rescaling. The mask is drawn on the host from a seeded `Rng` (one uniform per element,
 * row-major; dropped when u < p) and uploaded with the scale folded in, then multiplied in.
 * So every backend drops the same elements for the same seed, and backward reuses the
 * saved mask through mul's gradient instead of drawing again.
 *
 * Not here: drawing masks on the device (a backend may add a kernel later; the host draw
 * keeps runs reproducible across backends, which the conformance suite relies on).
 */
import { tensor } from "./creation.ts";
import { allocHost } from "./dtype.ts";
import { mul } from "./elementwise.ts";
import type { Rng } from "./random.ts";
import type { Tensor } from "./tensor.ts";

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Drop elements (default true, as in F.dropout); false returns `x` unchanged. */
  training?: boolean;
  /** The seeded generator the mask is drawn from (required when training with p > 0). */
  rng?: Rng;
}

/**
 * The dropout mask for `shape`: 0 for dropped elements and 1/(1-p) for kept ones, drawn
 * from `rng` (one uniform per element in row-major order; dropped when u < p).
 */
function dropoutMask(shape: readonly number[], p: number, rng: Rng, like: Tensor): Tensor {
  let size = 1;
  for (const d of shape) size *= d;
  const host = allocHost(like.dtype, size);
  const keep = p >= 1 ? 0 : 1 / (1 - p);
  for (let i = 0; i < size; i++) host[i] = rng.uniform() < p ? 0 : keep;
  return tensor(host, shape, { backend: like.backend.name });
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
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: probability ${p} is outside [0, 1]`);
  if (x.dtype === "int32") throw new TypeError(`dropout: needs a float tensor, got ${x}`);
  if (!(options.training ?? true) || p === 0) return x;
  if (!options.rng) throw new TypeError("dropout: training with p > 0 needs a seeded rng (options.rng)");
  return mul(x, dropoutMask(x.shape, p, options.rng, x));
}
