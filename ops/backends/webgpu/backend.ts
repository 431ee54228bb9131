/**
 * The webgpu backend: buffers are GPUBuffers owned by the backend, kernels encode one compute
 * pass each and submit it at once (the host never waits for them), and reads copy into a
 * staging buffer that is mapped asynchronously.
 *
 * Memory: every buffer comes from a pool keyed by size class (256 B, then four classes per
 * power of two, so at most 25% slack) and goes back to it when its last reference is freed;
 * `retain` adds a reference for views (reshape). Reuse is safe without waiting for the GPU
 * because all work, uploads included (`queue.writeBuffer`), runs in queue order and every
 * kernel submits before it returns. Staging and parameter buffers are leased with `using`
 * and go back to their pools at the end of the block.
 *
 * float16 tensors are stored as packed f16 (two per 32-bit word, the byte count rounded up to
 * a whole word) when the device has the `shader-f16` feature; without it they are refused.
 *
 * Not here: float64 (WGSL has no f64: uploads throw), several queues, buffer sub-allocation,
 * and the kernels themselves (ops/backends/webgpu/<op_family>.ts).
 */
import type { Backend } from "../../backend.ts";
import type { DType, TypedArray } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";

const FILE = "ops/backends/webgpu/backend.ts";

/** Size in 32-bit words of the uniform parameter block every kernel binds last (`params`, read with `m(i)`). */
export const META_WORDS = 128;

/** One reference-counted GPU buffer: the storage of webgpu tensors. */
export class GpuStorage {
  /** The buffer (its size is the size class, at least `nBytes`). */
  readonly buffer: GPUBuffer;
  /** Bytes the tensor uses. */
  readonly nBytes: number;
  /** @internal Live references; 0 once returned to the pool. */
  refs = 1;

  /** @internal Made by the backend only. */
  constructor(buffer: GPUBuffer, nBytes: number) {
    this.buffer = buffer;
    this.nBytes = nBytes;
  }
}

/** Counters of the buffer pool (for leak tests and memory reports). */
export interface PoolStats {
  /** Bytes (size classes) of buffers held by live storages. */
  bytesInUse: number;
  /** Bytes of idle buffers kept for reuse. */
  bytesPooled: number;
  /** Buffers created since the backend started. */
  buffersCreated: number;
  /** Allocations served from the pool. */
  buffersReused: number;
}

/** Options of `WebGpuBackend`. */
export interface WebGpuBackendOptions {
  /** Registry name; "webgpu" unless several devices are used side by side. */
  name?: string;
  /** Idle pooled bytes above which freed buffers are destroyed instead of kept (default 1 GiB). */
  maxPooledBytes?: number;
  /** Adapter description for reports (GPUAdapterInfo.description or vendor/device). */
  adapterDescription?: string;
  /** The adapter runs shaders on the CPU (llvmpipe, SwiftShader): kernels may pick CPU-friendly variants. */
  isCpuAdapter?: boolean;
}

/** Size class of a request: 256 B minimum, then 4 classes per power of two. */
export function sizeClass(nBytes: number): number {
  if (nBytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(nBytes));
  const step = p / 4;
  return Math.ceil(nBytes / step) * step;
}

const STORAGE_USAGE = 0x80 | 0x40 | 0x08 | 0x04; // STORAGE | UNIFORM | COPY_DST | COPY_SRC
const STAGING_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const MAP_READ = 0x01;

/** A leased staging buffer; `using` hands it back to the staging pool. */
interface StagingLease extends Disposable {
  readonly buffer: GPUBuffer;
}

/** The webgpu backend over one GPUDevice. */
export class WebGpuBackend implements Backend, Disposable {
  readonly name: string;
  /** The device every buffer and pipeline belongs to. */
  readonly device: GPUDevice;
  /** What the adapter called itself, for reports. */
  readonly adapterDescription: string;
  /** Whether the adapter runs shaders on the CPU (llvmpipe, SwiftShader). */
  readonly isCpuAdapter: boolean;
  /**
   * Which matmul kernel to use: "tiled" (workgroup memory; GPUs), "register" (no workgroup
   * memory; CPU adapters, where the layout allows), or "auto" to choose by `isCpuAdapter`.
   */
  matmulKernel: "auto" | "tiled" | "register" = "auto";
  #pool = new Map<number, GPUBuffer[]>();
  #staging = new Map<number, GPUBuffer[]>();
  #pipelines = new Map<string, GPUComputePipeline>();
  #layouts = new Map<string, GPUBindGroupLayout>();
  #maxPooled: number;
  #bytesInUse = 0;
  #bytesPooled = 0;
  #created = 0;
  #reused = 0;
  #errors: string[] = [];
  #lost: string | null = null;
  #disposed = false;

  /** A backend over `device` (normally made by `initWebGpu`); registering it is the caller's job. */
  constructor(device: GPUDevice, options: WebGpuBackendOptions = {}) {
    this.device = device;
    this.name = options.name ?? "webgpu";
    this.adapterDescription = options.adapterDescription ?? "unknown adapter";
    this.isCpuAdapter = options.isCpuAdapter ?? false;
    this.#maxPooled = options.maxPooledBytes ?? 2 ** 30;
    // Validation errors from kernels surface on the next read or flush, not as console noise.
    device.addEventListener("uncapturederror", (e) => {
      this.#errors.push((e as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then((info) => {
      if (!this.#disposed) this.#lost = `${info.reason}: ${info.message}`;
    });
  }

  upload(data: TypedArray): unknown {
    this.#check("upload");
    if (data instanceof Float64Array) {
      throw new TypeError(
        `${FILE}: float64 tensors cannot live on ${this.name} (WGSL has no f64); use float32, or the cpu backend for float64`,
      );
    }
    if (data instanceof Float16Array) {
      this.#checkFloat16("upload");
      // writeBuffer copies whole 32-bit words: an odd count gets one element of padding.
      if (data.length % 2 === 1) {
        const padded = new Float16Array(data.length + 1);
        padded.set(data);
        return this.#uploadView(padded);
      }
    }
    return this.#uploadView(data);
  }

  alloc(dtype: DType, size: number): unknown {
    this.#check("alloc");
    if (dtype === "float64") {
      throw new TypeError(`${FILE}: cannot allocate float64 on ${this.name} (WGSL has no f64)`);
    }
    if (dtype === "float16") this.#checkFloat16("alloc");
    return this.#take(storageBytes(dtype, size));
  }

  /** Whether the device has `shader-f16`, so that float16 tensors can live on it. */
  get hasFloat16(): boolean {
    return this.device.features.has("shader-f16");
  }

  async read(storage: unknown, dtype: DType, size: number): Promise<TypedArray> {
    this.#check("read");
    const s = this.#live(storage, "read");
    const nBytes = storageBytes(dtype, size);
    if (nBytes > s.nBytes) {
      throw new RangeError(`${FILE}: read of ${nBytes} bytes from a ${s.nBytes}-byte buffer`);
    }
    const host = new ArrayBuffer(nBytes);
    if (nBytes > 0) {
      using staging = this.#leaseStaging(nBytes);
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(s.buffer, 0, staging.buffer, 0, nBytes);
      this.device.queue.submit([enc.finish()]);
      // The copy is queued now, so the source may be freed or reused before the map resolves.
      await staging.buffer.mapAsync(MAP_READ, 0, nBytes);
      new Uint8Array(host).set(new Uint8Array(staging.buffer.getMappedRange(0, nBytes)));
      staging.buffer.unmap();
    }
    this.#raiseErrors("read");
    return dtype === "int32"
      ? new Int32Array(host)
      : dtype === "float16"
      ? new Float16Array(host, 0, size)
      : new Float32Array(host);
  }

  retain(storage: unknown): unknown {
    const s = this.#live(storage, "retain");
    s.refs++;
    return s;
  }

  free(storage: unknown, _dtype: DType, _size: number): void {
    const s = this.#live(storage, "free");
    if (--s.refs > 0) return;
    const cls = s.buffer.size;
    this.#bytesInUse -= cls;
    if (this.#disposed || this.#bytesPooled + cls > this.#maxPooled) {
      s.buffer.destroy();
      return;
    }
    let list = this.#pool.get(cls);
    if (!list) this.#pool.set(cls, list = []);
    list.push(s.buffer);
    this.#bytesPooled += cls;
  }

  async flush(): Promise<void> {
    this.#check("flush");
    await this.device.queue.onSubmittedWorkDone();
    this.#raiseErrors("flush");
  }

  bytesInUse(): number {
    return this.#bytesInUse;
  }

  /** Pool counters. */
  stats(): PoolStats {
    return {
      bytesInUse: this.#bytesInUse,
      bytesPooled: this.#bytesPooled,
      buffersCreated: this.#created,
      buffersReused: this.#reused,
    };
  }

  /** Destroys every idle pooled buffer (live ones are untouched). */
  trimPool(): void {
    for (const list of this.#pool.values()) for (const b of list) b.destroy();
    for (const list of this.#staging.values()) for (const b of list) b.destroy();
    this.#pool.clear();
    this.#staging.clear();
    this.#bytesPooled = 0;
  }

  /** True once the backend (and its device) was disposed. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Destroys the pools and the device; the backend cannot be used afterwards. */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.trimPool();
    this.#disposed = true;
    this.device.destroy();
  }

  /**
   * A compute pipeline, compiled once per `key`. `bindings` lists the kinds of the bind group
   * entries in binding order: "read" (read-only storage), "write" (read-write storage),
   * "uniform".
   */
  pipeline(key: string, bindings: readonly BindingKind[], source: () => string): GPUComputePipeline {
    let p = this.#pipelines.get(key);
    if (p) return p;
    const layoutKey = bindings.join(",");
    let layout = this.#layouts.get(layoutKey);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        entries: bindings.map((kind, binding) => ({
          binding,
          visibility: 0x4, // GPUShaderStage.COMPUTE
          buffer: { type: kind === "read" ? "read-only-storage" : kind === "write" ? "storage" : "uniform" },
        })),
      });
      this.#layouts.set(layoutKey, layout);
    }
    const module = this.device.createShaderModule({ code: source(), label: key });
    p = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
    });
    this.#pipelines.set(key, p);
    return p;
  }

  /**
   * A temporary buffer for `size` elements of `dtype` between dispatches of one kernel;
   * `using` returns it to the pool at the end of the block (safe: later uses are queue-ordered).
   */
  scratch(dtype: DType, size: number): Disposable & { readonly buffer: GPUBuffer } {
    const s = this.alloc(dtype, size) as GpuStorage;
    return { buffer: s.buffer, [Symbol.dispose]: () => this.free(s, dtype, size) };
  }

  /** Keys of the pipelines compiled so far (for tests and reports). */
  pipelineKeys(): string[] {
    return [...this.#pipelines.keys()];
  }

  /**
   * Encodes one dispatch of `pipeline` over `buffers` (bound in order) followed by the
   * parameter block `meta` (bound last, as a uniform), and submits it.
   */
  dispatch(
    pipeline: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
    options: { meta: Uint32Array; workgroups: readonly [number, number, number] },
  ): void {
    this.#check("dispatch");
    if (options.meta.length > META_WORDS) {
      throw new RangeError(
        `${FILE}: kernel parameters need ${options.meta.length} words (max ${META_WORDS})`,
      );
    }
    const [x, y, z] = options.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const limit = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > limit || y > limit || z > limit) {
      throw new RangeError(
        `${FILE}: dispatch of [${x}, ${y}, ${z}] workgroups exceeds ${limit} per dimension`,
      );
    }
    const meta = new Uint32Array(META_WORDS);
    meta.set(options.meta);
    using params = this.#lease(this.#uploadView(meta));
    const entries = [...buffers, params.storage.buffer].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Workgroup counts (x, y) covering `n` groups within the per-dimension limit. */
  grid(n: number): [number, number, number] {
    const limit = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (n <= limit) return [n, 1, 1];
    const y = Math.ceil(n / limit);
    return [Math.ceil(n / y), y, 1];
  }

  #take(nBytes: number): GpuStorage {
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    if (nBytes > limit) {
      throw new RangeError(
        `${FILE}: a ${nBytes}-byte tensor exceeds the largest buffer a ${this.name} kernel can bind ` +
          `(${limit} bytes on ${this.adapterDescription}); split the batch`,
      );
    }
    const cls = Math.min(sizeClass(nBytes), limit);
    const list = this.#pool.get(cls);
    let buffer = list?.pop();
    if (buffer) {
      this.#bytesPooled -= cls;
      this.#reused++;
    } else {
      buffer = this.device.createBuffer({ size: cls, usage: STORAGE_USAGE });
      this.#created++;
    }
    this.#bytesInUse += cls;
    return new GpuStorage(buffer, nBytes);
  }

  #uploadView(data: ArrayBufferView): GpuStorage {
    const s = this.#take(data.byteLength);
    // Views of shared memory are accepted too (the copy happens now, on the queue timeline).
    if (data.byteLength > 0) this.device.queue.writeBuffer(s.buffer, 0, data as Uint8Array<ArrayBuffer>);
    return s;
  }

  #lease(storage: GpuStorage): Disposable & { storage: GpuStorage } {
    return { storage, [Symbol.dispose]: () => this.free(storage, "int32", 0) };
  }

  #leaseStaging(nBytes: number): StagingLease {
    const cls = sizeClass(nBytes);
    const buffer = this.#staging.get(cls)?.pop() ??
      this.device.createBuffer({ size: cls, usage: STAGING_USAGE });
    return {
      buffer,
      [Symbol.dispose]: () => {
        if (this.#disposed) return buffer.destroy();
        let list = this.#staging.get(cls);
        if (!list) this.#staging.set(cls, list = []);
        list.push(buffer);
      },
    };
  }

  #live(storage: unknown, what: string): GpuStorage {
    if (!(storage instanceof GpuStorage)) {
      throw new TypeError(`${FILE}: ${what} of a buffer that does not belong to ${this.name}`);
    }
    if (storage.refs <= 0) throw new Error(`${FILE}: ${what} of a buffer that was already freed`);
    return storage;
  }

  #checkFloat16(what: string): void {
    if (!this.hasFloat16) {
      throw new TypeError(
        `${FILE}: ${what} of a float16 tensor on ${this.name}, but ${this.adapterDescription} lacks the ` +
          `"shader-f16" feature; train with precision "f32" or cast to float32`,
      );
    }
  }

  #check(what: string): void {
    if (this.#disposed) throw new Error(`${FILE}: ${what} on ${this.name} after the backend was disposed`);
    if (this.#lost) throw new Error(`${FILE}: ${what} on ${this.name}: the device was lost (${this.#lost})`);
  }

  #raiseErrors(what: string): void {
    if (this.#errors.length === 0) return;
    const msg = this.#errors.join("; ");
    this.#errors = [];
    throw new Error(`${FILE}: GPU error reported before this ${what}: ${msg}`);
  }
}

/** Kind of one bind group entry of a kernel. */
export type BindingKind = "read" | "write" | "uniform";

/** The GPU buffer behind a webgpu tensor (kernels only). */
export function gpuBuffer(t: Tensor): GPUBuffer {
  const s = t.storage;
  if (!(s instanceof GpuStorage)) throw new TypeError(`${FILE}: ${t} has no webgpu buffer`);
  return s.buffer;
}

/** The webgpu backend a kernel runs on. */
export function gpuBackend(backend: Backend): WebGpuBackend {
  if (!(backend instanceof WebGpuBackend)) {
    throw new TypeError(`${FILE}: ${backend.name} is not a webgpu backend`);
  }
  return backend;
}

/** Bytes of device storage for `size` elements of `dtype` (float16 rounded up to whole words). */
function storageBytes(dtype: DType, size: number): number {
  return dtype === "float16" ? Math.ceil(size / 2) * 4 : size * 4;
}

/** WGSL element type of a dtype (f16 needs `enable f16;` in the shader). */
export function wgslType(dtype: DType): "f32" | "i32" | "f16" {
  if (dtype === "float64") throw new TypeError(`${FILE}: float64 has no WGSL type`);
  return dtype === "int32" ? "i32" : dtype === "float16" ? "f16" : "f32";
}

/** WGSL source of the parameter block every kernel binds last, with an accessor `m(i)`. */
export function wgslMeta(binding: number): string {
  return `struct Params { v: array<vec4<u32>, ${META_WORDS / 4}> }
@group(0) @binding(${binding}) var<uniform> params: Params;
fn m(i: u32) -> u32 { return params.v[i / 4u][i % 4u]; }`;
}
