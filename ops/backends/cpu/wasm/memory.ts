/**
 * The cpu backend's WebAssembly heap: one shared, growable `WebAssembly.Memory` that float32 and
 * int32 tensors live in, so the generated SIMD kernels (wasm/*.ts) run on tensor storage in
 * place instead of copying typed arrays in and out of a kernel memory.
 *
 * Why shared: growing a non-shared memory detaches its ArrayBuffer, which would empty every
 * typed array a tensor holds; a shared memory's older SharedArrayBuffer objects stay valid (they
 * keep their length and still alias the same bytes), so tensors' views survive growth.
 *
 * Blocks come in size classes, four per octave (at most 19% slack), 16-byte aligned and a
 * multiple of 16 bytes, so a vector loop may read and write a block's last partial vector. Freed
 * blocks go on their class's free list and are reused by any array that fits the class, so
 * batches of varying length reuse one another's memory. A block whose typed array is garbage
 * collected without being freed returns through a FinalizationRegistry.
 *
 * Not here: float64 (it stays in host arrays, on the TypeScript kernels), shrinking the memory
 * (WebAssembly cannot), or coalescing neighbouring free blocks.
 */

import { encodeModule, ValType, WasmCode } from "./encoder.ts";

const PAGE_BYTES = 65536;
/** 4 GiB, the wasm32 limit; a shared memory reserves this address space up front, commits on grow. */
export const HEAP_MAX_PAGES = 65536;
const MAX_PAGES = HEAP_MAX_PAGES;
const ALIGN = 16;

/** The heap's memory; kernels import it as `env.memory`. */
export const wasmMemory: WebAssembly.Memory = new WebAssembly.Memory({
  initial: 16,
  maximum: MAX_PAGES,
  shared: true,
});

/**
 * memory.fill through a one-instruction module: Float32Array.prototype.fill on a shared buffer
 * runs element by element (about 4x slower than on a host array here); this is a memset.
 */
const zeroBytes: (ptr: number, nBytes: number) => void = (() => {
  const c = new WasmCode(2);
  c.get(0).i32(0).get(1).memoryFill();
  const bytes = encodeModule([{ name: "zero", params: [ValType.i32, ValType.i32], results: [], code: c }], {
    memory: { minPages: 1, maxPages: MAX_PAGES, shared: true },
  });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: wasmMemory } });
  return instance.exports.zero as (ptr: number, nBytes: number) => void;
})();

/** Every SharedArrayBuffer object the memory has handed out (one per growth). */
const heapBuffers = new WeakSet<ArrayBufferLike>([wasmMemory.buffer]);
let heapBuffer: SharedArrayBuffer = wasmMemory.buffer as SharedArrayBuffer;
/** Next unallocated byte; 0..ALIGN stays unused so a null pointer never names a tensor. */
let top = ALIGN;
const freeLists = new Map<number, number[]>();
/** Block of each live array: its byte offset and class size. */
const blockOf = new WeakMap<ArrayBufferView, { offset: number; bytes: number }>();
const reclaim = new FinalizationRegistry<{ offset: number; bytes: number }>((b) =>
  pushFree(b.offset, b.bytes)
);
let bytesReserved = 0;

/** The class a request of `nBytes` is served from: 16-byte granules, then four classes per octave. */
export function sizeClass(nBytes: number): number {
  const n = Math.max(ALIGN, Math.ceil(nBytes / ALIGN) * ALIGN);
  if (n <= 256) return n;
  const octave = 2 ** Math.floor(Math.log2(n));
  const step = octave / 4;
  return Math.ceil(n / step) * step;
}

function pushFree(offset: number, bytes: number): void {
  let list = freeLists.get(bytes);
  if (!list) freeLists.set(bytes, list = []);
  list.push(offset);
}

function reserve(bytes: number): number | undefined {
  const list = freeLists.get(bytes);
  const reused = list?.pop();
  if (reused !== undefined) return reused;
  const end = top + bytes;
  if (end > MAX_PAGES * PAGE_BYTES) return undefined;
  const have = wasmMemory.buffer.byteLength;
  if (end > have) {
    // Grow by at least an eighth of the heap, so a growing workload grows O(log) times.
    const need = Math.ceil((end - have) / PAGE_BYTES);
    const pages = Math.min(MAX_PAGES - have / PAGE_BYTES, Math.max(need, Math.ceil(have / PAGE_BYTES / 8)));
    try {
      wasmMemory.grow(pages);
    } catch {
      return undefined;
    }
    heapBuffer = wasmMemory.buffer as SharedArrayBuffer;
    heapBuffers.add(heapBuffer);
  }
  const offset = top;
  top = end;
  return offset;
}

/**
 * A Float32Array or Int32Array of `length` elements on the heap, or undefined when the heap is
 * full (the caller then uses a host array, which the TypeScript kernels handle). Zeroed unless
 * `isZeroed` is false, for a caller that writes every element before anything reads it (the
 * memset is a full extra pass over the output: concat of 2 × [8, 400, 256] took 0.50 ms with it,
 * 0.21 ms without).
 */
export function heapAlloc(
  kind: "float32" | "int32",
  length: number,
  isZeroed = true,
): Float32Array | Int32Array | undefined {
  const bytes = sizeClass(length * 4);
  const offset = reserve(bytes);
  if (offset === undefined) return undefined;
  const a = kind === "float32"
    ? new Float32Array(heapBuffer, offset, length)
    : new Int32Array(heapBuffer, offset, length);
  // Reused blocks hold old data, and kernels may accumulate into their outputs.
  if (isZeroed) zeroBytes(offset, length * 4);
  const block = { offset, bytes };
  blockOf.set(a, block);
  reclaim.register(a, block, a);
  bytesReserved += bytes;
  return a;
}

/** Returns `a`'s block to its free list; `a` must not be used afterwards. False if not a heap array. */
export function heapFree(a: ArrayBufferView): boolean {
  const block = blockOf.get(a);
  if (!block) return false;
  blockOf.delete(a);
  reclaim.unregister(a);
  bytesReserved -= block.bytes;
  pushFree(block.offset, block.bytes);
  return true;
}

/** Whether `a` lives on the heap (its byteOffset is then its address for the kernels). */
export function onHeap(a: ArrayBufferView): boolean {
  return heapBuffers.has(a.buffer);
}

/** Heap statistics: bytes in live blocks, and the memory's committed size. */
export function heapStats(): { liveBytes: number; committedBytes: number } {
  return { liveBytes: bytesReserved, committedBytes: wasmMemory.buffer.byteLength };
}
