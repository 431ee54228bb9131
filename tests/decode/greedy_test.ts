import assert from "node:assert/strict";
import { ctcGreedyDecode } from "../../decode/greedy.ts";
import { OS2S_VOCAB, spellLogits } from "./decode_test_helpers.ts";

/** One-hot-ish logits from a list of per-frame labels. */
function framesOf(labels: number[], V: number): Float32Array {
  const out = new Float32Array(labels.length * V);
  labels.forEach((l, t) => (out[t * V + l] = 5));
  return out;
}

Deno.test("ctcGreedyDecode() merges repeats and drops blanks, keeping doubles split by a blank", () => {
  // labels a=0, b=1, blank=2: a a _ a b b _ _ b → "aabb"
  const data = framesOf([0, 0, 2, 0, 1, 1, 2, 2, 1], 3);
  const r = ctcGreedyDecode(data, { nFrames: 9, vocabulary: ["a", "b"] });
  assert.equal(r.text, "aabb");
  assert.deepEqual([...r.labels], [0, 0, 1, 1]);
  assert.deepEqual([...r.frames], [0, 3, 4, 8]);
});

Deno.test("ctcGreedyDecode() honours a blank index that is not last", () => {
  // blank=0, a=1, b=2
  const data = framesOf([1, 0, 1, 2, 2, 0], 3);
  const r = ctcGreedyDecode({ data, T: 6, V: 3 }, { blankIndex: 0, vocabulary: ["a", "b"] });
  assert.equal(r.text, "aab");
  // A V-entry vocabulary is indexed by label directly.
  assert.equal(
    ctcGreedyDecode({ data, T: 6, V: 3 }, { blankIndex: 0, vocabulary: ["_", "x", "y"] }).text,
    "xxy",
  );
});

Deno.test("ctcGreedyDecode() spells noisy synthetic logits of a sentence", () => {
  const { data, T, V } = spellLogits("it's a fine day", { noise: 2 });
  assert.equal(ctcGreedyDecode({ data, T, V }, { vocabulary: OS2S_VOCAB }).text, "it's a fine day");
});

Deno.test("ctcGreedyDecode() rejects sizes that disagree", () => {
  assert.throws(() => ctcGreedyDecode(new Float32Array(7), { nFrames: 2 }), /do not split into 2 frames/);
  assert.throws(() => ctcGreedyDecode(new Float32Array(6), {}), /needs nFrames/);
  assert.throws(() => ctcGreedyDecode(new Float32Array(6), { nFrames: 2, blankIndex: 3 }), /blank index 3/);
  assert.equal(ctcGreedyDecode(new Float32Array(0), { nFrames: 0 }).text, "");
});
