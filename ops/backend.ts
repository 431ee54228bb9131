/**
 * The contract between the op layer and a backend. A backend owns its buffers (`storage` is
 * opaque to everything but the backend's own kernels), enqueues work, and reads back
 * asynchronously, so that WebGPU and CUDA fit the same interface as the cpu.
 *
 * Backends register themselves by name (ops/backends/<name>/) and their kernels per op name.
 */
import type { DType, TypedArray } from "./dtype.ts";

/** A compute backend: buffer management and reads. Kernels are registered separately. */
export interface Backend {
  /** Name used by `--backend` and in kernel registration ("cpu", "webgpu", ...). */
  readonly name: string;
  /** The device it runs on, for training logs and checkpoints ("host CPU, OpenBLAS ...", an adapter's name). */
  readonly description?: string;
  /**
   * Whether float16 tensors can live here (mixed precision): true on the cpu and on webgpu
   * devices with `shader-f16`; false where the device lacks it; undefined for a backend with no
   * float16 support at all.
   */
  readonly hasFloat16?: boolean;
  /** Copies host data into a new buffer owned by the backend. */
  upload(data: TypedArray): unknown;
  /** Allocates an uninitialised buffer for `size` elements of `dtype`. */
  alloc(dtype: DType, size: number): unknown;
  /** Reads a buffer back to the host, after all work queued on it. */
  read(storage: unknown, dtype: DType, size: number): Promise<TypedArray>;
  /** Synchronous read, for backends whose memory is the host's (cpu); undefined elsewhere. */
  readSync?(storage: unknown, dtype: DType, size: number): TypedArray;
  /**
   * Another reference to the same buffer (reshape and other views share memory); each
   * reference is released by its own `free`.
   */
  retain(storage: unknown): unknown;
  /** Releases one reference to a buffer; the last one returns it to the backend's pool. */
  free(storage: unknown, dtype: DType, size: number): void;
  /** Resolves when all queued work is done. */
  flush(): Promise<void>;
  /** Bytes currently held in live buffers (for leak tests and memory reports). */
  bytesInUse(): number;
}
