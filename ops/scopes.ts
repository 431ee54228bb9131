/**
 * Memory scopes: `tidy(fn)` and `TensorScope` (for `using`) dispose every tensor created inside
 * them that is not returned or kept, so GPU memory is released deterministically, not by the GC.
 */
import { Tensor } from "./tensor.ts";

const scopes: Set<Tensor>[] = [];

/** @internal Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Removes `t` from every open scope so that it outlives them. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/**
 * A memory scope for `using`: every tensor created while it is the innermost open scope is
 * disposed when the scope is, except those passed to `keep()` or `scope.keep()`.
 *
 * @example
 * ```ts
 * {
 *   using _scope = new TensorScope();
 *   const y = relu(add(x, b)); // intermediates and y are freed at the end of the block
 * }
 * ```
 */
export class TensorScope implements Disposable {
  #tensors = new Set<Tensor>();
  #closed = false;

  constructor() {
    scopes.push(this.#tensors);
  }

  /** Moves `t` out of this scope into the enclosing one (or none). Returns `t`. */
  keep<T extends Tensor>(t: T): T {
    this.#tensors.delete(t);
    const i = scopes.indexOf(this.#tensors);
    if (i > 0) scopes[i - 1].add(t);
    return t;
  }

  /** Disposes the scope's tensors and closes it. */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    const i = scopes.lastIndexOf(this.#tensors);
    if (i >= 0) scopes.splice(i, 1);
    for (const t of this.#tensors) t.dispose();
    this.#tensors.clear();
  }
}

/**
 * Runs `fn` in a scope and disposes every tensor it created except those in its result
 * (a tensor, or arrays/records of tensors), which move to the enclosing scope.
 * `fn` must be synchronous; for async code use `using scope = new TensorScope()`.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new TensorScope();
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError("tidy() takes a synchronous function; use TensorScope");
    }
    for (const t of tensorsIn(result)) scope.keep(t);
    return result;
  } finally {
    scope[Symbol.dispose]();
  }
}

function* tensorsIn(x: unknown, depth = 0): Generator<Tensor> {
  if (x instanceof Tensor) yield x;
  else if (depth < 3 && Array.isArray(x)) { for (const v of x) yield* tensorsIn(v, depth + 1); }
  else if (
    depth < 3 && x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype
  ) {
    for (const v of Object.values(x)) yield* tensorsIn(v, depth + 1);
  }
}
