/**
 * Headers that claim far more than the file holds (2^32 samples, a 100 GB tensor, 2^32
 * n-grams) are refused by the check that compares the claim with the bytes present, which
 * runs before anything is allocated from the claim: each test asserts that check's own message
 * (not an allocation failure) and that it comes back at once.
 */
import assert from "node:assert/strict";
import { decodeFlac } from "../../data/audio/flac.ts";
import { decodeWav, encodeWav } from "../../data/audio/wav.ts";
import { readAudioHeader } from "../../data/audio/audio_duration.ts";
import { parseArpa } from "../../decode/arpa.ts";
import { readLmBinary } from "../../decode/lm_binary.ts";
import { HEADER, lmChecksum, NGramLM } from "../../decode/ngram_lm.ts";
import { parseSafetensors } from "../../formats/safetensors.ts";

function quickly<T>(fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    assert.ok(performance.now() - t0 < 1000, "the claim was refused within 1 s");
  }
}

Deno.test("a WAV whose data chunk claims 2^32 - 2 bytes (over 2^31 samples) is refused by name", async () => {
  const bytes = encodeWav(new Float32Array(100), 16000);
  new DataView(bytes.buffer).setUint32(40, 0xfffffffe, true);
  assert.throws(
    () => quickly(() => decodeWav(bytes, "claims.wav")),
    /^Error: claims\.wav: truncated WAV, data chunk declares 4294967294 bytes but only 200 remain$/,
  );
  // The header reader believes the bytes, not the claim.
  const dir = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    Deno.writeFileSync(`${dir}/claims.wav`, bytes);
    assert.equal(readAudioHeader(`${dir}/claims.wav`).nSamples, 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a FLAC whose STREAMINFO claims 2^32 samples is refused by name", () => {
  const bytes = Deno.readFileSync(new URL("../fixtures/audio/mono16_c5.flac", import.meta.url));
  bytes[21] = (bytes[21] & 0xf0) | 1; // total samples = 1 * 2^32 + low 32 bits
  new DataView(bytes.buffer).setUint32(22, 0);
  assert.throws(
    () => quickly(() => decodeFlac(bytes, "claims.flac")),
    /^Error: claims\.flac: FLAC STREAMINFO declares 4294967296 samples but/,
  );
});

Deno.test("a safetensors header with a 100 GB tensor is refused by name", () => {
  const header = JSON.stringify({
    w: { dtype: "F32", shape: [25_000_000_000], data_offsets: [0, 100_000_000_000] },
  });
  const json = new TextEncoder().encode(header.padEnd(Math.ceil(header.length / 8) * 8, " "));
  const bytes = new Uint8Array(8 + json.length + 16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  assert.throws(
    () => quickly(() => parseSafetensors(bytes, "claims.safetensors")),
    /^Error: claims\.safetensors: truncated safetensors data: tensor "w" ends at byte 100000000000 of 16$/,
  );
});

Deno.test("an ARPA file declaring 2^32 unigrams is refused by file and line", () => {
  assert.throws(
    () =>
      quickly(() => parseArpa("\\data\\\nngram 1=4294967296\n\n\\1-grams:\n-1 a\n\\end\\\n", "claims.arpa")),
    /^Error: claims\.arpa:2: ngram 1=4294967296 exceeds the 4294967295 n-grams an order may hold$/,
  );
});

Deno.test("an LM binary whose (checksummed) header claims 2^32 - 1 bigrams is refused by name", async () => {
  const text = Deno.readTextFileSync(new URL("../fixtures/lm/tiny.arpa", import.meta.url));
  const bytes = new Uint8Array(NGramLM.fromArpa(parseArpa(text, "tiny.arpa")).buffer).slice();
  const u32 = new Uint32Array(bytes.buffer);
  u32[HEADER.fixedWords + HEADER.perOrder] = 0xffffffff;
  u32[HEADER.checksum] = lmChecksum(bytes.buffer, bytes.length);
  const dir = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    Deno.writeFileSync(`${dir}/claims.bin`, bytes);
    await assert.rejects(readLmBinary(`${dir}/claims.bin`), /claims\.bin: corrupt LM binary layout: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
