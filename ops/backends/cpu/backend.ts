/**
 * The cpu backend: buffers are typed arrays (float32/int32 on the WebAssembly heap of
 * wasm/memory.ts, float64 in host memory), work runs synchronously in the calling
 * thread (GEMM-shaped work goes to OpenBLAS through FFI when present: ops/backends/cpu/blas.ts).
 * It is the reference backend: every op has a cpu kernel, and float64 is supported here
 * for finite-difference gradient checks.
 */
import type { Backend } from "../../backend.ts";
import { allocHost, bytesPerElement, type DType, dtypeOf, type TypedArray } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { blasInfo } from "./blas.ts";
import { heapAlloc, heapFree } from "./wasm/memory.ts";

/** Most bytes the pool keeps for reuse; beyond it, freed arrays go to the garbage collector. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * The cpu backend. Its storage is the tensor's typed array. Float32 and int32 arrays are views
 * of the WebAssembly heap (wasm/memory.ts), so the SIMD kernels run on them in place, with a
 * host array only when the heap is full; float64 arrays are host arrays.
 *
 * Freed host arrays go to a pool keyed by dtype and length and are handed out again, zeroed, by
 * `alloc`: writing into fresh memory page-faults on every page (about 5× the cost of writing
 * into a reused array here), and a training step allocates the same shapes every time.
 * `retain` (reshape views, `assign`) counts references, so an array returns to the pool only
 * when its last tensor is disposed. Tensors that are never disposed are left to the GC (a heap
 * block comes back through the heap's FinalizationRegistry).
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  /** float16 tensors are Float16Arrays (mixed precision is emulated: f32 compute). */
  readonly hasFloat16 = true;
  #bytes = 0;

  /** The host CPU and which GEMM runs on it (loads OpenBLAS on first use, as a matmul would). */
  get description(): string {
    const b = blasInfo();
    return b.implementation === "openblas"
      ? `host CPU, OpenBLAS GEMM (${b.coreName ?? "unknown"} kernels, ${b.threads} threads)`
      : "host CPU, TypeScript GEMM";
  }
  #pooledBytes = 0;
  #pool = new Map<string, TypedArray[]>();
  /** Extra references (beyond the first) of shared arrays. */
  #extraRefs = new WeakMap<TypedArray, number>();

  #take(dtype: DType, size: number): TypedArray | undefined {
    const list = this.#pool.get(`${dtype}:${size}`);
    const a = list?.pop();
    if (a) this.#pooledBytes -= a.byteLength;
    return a;
  }

  upload(data: TypedArray): unknown {
    this.#bytes += data.byteLength;
    const dtype = dtypeOf(data);
    if (dtype === "float32" || dtype === "int32") {
      const onHeap = heapAlloc(dtype, data.length, false);
      if (onHeap) {
        onHeap.set(data);
        return onHeap;
      }
    }
    const reused = this.#take(dtype, data.length);
    if (!reused) return data.slice();
    reused.set(data);
    return reused;
  }

  alloc(dtype: DType, size: number): unknown {
    return this.allocOutput(dtype, size, true);
  }

  /** `alloc`, or with `isZeroed` false an array whose old contents the caller overwrites. */
  allocOutput(dtype: DType, size: number, isZeroed: boolean): TypedArray {
    this.#bytes += size * bytesPerElement(dtype);
    if (dtype === "float32" || dtype === "int32") {
      const onHeap = heapAlloc(dtype, size, isZeroed);
      if (onHeap) return onHeap;
    }
    const reused = this.#take(dtype, size);
    if (!reused) return allocHost(dtype, size);
    if (isZeroed) reused.fill(0); // kernels may accumulate into their outputs
    return reused;
  }

  read(storage: unknown, _dtype: DType, _size: number): Promise<TypedArray> {
    return Promise.resolve((storage as TypedArray).slice());
  }

  readSync(storage: unknown, _dtype: DType, _size: number): TypedArray {
    return (storage as TypedArray).slice();
  }

  retain(storage: unknown): unknown {
    const a = storage as TypedArray;
    this.#bytes += a.byteLength;
    this.#extraRefs.set(a, (this.#extraRefs.get(a) ?? 0) + 1);
    return storage;
  }

  free(storage: unknown, dtype: DType, size: number): void {
    const a = storage as TypedArray;
    this.#bytes -= a.byteLength;
    const extra = this.#extraRefs.get(a) ?? 0;
    if (extra > 0) {
      this.#extraRefs.set(a, extra - 1);
      return;
    }
    if (heapFree(a)) return;
    if (a.length !== size || a.length === 0 || this.#pooledBytes + a.byteLength > POOL_LIMIT_BYTES) return;
    const key = `${dtype}:${size}`;
    let list = this.#pool.get(key);
    if (!list) this.#pool.set(key, list = []);
    list.push(a);
    this.#pooledBytes += a.byteLength;
  }

  /** Bytes held in the pool for reuse (not counted by `bytesInUse`). */
  pooledBytes(): number {
    return this.#pooledBytes;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  bytesInUse(): number {
    return this.#bytes;
  }
}

/** The host array behind a cpu tensor (no copy; kernels must not write to inputs). */
export function cpuData(t: Tensor): TypedArray {
  return t.storage as TypedArray;
}

/** Allocates a zeroed output array for a kernel and registers it with the backend. */
export function cpuOutput(backend: unknown, dtype: DType, size: number): TypedArray {
  return (backend as CpuBackend).allocOutput(dtype, size, true);
}

/**
 * `cpuOutput` without the zeroing, for a kernel that writes every element of its output (a
 * map, a copy that covers the output); its contents are old data until then.
 */
export function cpuOverwrittenOutput(backend: unknown, dtype: DType, size: number): TypedArray {
  return (backend as CpuBackend).allocOutput(dtype, size, false);
}
