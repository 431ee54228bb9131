/**
 * The cuda backend over one device: the primary context, one compute stream on which every
 * copy and kernel is enqueued in order, a caching allocator, asynchronous reads through pinned
 * staging buffers, and kernel launch from NVRTC-compiled cubins (compile.ts).
 *
 * Memory: device blocks come from `cuMemAlloc` rounded to a size class (512 B steps up to
 * 1 MiB, then four classes per power of two, so at most 25 % slack) and go back to the
 * backend's cache when a storage's last reference is freed. Reuse needs no event: there is
 * one stream, so work that reads a freed block was enqueued before any work that can reuse
 * it (stream-ordered reuse). `emptyCache()` returns idle blocks to the driver; an allocation
 * that fails for lack of memory empties the cache and tries once more. Peak and current bytes
 * are kept for memory reports.
 *
 * Uploads copy from pageable host memory (`cuMemcpyHtoDAsync` returns once the source has
 * been staged, so the caller may reuse it); reads copy into a pinned staging buffer, record an
 * event and poll it from the event loop, so `await t.data()` never blocks the thread.
 *
 * Not here: float64 (the kernels are f32 and int32; float64 stays on the cpu, the reference),
 * several streams or devices, CUDA graphs; the kernels are in one file per op family.
 */
import { envGet } from "../../env.ts";
import type { Backend } from "../../backend.ts";
import type { DType, TypedArray } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { type KernelBuilder, KernelCompiler } from "./compile.ts";
import {
  CU_EVENT_DISABLE_TIMING,
  CU_STREAM_NON_BLOCKING,
  CUDA_ERROR_NOT_READY,
  type Driver,
} from "./ffi/driver.ts";
import { cStringArg, outU64, pointerOut } from "./ffi/library.ts";

const FILE = "ops/backends/cuda/backend.ts";
const CUDA_ERROR_OUT_OF_MEMORY = 2;
/** How long a read spins on its event before yielding to the event loop. */
const SPIN_MS = 0.2;

/** One reference-counted device block: the storage of cuda tensors. */
export class CudaStorage {
  /** Device address (CUdeviceptr). */
  readonly ptr: bigint;
  /** Bytes the tensor uses. */
  readonly nBytes: number;
  /** Bytes of the block (its size class). */
  readonly blockBytes: number;
  /** @internal Live references; 0 once returned to the cache. */
  refs = 1;

  /** @internal Made by the backend only. */
  constructor(ptr: bigint, nBytes: number, blockBytes: number) {
    this.ptr = ptr;
    this.nBytes = nBytes;
    this.blockBytes = blockBytes;
  }
}

/** Counters of the caching allocator. */
export interface CudaMemoryStats {
  /** Bytes (size classes) of blocks held by live storages. */
  bytesInUse: number;
  /** Highest `bytesInUse` since the backend started or `resetPeak()`. */
  peakBytesInUse: number;
  /** Bytes of idle blocks kept for reuse. */
  bytesCached: number;
  /** `cuMemAlloc` calls so far. */
  blocksCreated: number;
  /** Allocations served from the cache. */
  blocksReused: number;
}

/** Precision of GEMMs and convolutions; storage, reductions, batch norm and CTC stay f32. */
export type CudaPrecision = "f32" | "bf16" | "fp16";

/** What a device reports about itself, for `listBackends` and reports. */
export interface CudaDeviceInfo {
  /** cuDeviceGetName. */
  readonly name: string;
  /** Ordinal of the device. */
  readonly ordinal: number;
  /** Compute capability as 10·major + minor (90 for H100/H200). */
  readonly arch: number;
  /** Streaming multiprocessors. */
  readonly multiprocessors: number;
  /** Device memory in bytes. */
  readonly totalBytes: number;
  /** CUDA version the driver supports (1000·major + 10·minor). */
  readonly driverVersion: number;
}

/** Size class of a device allocation. */
export function cudaSizeClass(nBytes: number): number {
  if (nBytes <= 512) return 512;
  if (nBytes <= 1 << 20) return Math.ceil(nBytes / 512) * 512;
  const p = 2 ** Math.floor(Math.log2(nBytes));
  const step = p / 4;
  return Math.ceil(nBytes / step) * step;
}

/** One argument of a kernel launch, as the bytes the kernel's parameter holds. */
export type KernelArg =
  | { ptr: bigint }
  | { u32: number }
  | { i32: number }
  | { f32: number }
  | { bytes: Uint8Array };

/** A device pointer argument. */
export function argPtr(storage: CudaStorage | bigint): KernelArg {
  return { ptr: typeof storage === "bigint" ? storage : storage.ptr };
}

/** The storage of a tensor on the cuda backend. */
export function cudaStorage(t: Tensor): CudaStorage {
  if (!(t.storage instanceof CudaStorage)) {
    throw new TypeError(`${FILE}: tensor ${t} is not on the cuda backend (backend ${t.backend.name})`);
  }
  return t.storage;
}

/** The backend of a kernel context, checked. */
export function cudaBackend(backend: Backend): CudaBackend {
  if (!(backend instanceof CudaBackend)) {
    throw new TypeError(`${FILE}: expected the cuda backend, got ${backend.name}`);
  }
  return backend;
}

const KERNEL_ARG_ALIGN = 8;

/** The cuda backend. Made by `initCuda` (mod.ts), which also registers it. */
export class CudaBackend implements Backend, Disposable {
  readonly name: string;
  /** The device this backend runs on. */
  readonly device: CudaDeviceInfo;
  /** The driver API. */
  readonly driver: Driver;
  /** The compute stream (CUstream) every kernel, copy, cuBLAS and cuDNN call is enqueued on. */
  readonly stream: Deno.PointerValue;
  /** NVRTC pipeline for this device's architecture (or another builder, e.g. a test's). */
  readonly compiler: KernelBuilder;
  /** Precision of GEMMs and convolutions (see `CudaPrecision`). */
  precision: CudaPrecision = "f32";
  /**
   * Let f32 GEMMs and convolutions use TF32 tensor cores (PyTorch's allow_tf32): on unless
   * $DENO_CTC_CUDA_TF32 is "0" (the conformance run compares against float64 at f32 tolerances).
   */
  allowTf32: boolean = envGet("DENO_CTC_CUDA_TF32") !== "0";
  #context: Deno.PointerValue;
  #functions = new Map<string, Deno.PointerValue>();
  #modules: Deno.PointerValue[] = [];
  #cache = new Map<number, bigint[]>();
  #staging = new Map<number, Deno.PointerValue[]>();
  #stats: CudaMemoryStats = {
    bytesInUse: 0,
    peakBytesInUse: 0,
    bytesCached: 0,
    blocksCreated: 0,
    blocksReused: 0,
  };
  #disposers: (() => void)[] = [];
  #disposed = false;

  /** @internal Made by `initCuda`, with the primary context already current. */
  constructor(
    driver: Driver,
    device: CudaDeviceInfo,
    context: Deno.PointerValue,
    options: { name?: string; compiler?: KernelBuilder } = {},
  ) {
    this.name = options.name ?? "cuda";
    this.driver = driver;
    this.device = device;
    this.#context = context;
    const slot = outU64();
    driver.check(driver.api.cuStreamCreate(slot, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    this.stream = pointerOut(slot);
    this.compiler = options.compiler ?? new KernelCompiler(device.arch);
  }

  /** "NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, CUDA 13.0 driver)" */
  get description(): string {
    const d = this.device;
    return `${d.name} (sm_${d.arch}, ${d.multiprocessors} SMs, ${(d.totalBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `CUDA ${Math.floor(d.driverVersion / 1000)}.${(d.driverVersion % 1000) / 10} driver)`;
  }

  /** True after `[Symbol.dispose]()`. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  upload(data: TypedArray): unknown {
    const dtype = dtypeOfArray(data);
    const s = this.alloc(dtype, data.length) as CudaStorage;
    if (data.byteLength > 0) {
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.driver.check(
        this.driver.api.cuMemcpyHtoDAsync_v2(s.ptr, view, BigInt(data.byteLength), this.stream),
        "cuMemcpyHtoDAsync_v2",
      );
    }
    return s;
  }

  alloc(dtype: DType, size: number): unknown {
    this.#checkLive("alloc");
    if (dtype === "float64") {
      throw new TypeError(
        `${FILE}: float64 tensors are not supported on ${this.name}; use float32, or the cpu backend`,
      );
    }
    const nBytes = size * 4;
    const block = cudaSizeClass(nBytes);
    const cached = this.#cache.get(block);
    let ptr = cached?.pop();
    if (ptr !== undefined) {
      this.#stats.blocksReused++;
      this.#stats.bytesCached -= block;
    } else ptr = this.#cuMemAlloc(block);
    this.#stats.bytesInUse += block;
    this.#stats.peakBytesInUse = Math.max(this.#stats.peakBytesInUse, this.#stats.bytesInUse);
    return new CudaStorage(ptr, nBytes, block);
  }

  #cuMemAlloc(block: number): bigint {
    const slot = outU64();
    let status = this.driver.api.cuMemAlloc_v2(slot, BigInt(block));
    if (status === CUDA_ERROR_OUT_OF_MEMORY && this.#stats.bytesCached > 0) {
      this.emptyCache();
      status = this.driver.api.cuMemAlloc_v2(slot, BigInt(block));
    }
    this.driver.check(status, `cuMemAlloc_v2(${block} bytes; ${this.#stats.bytesInUse} in use)`);
    this.#stats.blocksCreated++;
    return slot[0];
  }

  async read(storage: unknown, dtype: DType, size: number): Promise<TypedArray> {
    this.#checkLive("read");
    const s = storage as CudaStorage;
    const nBytes = size * 4;
    const out = dtype === "int32" ? new Int32Array(size) : new Float32Array(size);
    if (nBytes === 0) return out;
    const block = cudaSizeClass(nBytes);
    const host = this.#stagingTake(block);
    try {
      const d = this.driver;
      d.check(d.api.cuMemcpyDtoHAsync_v2(host, s.ptr, BigInt(nBytes), this.stream), "cuMemcpyDtoHAsync_v2");
      await this.#streamDone();
      new Uint8Array(out.buffer).set(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(host!, nBytes)));
    } finally {
      this.#stagingGive(block, host);
    }
    return out;
  }

  retain(storage: unknown): unknown {
    const s = storage as CudaStorage;
    if (s.refs <= 0) throw new Error(`${FILE}: retain of a freed buffer`);
    s.refs++;
    return s;
  }

  free(storage: unknown): void {
    const s = storage as CudaStorage;
    if (s.refs <= 0) throw new Error(`${FILE}: double free of a ${s.nBytes}-byte buffer`);
    if (--s.refs > 0 || this.#disposed) return;
    this.#stats.bytesInUse -= s.blockBytes;
    this.#stats.bytesCached += s.blockBytes;
    let list = this.#cache.get(s.blockBytes);
    if (!list) this.#cache.set(s.blockBytes, list = []);
    list.push(s.ptr);
  }

  async flush(): Promise<void> {
    this.#checkLive("flush");
    await this.#streamDone();
  }

  bytesInUse(): number {
    return this.#stats.bytesInUse;
  }

  /** Counters of the caching allocator. */
  memoryStats(): CudaMemoryStats {
    return { ...this.#stats };
  }

  /** Starts the peak count again from the bytes in use now. */
  resetPeak(): void {
    this.#stats.peakBytesInUse = this.#stats.bytesInUse;
  }

  /** Returns every idle cached block to the driver (after the stream's queued work). */
  emptyCache(): void {
    const d = this.driver;
    d.check(d.api.cuStreamSynchronize(this.stream), "cuStreamSynchronize");
    for (const list of this.#cache.values()) {
      for (const ptr of list) d.check(d.api.cuMemFree_v2(ptr), "cuMemFree_v2");
    }
    this.#cache.clear();
    this.#stats.bytesCached = 0;
  }

  /** A pinned host buffer of `block` bytes from the staging pool. */
  #stagingTake(block: number): Deno.PointerValue {
    const p = this.#staging.get(block)?.pop();
    if (p !== undefined) return p;
    const slot = outU64();
    this.driver.check(this.driver.api.cuMemAllocHost_v2(slot, BigInt(block)), "cuMemAllocHost_v2");
    return pointerOut(slot);
  }

  #stagingGive(block: number, p: Deno.PointerValue): void {
    let list = this.#staging.get(block);
    if (!list) this.#staging.set(block, list = []);
    list.push(p);
  }

  /** Resolves when everything enqueued so far has run: an event polled from the event loop. */
  async #streamDone(): Promise<void> {
    const d = this.driver;
    const slot = outU64();
    d.check(d.api.cuEventCreate(slot, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
    const event = pointerOut(slot);
    try {
      d.check(d.api.cuEventRecord(event, this.stream), "cuEventRecord");
      // Spin briefly (a read after a short kernel is ready within microseconds), then poll
      // from timers so that a long wait does not hold the thread.
      const spinUntil = performance.now() + SPIN_MS;
      for (let wait = 0;; wait = Math.min(wait + 0.05, 1)) {
        const status = d.api.cuEventQuery(event);
        if (status !== CUDA_ERROR_NOT_READY) {
          d.check(status, "cuEventQuery");
          return;
        }
        if (performance.now() < spinUntil) continue;
        await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      d.api.cuEventDestroy_v2(event);
    }
  }

  /**
   * The kernel `entry` of the module compiled from `source()` (compiled and loaded once per
   * `key`; `key` must determine the source).
   */
  kernel(key: string, entry: string, source: () => string): Deno.PointerValue {
    const hit = this.#functions.get(key);
    if (hit !== undefined) return hit;
    const d = this.driver;
    const cubin = this.compiler.cubin(key, source);
    const slot = outU64();
    d.check(d.api.cuModuleLoadData(slot, cubin), `cuModuleLoadData(${key})`);
    const module = pointerOut(slot);
    this.#modules.push(module);
    d.check(d.api.cuModuleGetFunction(slot, module, cStringArg(entry)), `cuModuleGetFunction(${entry})`);
    const fn = pointerOut(slot);
    this.#functions.set(key, fn);
    return fn;
  }

  /** Enqueues `fn` on the compute stream with `grid` × `block` threads and `args`. */
  launch(
    fn: Deno.PointerValue,
    grid: readonly number[],
    block: number,
    args: readonly KernelArg[],
    sharedBytes = 0,
  ): void {
    this.#checkLive("launch");
    const total = args.reduce((n, a) => n + Math.ceil(argBytes(a) / KERNEL_ARG_ALIGN) * KERNEL_ARG_ALIGN, 0);
    const values = new Uint8Array(Math.max(total, 8));
    const view = new DataView(values.buffer);
    const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(values));
    const pointers = new BigUint64Array(args.length);
    let offset = 0;
    args.forEach((a, i) => {
      pointers[i] = BigInt(base) + BigInt(offset);
      if ("ptr" in a) view.setBigUint64(offset, a.ptr, true);
      else if ("u32" in a) view.setUint32(offset, a.u32 >>> 0, true);
      else if ("i32" in a) view.setInt32(offset, a.i32 | 0, true);
      else if ("f32" in a) view.setFloat32(offset, a.f32, true);
      else values.set(a.bytes, offset);
      offset += Math.ceil(argBytes(a) / KERNEL_ARG_ALIGN) * KERNEL_ARG_ALIGN;
    });
    const d = this.driver;
    d.check(
      d.api.cuLaunchKernel(
        fn,
        grid[0],
        grid[1] ?? 1,
        grid[2] ?? 1,
        block,
        1,
        1,
        sharedBytes,
        this.stream,
        pointers,
        null,
      ),
      "cuLaunchKernel",
    );
  }

  /** Registers a release to run at dispose (cuBLAS and cuDNN handles). */
  onDispose(fn: () => void): void {
    this.#disposers.push(fn);
  }

  #checkLive(what: string): void {
    if (this.#disposed) throw new Error(`${FILE}: ${what} on a disposed cuda backend`);
  }

  /** Frees every cached block, module and the stream, and releases the primary context. */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    const d = this.driver;
    d.api.cuStreamSynchronize(this.stream);
    for (const fn of this.#disposers.splice(0)) fn();
    this.emptyCache();
    for (const list of this.#staging.values()) for (const p of list) d.api.cuMemFreeHost(p);
    for (const m of this.#modules) d.api.cuModuleUnload(m);
    d.api.cuStreamDestroy_v2(this.stream);
    d.api.cuDevicePrimaryCtxRelease_v2(this.device.ordinal);
    this.#context = null;
    this.#disposed = true;
  }
}

function argBytes(a: KernelArg): number {
  return "ptr" in a ? 8 : "bytes" in a ? a.bytes.byteLength : 4;
}

function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  return "float64";
}
