/**
 * An on-disk cache of computed features, so later epochs (and later runs) skip decoding and the
 * STFT. An entry is keyed by the audio file's absolute path, size and modification time plus a
 * hash of the feature configuration, so an edited file or a changed config never hits a stale
 * entry. Each entry file carries a magic number, its own key, the shape and a CRC-32 of the
 * payload; a truncated or corrupt entry is detected, deleted and reported as a miss, and the
 * caller recomputes. Writes go to a temporary name and are renamed, so concurrent Workers and
 * killed runs never leave half-written entries that read as valid.
 *
 * Only deterministic features belong here: waveform augmentation (speed, noise) must bypass the
 * cache, and SpecAugment masks are applied after it. No eviction: delete the folder to reclaim space.
 *
 * Entry layout (little-endian): "DCFC" | u32 version=1 | u32 nFeatures | u32 nFrames |
 * u32 crc32(payload) | 64-byte ASCII key | f32 payload [nFeatures, nFrames].
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";

const MAGIC = 0x43464344; // "DCFC" read as little-endian u32
const HEADER = 20 + 64;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** JSON with sorted object keys, so equal configs hash equally whatever their key order. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${
      Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/**
 * SHA-256 (hex) of a configuration object, independent of key order.
 *
 * @example
 * ```ts
 * hashConfig({ a: 1, b: 2 }) === hashConfig({ b: 2, a: 1 }); // true
 * ```
 */
export function hashConfig(config: unknown): string {
  return createHash("sha256").update(stableJson(config)).digest("hex");
}

/** Cached features of one utterance: [nFeatures, nFrames] row-major. */
export interface CachedFeatures {
  /** [nFeatures, nFrames] row-major. */
  data: Float32Array;
  /** Rows: features per frame. */
  nFeatures: number;
  /** Columns: frames. */
  nFrames: number;
}

/**
 * A folder of cached feature arrays.
 *
 * @example
 * ```ts
 * const cache = new FeatureCache("work/cache", hashConfig(featureConfig));
 * const hit = cache.get("a.wav") ?? compute();
 * ```
 */
export class FeatureCache {
  /** Entries found and valid. */
  hits = 0;
  /** Entries absent. */
  misses = 0;
  /** Entries found corrupt (deleted, counted as misses too). */
  corrupt = 0;
  /** The cache folder. */
  readonly dir: string;
  /** Hash of the feature configuration (hashConfig), part of every key. */
  readonly configHash: string;

  /** A cache in `dir` for features made with the configuration whose hash is `configHash`. */
  constructor(dir: string, configHash: string) {
    this.dir = dir;
    this.configHash = configHash;
  }

  /** The key of an audio file under this config (stats the file). */
  keyOf(audioPath: string): string {
    const abs = resolve(audioPath);
    const st = Deno.statSync(abs);
    return createHash("sha256")
      .update(`${abs}\0${st.size}\0${st.mtime?.getTime() ?? 0}\0${this.configHash}`)
      .digest("hex");
  }

  /** Path of the entry file for a key. */
  entryPath(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.feat`);
  }

  /** The cached features, or null on a miss (a corrupt entry is deleted and is a miss). */
  get(audioPath: string): CachedFeatures | null {
    const key = this.keyOf(audioPath);
    const path = this.entryPath(key);
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch {
      this.misses++;
      return null;
    }
    const parsed = parseEntry(bytes, key);
    if (parsed === null) {
      this.corrupt++;
      this.misses++;
      try {
        Deno.removeSync(path);
      } catch { /* another Worker removed it first */ }
      return null;
    }
    this.hits++;
    return parsed;
  }

  /** Stores features for an audio file (atomically). */
  put(audioPath: string, features: CachedFeatures): void {
    const key = this.keyOf(audioPath);
    const path = this.entryPath(key);
    const { data, nFeatures, nFrames } = features;
    if (data.length !== nFeatures * nFrames) {
      throw new RangeError(
        `data/feature_cache.ts: ${audioPath}: ${data.length} values is not ${nFeatures} x ${nFrames}`,
      );
    }
    const out = new Uint8Array(HEADER + data.length * 4);
    const dv = new DataView(out.buffer);
    const payload = out.subarray(HEADER);
    // Explicit little-endian writes keep the file portable across hosts.
    for (let i = 0; i < data.length; i++) dv.setFloat32(HEADER + i * 4, data[i], true);
    dv.setUint32(0, MAGIC, true);
    dv.setUint32(4, 1, true);
    dv.setUint32(8, nFeatures, true);
    dv.setUint32(12, nFrames, true);
    dv.setUint32(16, crc32(payload), true);
    for (let i = 0; i < 64; i++) out[20 + i] = key.charCodeAt(i);
    Deno.mkdirSync(join(this.dir, key.slice(0, 2)), { recursive: true });
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    Deno.writeFileSync(tmp, out);
    Deno.renameSync(tmp, path);
  }
}

function parseEntry(bytes: Uint8Array, key: string): CachedFeatures | null {
  if (bytes.length < HEADER) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (dv.getUint32(0, true) !== MAGIC || dv.getUint32(4, true) !== 1) return null;
  const nFeatures = dv.getUint32(8, true);
  const nFrames = dv.getUint32(12, true);
  if (bytes.length !== HEADER + nFeatures * nFrames * 4) return null;
  for (let i = 0; i < 64; i++) if (bytes[20 + i] !== key.charCodeAt(i)) return null;
  const payload = bytes.subarray(HEADER);
  if (crc32(payload) !== dv.getUint32(16, true)) return null;
  const data = new Float32Array(nFeatures * nFrames);
  for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(HEADER + i * 4, true);
  return { data, nFeatures, nFrames };
}
