import assert from "node:assert/strict";
import { closedVocabularyDecode, ctcSequenceLogProb } from "../../decode/closed_vocabulary.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { DIGIT_WORDS } from "../../data/corpora/dev_sets.ts";
import { ctcLoss, logSoftmax, Rng, tensor } from "../../ops/mod.ts";
import { LexiconDecoder } from "../../models/lexicon_decoder.ts";

/** Logits [T, V] that spell `labels` with blanks between (5 on the chosen class, 0 elsewhere). */
function spell(labels: ArrayLike<number>, V: number, blank: number): Float32Array {
  const frames: number[] = [];
  for (let i = 0; i < labels.length; i++) frames.push(labels[i], labels[i], blank);
  const out = new Float32Array(frames.length * V);
  frames.forEach((l, t) => (out[t * V + l] = 5));
  return out;
}

Deno.test("ctcSequenceLogProb() equals minus ctcLoss (checked against PyTorch) on random logits, repeats included", async () => {
  const rng = new Rng(3);
  const T = 17, V = 6, blank = 5;
  const logits = Float32Array.from({ length: T * V }, () => 2 * rng.normal());
  for (const labels of [[0, 1, 2], [1, 1, 3], [4], [2, 2, 2, 2], []]) {
    const ours = ctcSequenceLogProb(logits, { nFrames: T, nClasses: V, labels, blankIndex: blank });
    const lp = logSoftmax(tensor(logits, [T, 1, V]), -1);
    const loss = ctcLoss(lp, labels.length ? labels : [blank], [T], [labels.length], {
      blank,
      reduction: "none",
    });
    const ref = -(await loss.data())[0];
    assert.ok(Math.abs(ours - ref) < 1e-4 * Math.max(1, Math.abs(ref)), `${labels}: ${ours} vs ${ref}`);
  }
});

Deno.test("ctcSequenceLogProb() is -Infinity when the frames cannot hold the labels", () => {
  const logits = new Float32Array(2 * 4);
  // "aa" needs a blank between the two a's: 3 frames at least.
  assert.equal(
    ctcSequenceLogProb(logits, { nFrames: 2, nClasses: 4, labels: [0, 0], blankIndex: 3 }),
    -Infinity,
  );
  assert.ok(
    ctcSequenceLogProb(logits, { nFrames: 2, nClasses: 4, labels: [0, 1], blankIndex: 3 }) > -Infinity,
  );
  assert.throws(
    () => ctcSequenceLogProb(logits, { nFrames: 3, nClasses: 4, labels: [0], blankIndex: 3 }),
    /8 logits, 3 frames × 4 classes need 12/,
  );
});

Deno.test("closedVocabularyDecode() and LexiconDecoder choose the digit word the logits spell, even misspelt", async () => {
  const vocab = Vocabulary.english();
  const candidates = DIGIT_WORDS.map((text) => ({ text, labels: vocab.encode(text) }));
  for (const word of ["seven", "zero", "eight"]) {
    const logits = spell(vocab.encode(word), vocab.size, vocab.blankIndex);
    const r = closedVocabularyDecode(logits, {
      nFrames: logits.length / vocab.size,
      nClasses: vocab.size,
      blankIndex: vocab.blankIndex,
      candidates,
    });
    assert.equal(r.text, word);
  }
  // "sevn" is no digit word; the closest in CTC probability is "seven", which greedy would not output.
  const misspelt = spell(vocab.encode("sevn"), vocab.size, vocab.blankIndex);
  const decoder = new LexiconDecoder(DIGIT_WORDS, vocab, { frameStepS: 0.02 });
  const [t] = await decoder.decode([{ logits: misspelt, nFrames: misspelt.length / vocab.size }]);
  assert.equal(t.text, "seven");
  assert.throws(() => new LexiconDecoder([], vocab, { frameStepS: 0.02 }), /lexicon is empty/);
});
