/**
 * Central finite differences in float64, the independent check of every op's backward
 * (like torch.autograd.gradcheck): d f / d x_i ≈ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
 *
 * Also the fixed weights w_k of the scalar loss L = Σ_k sum(out_k · w_k) that gradients are
 * checked on. They are a closed formula, not a random stream, so that a PyTorch fixture
 * script can compute the same loss: `np.sin(1 + 0.7 * np.arange(n) + 1.3 * k)`.
 *
 * Not here: building tensors or comparing (harness.ts).
 */

/** Step of the central differences (float64). */
export const finiteDiffEps = 1e-6;

/**
 * Weights of output `k` (flattened, `size` elements) in the gradient-check loss:
 * w[i] = sin(1 + 0.7 i + 1.3 k). They vary in sign and size so that a wrong index or a
 * swapped gradient shows.
 *
 * @example
 * ```ts
 * const w0 = gradWeights(0, 6); // the same as np.sin(1 + 0.7 * np.arange(6) + 1.3 * 0)
 * ```
 */
export function gradWeights(k: number, size: number): Float64Array {
  return cachedWeights(k, size).slice();
}

const weightCache = new Map<string, Float64Array>();

/** The shared, read-only weights array (callers must not modify it). */
function cachedWeights(k: number, size: number): Float64Array {
  const key = `${k}:${size}`;
  let w = weightCache.get(key);
  if (!w) {
    w = new Float64Array(size);
    for (let i = 0; i < size; i++) w[i] = Math.sin(1 + 0.7 * i + 1.3 * k);
    // Finite differences evaluate the loss hundreds of times per case; a few cases' weights are kept.
    if (weightCache.size > 16) weightCache.clear();
    weightCache.set(key, w);
  }
  return w;
}

/** Σ_k Σ_i out_k[i] · w_k[i] in float64 (outputs that are null are skipped). */
export function weightedLoss(outputs: readonly (ArrayLike<number> | null)[]): number {
  let total = 0;
  for (let k = 0; k < outputs.length; k++) {
    const o = outputs[k];
    if (!o) continue;
    const w = cachedWeights(k, o.length);
    for (let i = 0; i < o.length; i++) total += o[i] * w[i];
  }
  return total;
}

/** Σ_k Σ_i |out_k[i] · w_k[i]|: the size of the loss's terms, which bounds its rounding error. */
export function weightedLossScale(outputs: readonly (ArrayLike<number> | null)[]): number {
  let total = 0;
  for (let k = 0; k < outputs.length; k++) {
    const o = outputs[k];
    if (!o) continue;
    const w = cachedWeights(k, o.length);
    for (let i = 0; i < o.length; i++) total += Math.abs(o[i] * w[i]);
  }
  return total;
}

/** Most elements per input that finite differences perturb; larger inputs are sampled. */
export const maxFiniteDiffPoints = 256;

/**
 * Positions of an n-element input to check: all of them up to `maxPoints`, else that many
 * spread evenly from the first to the last (so large cases stay cheap on every backend).
 */
export function sampleIndices(n: number, maxPoints: number = maxFiniteDiffPoints): number[] {
  if (n <= maxPoints) return [...Array(n).keys()];
  return Array.from({ length: maxPoints }, (_, k) => Math.round((k * (n - 1)) / (maxPoints - 1)));
}

/**
 * Gradient of the scalar function `f` at `x` by central differences, at `options.indices`
 * (default: every element), in that order. `f` receives a perturbed copy of `x`, changed in
 * place between calls (so `f` must copy what it keeps), and returns the function value.
 */
export async function centralDifferences(
  f: (x: Float64Array) => Promise<number>,
  x: Float64Array,
  options: { eps?: number; indices?: readonly number[] } = {},
): Promise<Float64Array> {
  const eps = options.eps ?? finiteDiffEps;
  const indices = options.indices ?? [...Array(x.length).keys()];
  const grad = new Float64Array(indices.length);
  const work = x.slice();
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    work[i] = x[i] + eps;
    const plus = await f(work);
    work[i] = x[i] - eps;
    const minus = await f(work);
    work[i] = x[i];
    grad[k] = (plus - minus) / (2 * eps);
  }
  return grad;
}
