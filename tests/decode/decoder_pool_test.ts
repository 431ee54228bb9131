import assert from "node:assert/strict";
import { loadArpa } from "../../decode/arpa.ts";
import { CtcBeamSearchDecoder } from "../../decode/beam_search.ts";
import type { CtcLogits } from "../../decode/ctc_logits.ts";
import { DecoderPool } from "../../decode/decoder_pool.ts";
import { OS2S_VOCAB, randomLogits, seededRandom, spellLogits } from "./decode_test_helpers.ts";

const arpaPath = new URL("../fixtures/decode/tiny_bigram.arpa", import.meta.url).pathname;

function batch(): CtcLogits[] {
  const rand = seededRandom(17);
  const out: CtcLogits[] = [];
  const sentences = ["i read books", "i red books", "read a red books", "books", "a red"];
  for (let k = 0; k < 12; k++) {
    if (k % 3 === 2) out.push({ data: randomLogits(30 + k, 29, 3, rand), T: 30 + k, V: 29 });
    else out.push(spellLogits(sentences[k % sentences.length], { noise: 4, seed: k, peak: 5 }));
  }
  return out;
}

Deno.test("DecoderPool results with 3 Workers and a shared LM equal serial decoding exactly", async () => {
  const lm = await loadArpa(arpaPath);
  const options = { vocabulary: OS2S_VOCAB, beamWidth: 24, alpha: 1.2, beta: 0.5, nBest: 4 };
  const inputs = batch();
  const serial = new CtcBeamSearchDecoder({ ...options, lm });
  const want = inputs.map((u) => serial.decode(u));
  const pool = await DecoderPool.create({ ...options, lm, workers: 3 });
  try {
    assert.equal(pool.size, 3);
    let calls = 0;
    const got = await pool.decodeBatch(inputs, { onProgress: () => calls++ });
    assert.deepEqual(got, want);
    assert.equal(calls, inputs.length);
    assert.equal(want[0][0].text, "i read books");
    // Per-batch weights reach the Workers: alpha 0 gives the serial alpha-0 answer.
    serial.alpha = 0;
    const want0 = inputs.map((u) => serial.decode(u));
    assert.deepEqual(await pool.decodeBatch(inputs, { alpha: 0 }), want0);
  } finally {
    pool.close();
  }
});

Deno.test("DecoderPool with workers 0 decodes in this thread with the same results", async () => {
  const inputs = batch();
  const options = { vocabulary: OS2S_VOCAB, beamWidth: 8 };
  const pool = await DecoderPool.create({ ...options, workers: 0 });
  const serial = new CtcBeamSearchDecoder(options);
  assert.equal(pool.size, 0);
  assert.deepEqual(await pool.decodeBatch(inputs), inputs.map((u) => serial.decode(u)));
  pool.close();
  await assert.rejects(() => pool.decodeBatch(inputs), /pool is closed/);
});

Deno.test("DecoderPool reports a Worker's decoding error with its message", async () => {
  const pool = await DecoderPool.create({ vocabulary: OS2S_VOCAB, workers: 1 });
  try {
    await assert.rejects(
      () => pool.decodeBatch([{ data: new Float32Array(10), T: 2, V: 5 }]),
      /vocabulary has 28 entries/,
    );
  } finally {
    pool.close();
  }
});
