/**
 * Reads and writes the safetensors format (huggingface/safetensors `docs/`): an 8-byte
 * little-endian header length N, N bytes of JSON `{name: {dtype, shape, data_offsets}, __metadata__}`,
 * then the raw little-endian tensor bytes, offsets relative to the end of the header.
 *
 * Contract:
 * - Reads F64, F32, F16, BF16, I64, I32, I16, I8, U8, U16, U32, U64 and BOOL. Each tensor's data
 *   is copied into a fresh, aligned typed array; half floats come back as raw Uint16Array and
 *   `tensorToFloat32` converts any numeric dtype to Float32Array.
 * - Validates the header (length, JSON, dtypes, shapes against byte ranges, overlaps, gaps) and
 *   names the file in every error, so a truncated or corrupt checkpoint fails loudly.
 * - Writes atomically: the bytes go to a temporary file beside the target, then a rename.
 *   Metadata values are strings, as the format requires; tensors are written in sorted name
 *   order with the header padded by spaces to a multiple of 8 bytes, like the reference writer.
 *
 * Not done: memory-mapping or lazy loading (whole files are read), big-endian hosts.
 *
 * @module
 */

/** A dtype name as written in a safetensors header. */
export type SafetensorsDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** The typed array that holds a tensor's elements (F16/BF16 as raw Uint16Array bits). */
export type SafetensorsArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** One tensor: dtype, row-major shape and its elements. */
export interface SafetensorsTensor {
  /** The header dtype. */
  dtype: SafetensorsDType;
  /** Row-major dimensions; `[]` for a scalar. */
  shape: number[];
  /** The elements, row-major. */
  data: SafetensorsArray;
}

/** A whole file: its tensors by name (in file order) and its string metadata. */
export interface SafetensorsFile {
  /** Tensors in the order of their byte offsets. */
  tensors: Map<string, SafetensorsTensor>;
  /** `__metadata__`, or an empty object when the file has none. */
  metadata: Record<string, string>;
}

/** A tensor to write: data plus shape; dtype is inferred from the array unless given. */
export interface SafetensorsTensorInput {
  /** Row-major dimensions; their product must equal the element count. */
  shape: readonly number[];
  /** The elements. A Uint16Array needs an explicit dtype (F16, BF16 or U16). */
  data: SafetensorsArray;
  /** Overrides the dtype inferred from the array type. */
  dtype?: SafetensorsDType;
}

/** Options of `serializeSafetensors` / `writeSafetensors`. */
export interface SafetensorsWriteOptions {
  /** String metadata stored as `__metadata__`. */
  metadata?: Record<string, string>;
}

const BYTES: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

// The reference implementation refuses headers above 100 MB; so do we, so that a corrupt
// length field cannot make us allocate gigabytes.
const MAX_HEADER_BYTES = 100_000_000;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === "string" && Object.hasOwn(BYTES, s);
}

function makeArray(dtype: SafetensorsDType, buf: ArrayBuffer): SafetensorsArray {
  switch (dtype) {
    case "F64":
      return new Float64Array(buf);
    case "F32":
      return new Float32Array(buf);
    case "F16":
    case "BF16":
    case "U16":
      return new Uint16Array(buf);
    case "I64":
      return new BigInt64Array(buf);
    case "U64":
      return new BigUint64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "U32":
      return new Uint32Array(buf);
    case "I16":
      return new Int16Array(buf);
    case "I8":
      return new Int8Array(buf);
    case "U8":
    case "BOOL":
      return new Uint8Array(buf);
  }
}

function inferDType(data: SafetensorsArray, name: string): SafetensorsDType {
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Float32Array) return "F32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof BigUint64Array) return "U64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Uint32Array) return "U32";
  if (data instanceof Int16Array) return "I16";
  if (data instanceof Int8Array) return "I8";
  if (data instanceof Uint8Array) return "U8";
  throw new TypeError(`safetensors: tensor "${name}" is a Uint16Array; say dtype F16, BF16 or U16`);
}

function arrayMatches(dtype: SafetensorsDType, data: SafetensorsArray): boolean {
  if (data.BYTES_PER_ELEMENT !== BYTES[dtype]) return false;
  if (dtype === "F16" || dtype === "BF16" || dtype === "U16") return data instanceof Uint16Array;
  if (dtype === "BOOL") return data instanceof Uint8Array;
  return inferDType(data, "") === dtype;
}

/**
 * Converts IEEE half-precision bits to a float.
 *
 * @example
 * ```ts
 * import { halfToFloat } from "./safetensors.ts";
 * halfToFloat(0x3c00); // 1
 * ```
 */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Returns a tensor's elements as Float32Array (a copy, or the same array for F32), converting
 * F64, F16, BF16 and integer dtypes.
 *
 * @example
 * ```ts
 * import { tensorToFloat32 } from "./safetensors.ts";
 * tensorToFloat32({ dtype: "I32", shape: [2], data: new Int32Array([1, 2]) }); // Float32Array [1, 2]
 * ```
 */
export function tensorToFloat32(t: SafetensorsTensor): Float32Array {
  const src = t.data;
  if (src instanceof Float32Array) return src;
  const n = src.length;
  const out = new Float32Array(n);
  if (t.dtype === "F16") {
    const h = src as Uint16Array;
    for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
  } else if (t.dtype === "BF16") {
    const h = src as Uint16Array;
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
  } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(src[i]);
  } else {
    const a = src as Float64Array;
    for (let i = 0; i < n; i++) out[i] = a[i];
  }
  return out;
}

/**
 * Parses safetensors bytes. `path` only labels errors.
 *
 * @example
 * ```ts
 * import { parseSafetensors, serializeSafetensors } from "./safetensors.ts";
 * const bytes = serializeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
 * parseSafetensors(bytes).tensors.get("w")!.data; // Float32Array [1, 2]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, path = "<bytes>"): SafetensorsFile {
  if (bytes.length < 8) {
    throw new Error(`${path}: truncated safetensors file: ${bytes.length} bytes, need at least 8`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`${path}: corrupt safetensors header length ${headerLen} (limit ${MAX_HEADER_BYTES})`);
  }
  const n = Number(headerLen);
  if (8 + n > bytes.length) {
    throw new Error(
      `${path}: truncated safetensors header: it declares ${n} bytes but only ${bytes.length - 8} follow`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${path}: corrupt safetensors header: not UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(`${path}: corrupt safetensors header: expected a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] =
    [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new Error(`${path}: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw new Error(`${path}: __metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info === null || typeof info !== "object") {
      throw new Error(`${path}: tensor "${name}": header entry is not an object`);
    }
    if (!isDType(info.dtype)) {
      throw new Error(`${path}: tensor "${name}": unknown dtype ${String(info.dtype)}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${path}: tensor "${name}": shape must be an array of non-negative integers`);
    }
    const off = info.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 || !Number.isSafeInteger(off[0]) ||
      !Number.isSafeInteger(off[1]) || off[0] < 0 || off[1] < off[0]
    ) {
      throw new Error(`${path}: tensor "${name}": data_offsets must be [begin, end] with begin <= end`);
    }
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const want = count * BYTES[info.dtype];
    if (off[1] - off[0] !== want) {
      throw new Error(
        `${path}: tensor "${name}": shape [${shape}] of ${info.dtype} needs ${want} bytes but data_offsets span ${
          off[1] - off[0]
        }`,
      );
    }
    if (off[1] > dataLen) {
      throw new Error(
        `${path}: truncated safetensors data: tensor "${name}" ends at byte ${off[1]} of ${dataLen}`,
      );
    }
    entries.push({ name, dtype: info.dtype, shape: shape as number[], begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) {
      throw new Error(
        `${path}: corrupt safetensors header: tensor "${e.name}" starts at byte ${e.begin}, expected ${cursor} (overlap or gap)`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataLen) {
    throw new Error(`${path}: corrupt safetensors file: ${dataLen - cursor} bytes after the last tensor`);
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    // slice() copies into a fresh ArrayBuffer, which fixes the alignment typed arrays need.
    const buf = bytes.buffer.slice(
      bytes.byteOffset + dataStart + e.begin,
      bytes.byteOffset + dataStart + e.end,
    );
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: makeArray(e.dtype, buf as ArrayBuffer) });
  }
  return { tensors, metadata };
}

/** One tensor as the safetensors header describes it: its bytes follow the previous tensor's. */
export interface SafetensorsEntry {
  /** Tensor name (not "__metadata__"). */
  name: string;
  /** Element type. */
  dtype: SafetensorsDType;
  /** Extent of each axis. */
  shape: readonly number[];
  /** Bytes of its data. */
  nBytes: number;
}

/**
 * The 8-byte length and the JSON header (padded to 8 bytes) of a file whose tensors' data
 * follow in `entries` order; for writers that stream the data (decode/logits_file.ts).
 */
export function safetensorsHeader(
  entries: readonly SafetensorsEntry[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new TypeError(`safetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const e of entries) {
    if (e.name === "__metadata__") throw new Error(`safetensors: "__metadata__" is not a valid tensor name`);
    if (e.name in header) throw new Error(`safetensors: tensor "${e.name}" appears twice`);
    header[e.name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [offset, offset + e.nBytes] };
    offset += e.nBytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/**
 * Serialises tensors (and string metadata) to safetensors bytes.
 *
 * @example
 * ```ts
 * import { serializeSafetensors } from "./safetensors.ts";
 * const bytes = serializeSafetensors(
 *   { bias: { shape: [3], data: new Float32Array(3) } },
 *   { metadata: { format: "pt" } },
 * );
 * ```
 */
export function serializeSafetensors(
  tensors: Record<string, SafetensorsTensorInput> | Map<string, SafetensorsTensorInput>,
  options: SafetensorsWriteOptions = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const entries = list.map(([name, t]): SafetensorsEntry => {
    const dtype = t.dtype ?? inferDType(t.data, name);
    if (!arrayMatches(dtype, t.data)) {
      throw new TypeError(`safetensors: tensor "${name}": ${t.data.constructor.name} cannot hold ${dtype}`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(
        `safetensors: tensor "${name}": shape [${t.shape}] holds ${count} elements but data has ${t.data.length}`,
      );
    }
    return { name, dtype, shape: t.shape, nBytes: t.data.byteLength };
  });
  const head = safetensorsHeader(entries, options.metadata);
  const out = new Uint8Array(head.length + entries.reduce((a, e) => a + e.nBytes, 0));
  out.set(head);
  let at = head.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Reads a safetensors file.
 *
 * @example
 * ```ts
 * import { readSafetensors } from "./safetensors.ts";
 * const { tensors, metadata } = await readSafetensors("model.safetensors");
 * ```
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await Deno.readFile(path), path);
}

/**
 * Writes a safetensors file atomically (temporary file in the same folder, then rename), so a
 * reader never sees a half-written checkpoint.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./safetensors.ts";
 * await writeSafetensors("ckpt.safetensors", { w: { shape: [1], data: new Float32Array([0.5]) } }, {
 *   metadata: { step: "100" },
 * });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, SafetensorsTensorInput> | Map<string, SafetensorsTensorInput>,
  options: SafetensorsWriteOptions = {},
): Promise<void> {
  const bytes = serializeSafetensors(tensors, options);
  const tmp = `${path}.tmp-${Deno.pid}-${Date.now().toString(36)}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`${path}: could not write safetensors file (${(e as Error).message})`);
  }
}
