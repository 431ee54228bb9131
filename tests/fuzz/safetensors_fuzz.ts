/**
 * Fuzz targets: safetensors. `checkpoint` reads mutants of a real checkpoint (saveCheckpoint of
 * a small layer: its header JSON, deno_ctc metadata and checksum), and of the same file without
 * the checksum (as written before checksums existed, so mutants reach the metadata checks),
 * through `loadCheckpoint`;
 * `safetensors` parses mutants of a file with one tensor of each dtype through
 * `parseSafetensors`. The 8-byte header length is the targeted field of both.
 */
import { parseSafetensors, serializeSafetensors } from "../../formats/safetensors.ts";
import { CHECKSUM_KEY, loadCheckpoint, saveCheckpoint } from "../../models/checkpoint.ts";
import { Linear } from "../../models/layers.ts";
import { Rng } from "../../ops/random.ts";
import type { FieldSpec, FuzzSeed, FuzzTarget } from "./mutate.ts";

const HEADER_LENGTH: FieldSpec[] = [
  { offset: 0, nBytes: 8 },
  { offset: 0, nBytes: 4 },
  { offset: 4, nBytes: 4 },
];

/**
 * A seed whose mutants are edits of the header JSON, one field a line (shapes, offsets, dtypes,
 * metadata), re-assembled with a correct length prefix and the original tensor bytes, so they
 * reach the checks behind the JSON parse.
 */
function headerTextSeed(bytes: Uint8Array): FuzzSeed {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const data = bytes.slice(8 + n);
  return {
    bytes: new TextEncoder().encode(JSON.stringify(header, null, 1)),
    isText: true,
    encode(json) {
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return out;
    },
  };
}

/** Checkpoints as the trainer writes them, through loadCheckpoint. */
export async function checkpointTarget(): Promise<FuzzTarget> {
  const dir = await Deno.makeTempDir({ prefix: "fuzz_ckpt_seed_" });
  let bytes: Uint8Array;
  try {
    const model = new Linear(6, 4, { rng: new Rng(1) });
    const path = await saveCheckpoint(dir, model, null, {
      config: { name: "fuzz" },
      vocabulary: ["a", "b", "c"],
      blankIndex: 3,
      step: 7,
      epoch: 0,
      rngState: new Rng(2).state(),
      dataRngState: new Rng(3).state(),
      batchInEpoch: 7,
    });
    bytes = await Deno.readFile(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const file = parseSafetensors(bytes);
  const { [CHECKSUM_KEY]: _digest, ...unchecked } = file.metadata;
  const old = serializeSafetensors(file.tensors, { metadata: unchecked });
  return {
    format: "safetensors checkpoint",
    seeds: [{ bytes, fields: HEADER_LENGTH }, { bytes: old, fields: HEADER_LENGTH }, headerTextSeed(old)],
    needsFile: true,
    suffix: ".safetensors",
    read: (_bytes, label) => loadCheckpoint(label),
  };
}

/** Plain safetensors with every dtype, through parseSafetensors. */
export function safetensorsTarget(): FuzzTarget {
  const bytes = serializeSafetensors({
    f64: { shape: [2], data: new Float64Array([1, -2]) },
    f32: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    f16: { shape: [3], data: new Uint16Array([0x3c00, 0, 0x7bff]), dtype: "F16" },
    bf16: { shape: [1], data: new Uint16Array([0x3f80]), dtype: "BF16" },
    i64: { shape: [1], data: new BigInt64Array([-5n]) },
    i32: { shape: [2], data: new Int32Array([7, -7]) },
    u8: { shape: [4], data: new Uint8Array([1, 2, 3, 4]) },
    bool: { shape: [2], data: new Uint8Array([0, 1]), dtype: "BOOL" },
    scalar: { shape: [], data: new Float32Array([0.5]) },
    empty: { shape: [0, 3], data: new Float32Array(0) },
  }, { metadata: { format: "pt" } });
  return {
    format: "safetensors",
    seeds: [{ bytes, fields: HEADER_LENGTH }, headerTextSeed(bytes)],
    read: (b, label) => parseSafetensors(b, label),
  };
}
