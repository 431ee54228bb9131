import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32, FeatureCache, hashConfig } from "../../../data/pipeline/feature_cache.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

function setup(): {
  dir: string;
  audio: string;
  feats: { data: Float32Array; nFeatures: number; nFrames: number };
} {
  const dir = makeTestTempDir("feature_cache_test_");
  const audio = join(dir, "a.wav");
  Deno.writeFileSync(audio, new Uint8Array(100).fill(1));
  const data = Float32Array.from({ length: 6 * 7 }, (_, i) => Math.sin(i) * 1e3);
  return { dir, audio, feats: { data, nFeatures: 6, nFrames: 7 } };
}

Deno.test("crc32() matches zlib's value for the standard check string", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

Deno.test("hashConfig() ignores key order and sees every value", () => {
  assert.equal(hashConfig({ a: 1, b: { c: [1, 2] } }), hashConfig({ b: { c: [1, 2] }, a: 1 }));
  assert.notEqual(hashConfig({ a: 1 }), hashConfig({ a: 2 }));
});

Deno.test("FeatureCache misses, then hits with bit-identical features", () => {
  const { dir, audio, feats } = setup();
  const cache = new FeatureCache(join(dir, "cache"), hashConfig({ nMels: 6 }));
  assert.equal(cache.get(audio), null);
  cache.put(audio, feats);
  const got = cache.get(audio)!;
  assert.deepEqual(got, feats);
  assert.deepEqual([cache.hits, cache.misses, cache.corrupt], [1, 1, 0]);
});

Deno.test("FeatureCache misses after the audio file or the feature config changes", () => {
  const { dir, audio, feats } = setup();
  const cache = new FeatureCache(join(dir, "cache"), hashConfig({ nMels: 6 }));
  cache.put(audio, feats);
  assert.equal(new FeatureCache(join(dir, "cache"), hashConfig({ nMels: 7 })).get(audio), null);
  Deno.writeFileSync(audio, new Uint8Array(101).fill(1)); // size changes
  assert.equal(cache.get(audio), null);
});

Deno.test("FeatureCache detects flipped bits and truncation, deletes the entry and reports a miss", () => {
  const { dir, audio, feats } = setup();
  const cache = new FeatureCache(join(dir, "cache"), "cfg");
  for (const damage of ["flip", "truncate", "header"] as const) {
    cache.put(audio, feats);
    const path = cache.entryPath(cache.keyOf(audio));
    const bytes = Deno.readFileSync(path);
    if (damage === "flip") bytes[bytes.length - 3] ^= 0x10;
    if (damage === "header") bytes[1] ^= 0xff;
    Deno.writeFileSync(path, damage === "truncate" ? bytes.subarray(0, bytes.length - 4) : bytes);
    assert.equal(cache.get(audio), null, damage);
    assert.throws(
      () => Deno.statSync(path),
      Deno.errors.NotFound,
      `${damage}: corrupt entry was not removed`,
    );
  }
  assert.equal(cache.corrupt, 3);
  cache.put(audio, feats);
  assert.deepEqual(cache.get(audio), feats);
});
