/**
 * Making tensors from host data: `tensor`, `scalar`, `zeros`, `ones`, `full`, and random
 * initialisation from a seeded generator.
 */
import { allocHost, type DType, dtypeOf, type TypedArray } from "./dtype.ts";
import { getBackend } from "./backend_registry.ts";
import { type Shape, sizeOf } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import type { Rng } from "./random.ts";

/** Options of `tensor()` and the other creation functions. */
export interface TensorOptions {
  /** Element type; defaults to the typed array's, or float32 for number arrays. */
  dtype?: DType;
  /** Make a leaf that accumulates `.grad`. */
  requiresGrad?: boolean;
  /** Backend name; defaults to the current default backend. */
  backend?: string;
}

/**
 * Creates a tensor from a typed array or a (flat) number array, copying the data.
 *
 * @example
 * ```ts
 * const w = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
 * ```
 */
export function tensor(
  data: TypedArray | ArrayLike<number>,
  shape?: Shape,
  options: TensorOptions = {},
): Tensor {
  const isTyped = ArrayBuffer.isView(data);
  const dtype = options.dtype ?? (isTyped ? dtypeOf(data as TypedArray) : "float32");
  const sh = shape ?? [data.length];
  if (sizeOf(sh) !== data.length) {
    throw new RangeError(
      `tensor(): ${data.length} values do not fill shape [${sh}] (${sizeOf(sh)} elements)`,
    );
  }
  const host = allocHost(dtype, data.length);
  host.set(data as ArrayLike<number>);
  const backend = getBackend(options.backend);
  const t = new Tensor(sh, dtype, backend, backend.upload(host), options.requiresGrad ?? false);
  if (t.requiresGrad && dtype === "int32") throw new TypeError("tensor(): int32 tensors cannot require grad");
  return t;
}

/** A 0-d tensor holding `value`. */
export function scalar(value: number, options: TensorOptions = {}): Tensor {
  return tensor([value], [], options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const host = allocHost(options.dtype ?? "float32", sizeOf(shape));
  if (value !== 0) host.fill(value);
  return tensor(host, shape, options);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Normally distributed values N(mean, std²) drawn from `rng`. */
export function randomNormal(
  shape: Shape,
  rng: Rng,
  options: TensorOptions & { mean?: number; std?: number } = {},
): Tensor {
  const host = allocHost(options.dtype ?? "float32", sizeOf(shape));
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  for (let i = 0; i < host.length; i++) host[i] = mean + std * rng.normal();
  return tensor(host, shape, options);
}

/** Uniformly distributed values in [low, high) drawn from `rng`. */
export function randomUniform(
  shape: Shape,
  rng: Rng,
  options: TensorOptions & { low?: number; high?: number } = {},
): Tensor {
  const host = allocHost(options.dtype ?? "float32", sizeOf(shape));
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  for (let i = 0; i < host.length; i++) host[i] = low + (high - low) * rng.uniform();
  return tensor(host, shape, options);
}
