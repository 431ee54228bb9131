/**
 * Tensor: a shape, a dtype and a backend buffer, plus the autograd links (`requiresGrad`,
 * `grad`, the node that produced it). Tensors are immutable; ops make new ones.
 * Reads are asynchronous (`await t.data()`) because GPU backends cannot read synchronously.
 */
import type { Backend } from "./backend.ts";
import type { DType, TypedArray } from "./dtype.ts";
import { type Shape, sizeOf } from "./shape.ts";
import { backwardFrom, type GradNode } from "./tape.ts";
import { trackTensor } from "./scopes.ts";

/** An n-dimensional array on a backend. Create with `tensor()`; ops return new tensors. */
export class Tensor implements Disposable {
  /** Extent of each axis, outermost first. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** The backend that owns the buffer. */
  readonly backend: Backend;
  /** Number of elements. */
  readonly size: number;
  /** Gradient accumulated by `backward()` (leaf tensors with `requiresGrad` only). */
  grad: Tensor | null = null;
  /** Whether gradients flow to this tensor. */
  requiresGrad: boolean;
  /** @internal The backend's buffer; only kernels of `backend` may read it. */
  storage: unknown;
  /** @internal The autograd node that produced this tensor, and which of its outputs it is. */
  node: GradNode | null = null;
  /** @internal */
  outputIndex = 0;
  #disposed = false;

  /** @internal Use `tensor()`, or ops, to make tensors. */
  constructor(shape: Shape, dtype: DType, backend: Backend, storage: unknown, requiresGrad = false) {
    this.shape = [...shape];
    this.dtype = dtype;
    this.backend = backend;
    this.size = sizeOf(shape);
    this.storage = storage;
    this.requiresGrad = requiresGrad;
    trackTensor(this);
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once `dispose()` released the buffer. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Copies the elements to the host (row-major). */
  data(): Promise<TypedArray> {
    this.assertLive();
    return this.backend.read(this.storage, this.dtype, this.size);
  }

  /** Synchronous read; only backends whose memory is the host's (cpu) support it. */
  dataSync(): TypedArray {
    this.assertLive();
    if (!this.backend.readSync) {
      throw new Error(`Tensor on backend "${this.backend.name}" has no synchronous read: use await t.data()`);
    }
    return this.backend.readSync(this.storage, this.dtype, this.size);
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item() needs one element, tensor has shape [${this.shape}]`);
    return (await this.data())[0];
  }

  /**
   * Back-propagates from this tensor (a scalar unless `grad` is given), accumulating `.grad`
   * on every leaf that requires it, then frees what the tape kept.
   */
  backward(grad?: Tensor): void {
    backwardFrom(this, grad);
  }

  /** Releases the buffer now; later use throws. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.backend.free(this.storage, this.dtype, this.size);
    this.storage = null;
    this.node = null;
  }

  /** `using t = ...` disposes at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal Throws when the tensor was disposed. */
  assertLive(): void {
    if (this.#disposed) throw new Error(`Tensor of shape [${this.shape}] was used after dispose()`);
  }

  /** Short description for errors and debugging. */
  toString(): string {
    return `Tensor(${this.dtype}[${this.shape}] on ${this.backend.name})`;
  }
}
