import assert from "node:assert/strict";
import {
  halfToFloat,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  tensorToFloat32,
  writeSafetensors,
} from "../../formats/safetensors.ts";

const fixtureDir = new URL("../fixtures/data/", import.meta.url);

Deno.test("readSafetensors() reads every dtype the official Python writer produced", async () => {
  const path = new URL("safetensors_reference.safetensors", fixtureDir).pathname;
  const ref = JSON.parse(
    await Deno.readTextFile(new URL("safetensors_reference.json", fixtureDir)),
  ) as {
    metadata: Record<string, string>;
    tensors: Record<string, { shape: number[]; values: number[] }>;
  };
  const file = await readSafetensors(path);
  assert.deepEqual(file.metadata, ref.metadata);
  assert.deepEqual([...file.tensors.keys()].sort(), Object.keys(ref.tensors).sort());
  for (const [name, want] of Object.entries(ref.tensors)) {
    const t = file.tensors.get(name)!;
    assert.deepEqual(t.shape, want.shape, name);
    if (name === "i64") {
      assert.deepEqual([...(t.data as BigInt64Array)].map(Number), want.values);
      continue;
    }
    const got = tensorToFloat32(t);
    assert.equal(got.length, want.values.length, name);
    for (let i = 0; i < got.length; i++) {
      // The reference values are the exact stored numbers; float32 rounding is the only error.
      assert.ok(
        Math.abs(got[i] - want.values[i]) <= 1e-6 * Math.max(1, Math.abs(want.values[i])),
        `${name}[${i}]: ${got[i]} vs ${want.values[i]}`,
      );
    }
  }
  assert.equal(file.tensors.get("f64")!.data.constructor, Float64Array);
  assert.equal(file.tensors.get("f16")!.dtype, "F16");
});

Deno.test("writeSafetensors() then readSafetensors() round-trips tensors and metadata exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/x.safetensors`;
    const w = new Float32Array([0.1, -2, 3.5, 1e-30, 7, 8]);
    const b = new Float64Array([Math.PI]);
    const idx = new BigInt64Array([1n, -(2n ** 60n)]);
    const h = new Uint16Array([0x3c00, 0xc000]);
    await writeSafetensors(path, {
      "layer.weight": { shape: [2, 3], data: w },
      "layer.bias": { shape: [1], data: b },
      ids: { shape: [2], data: idx },
      half: { shape: [2], data: h, dtype: "F16" },
    }, { metadata: { config: '{"a":1}', vocab: "[]" } });
    const back = await readSafetensors(path);
    assert.deepEqual(back.metadata, { config: '{"a":1}', vocab: "[]" });
    assert.deepEqual(back.tensors.get("layer.weight")!.data, w);
    assert.deepEqual(back.tensors.get("layer.weight")!.shape, [2, 3]);
    assert.deepEqual(back.tensors.get("layer.bias")!.data, b);
    assert.deepEqual(back.tensors.get("ids")!.data, idx);
    assert.deepEqual([...tensorToFloat32(back.tensors.get("half")!)], [1, -2]);
    // The header length is a multiple of 8, and no temporary file is left behind.
    const bytes = await Deno.readFile(path);
    assert.equal(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8, 0);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["x.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSafetensors() names the file when the header or data is truncated or corrupt", () => {
  const good = serializeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
  assert.throws(() => parseSafetensors(good.subarray(0, 5), "m.safetensors"), /m\.safetensors: truncated/);
  assert.throws(
    () => parseSafetensors(good.subarray(0, 20), "m.safetensors"),
    /m\.safetensors: truncated.*header/,
  );
  assert.throws(
    () => parseSafetensors(good.subarray(0, good.length - 4), "m.safetensors"),
    /m\.safetensors: truncated safetensors data/,
  );
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(
    () => parseSafetensors(huge, "m.safetensors"),
    /m\.safetensors: corrupt safetensors header length/,
  );
  const garbled = good.slice();
  garbled[9] = 0x7b; // '{' inside the JSON: no longer parses
  garbled[10] = 0x7b;
  assert.throws(
    () => parseSafetensors(garbled, "m.safetensors"),
    /m\.safetensors: corrupt safetensors header/,
  );
  const extra = new Uint8Array(good.length + 4);
  extra.set(good);
  assert.throws(() => parseSafetensors(extra, "m.safetensors"), /bytes after the last tensor/);
});

Deno.test("parseSafetensors() rejects a shape that disagrees with the byte range", () => {
  const header = new TextEncoder().encode(
    JSON.stringify({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }),
  );
  const bytes = new Uint8Array(8 + header.length + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  assert.throws(
    () => parseSafetensors(bytes, "bad.safetensors"),
    /bad\.safetensors: tensor "a": shape \[3\]/,
  );
});

Deno.test("serializeSafetensors() refuses a shape that does not match the element count", () => {
  assert.throws(
    () => serializeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } }),
    /holds 4 elements but data has 3/,
  );
  assert.throws(() => serializeSafetensors({ a: { shape: [1], data: new Uint16Array(1) } }), /say dtype F16/);
});

Deno.test("halfToFloat() decodes normals, subnormals, infinities and NaN", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});
