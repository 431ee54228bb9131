/**
 * TranscriptDecoder: greedy decoding with word times, and beam search with and without an
 * n-gram LM (in this thread and on a Worker), on hand-made logits over the English vocabulary.
 */
import assert from "node:assert/strict";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { describeDecoder, TranscriptDecoder } from "../../models/transcript_decoder.ts";

const vocab = Vocabulary.english();
const V = vocab.size;

/** One frame per entry: a character (peak 8), "_" for blank, or {a: pa, b: pb} probabilities. */
function logits(frames: (string | Record<string, number>)[]): { logits: Float32Array; nFrames: number } {
  const data = new Float32Array(frames.length * V);
  frames.forEach((f, t) => {
    const row = data.subarray(t * V, (t + 1) * V);
    if (typeof f === "string") {
      row[f === "_" ? vocab.blankIndex : vocab.chars.indexOf(f)] = 8;
    } else {
      row.fill(-20);
      for (const [c, p] of Object.entries(f)) {
        row[c === "_" ? vocab.blankIndex : vocab.chars.indexOf(c)] = Math.log(p);
      }
    }
  });
  return { logits: data, nFrames: frames.length };
}

// "the ca?" with the last letter 55 % p, 45 % t: greedy reads "cap".
const frames = [..."_th_e_ _c_a_", { p: 0.55, t: 0.45 }, "_"];

const arpa = `\\data\\
ngram 1=6

\\1-grams:
-1.0\t<s>
-1.0\t</s>
-0.5\tthe
-0.6\tcat
-4.0\tcap
-5.0\t<unk>

\\end\\
`;

Deno.test("greedy decoding gives the text and each word's span from its first to its last character frame", async () => {
  using dec = await TranscriptDecoder.create({ kind: "greedy" }, vocab, { frameStepS: 0.02 });
  assert.equal(dec.kind, "greedy");
  const [r] = await dec.decode([logits(frames)]);
  assert.equal(r.text, "the cap");
  assert.deepEqual(r.words.map((w) => w.word), ["the", "cap"]);
  // "the": t at frame 1, e at frame 4 → [0.02, 0.10); "cap": c at 8, p at 12 → [0.16, 0.26).
  assert.ok(Math.abs(r.words[0].startS - 0.02) < 1e-9 && Math.abs(r.words[0].endS - 0.1) < 1e-9);
  assert.ok(Math.abs(r.words[1].startS - 0.16) < 1e-9 && Math.abs(r.words[1].endS - 0.26) < 1e-9);
});

Deno.test("beam search without an LM agrees with greedy on confident frames", async () => {
  using dec = await TranscriptDecoder.create({ kind: "beam", beamWidth: 16 }, vocab, {
    frameStepS: 0.02,
    workers: 0,
  });
  assert.equal(dec.kind, "beam");
  const [r] = await dec.decode([logits(frames)]);
  assert.equal(r.text, "the cap");
  assert.deepEqual(r.words.map((w) => w.word), ["the", "cap"]);
});

Deno.test("beam search with an LM picks the likelier word, on a Worker as in this thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "transcript_decoder_test_" });
  try {
    const lm = `${dir}/lm.arpa`;
    await Deno.writeTextFile(lm, arpa);
    const config = { kind: "beam" as const, beamWidth: 16, alpha: 1, beta: 0, lm };
    assert.equal(describeDecoder(config), `beam 16 + LM ${lm} (alpha 1, beta 0)`);
    for (const workers of [0, 1]) {
      using dec = await TranscriptDecoder.create(config, vocab, { frameStepS: 0.02, workers });
      const [r, again] = await dec.decode([logits(frames), logits([..."_c_a_t_"])]);
      assert.equal(r.text, "the cat", `workers ${workers}`);
      assert.equal(again.text, "cat");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown decoder kind and a missing LM file are errors that name them", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => TranscriptDecoder.create({ kind: "viterbi" as any }, vocab, { frameStepS: 0.02 }),
    { message: /"viterbi"/ },
  );
  await assert.rejects(
    () => TranscriptDecoder.create({ kind: "beam", lm: "/nonexistent/lm.arpa" }, vocab, { frameStepS: 0.02 }),
    /nonexistent\/lm\.arpa/,
  );
});
