/**
 * The cpu backend: buffers are host typed arrays, work runs synchronously in the calling
 * thread (GEMM-shaped work goes to OpenBLAS through FFI when present: ops/backends/cpu/blas.ts).
 * It is the reference backend: every op has a cpu kernel, and float64 is supported here
 * for finite-difference gradient checks.
 */
import type { Backend } from "../../backend.ts";
import { allocHost, bytesPerElement, type DType, type TypedArray } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";

/** The cpu backend. Its storage is the tensor's typed array. */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  #bytes = 0;

  upload(data: TypedArray): unknown {
    this.#bytes += data.byteLength;
    return data.slice();
  }

  alloc(dtype: DType, size: number): unknown {
    this.#bytes += size * bytesPerElement(dtype);
    return allocHost(dtype, size);
  }

  read(storage: unknown, _dtype: DType, _size: number): Promise<TypedArray> {
    return Promise.resolve((storage as TypedArray).slice());
  }

  readSync(storage: unknown, _dtype: DType, _size: number): TypedArray {
    return (storage as TypedArray).slice();
  }

  retain(storage: unknown): unknown {
    this.#bytes += (storage as TypedArray).byteLength;
    return storage;
  }

  free(storage: unknown, _dtype: DType, _size: number): void {
    // Host memory goes back to the garbage collector; only the accounting is ours.
    this.#bytes -= (storage as TypedArray).byteLength;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  bytesInUse(): number {
    return this.#bytes;
  }

  /** Wraps a freshly computed host array as a buffer of this backend (no copy). */
  adopt(data: TypedArray): unknown {
    this.#bytes += data.byteLength;
    return data;
  }
}

/** The host array behind a cpu tensor (no copy; kernels must not write to inputs). */
export function cpuData(t: Tensor): TypedArray {
  return t.storage as TypedArray;
}

/** Allocates an output array for a kernel and registers it with the backend. */
export function cpuOutput(backend: unknown, dtype: DType, size: number): TypedArray {
  return (backend as CpuBackend).alloc(dtype, size) as TypedArray;
}
