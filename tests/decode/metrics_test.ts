import assert from "node:assert/strict";
import { charErrorRate, editOps, splitWords, wordErrorRate } from "../../decode/metrics.ts";

const w = (s: string): string[] => s.split(" ");

Deno.test("editOps() reproduces OpenSeq2Seq's levenshtein unit test", () => {
  // open_seq2seq/models/speech2text_test.py: test_levenshtein
  const cases: [string, string, number][] = [
    ["this is a great day", "this is great day", 1],
    ["this is a great day", "this great day", 2],
    ["this is a great day", "this day is a great", 2],
    ["this is a great day", "this day is great", 3],
    ["london is the capital of great britain", "london capital gret britain", 4],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(editOps(w(a), w(b)).distance, want, `${a} | ${b}`);
    assert.equal(editOps(w(b), w(a)).distance, want, `${b} | ${a}`);
  }
  const a = "london is the capital of great britain";
  const b = "london capital gret britain";
  assert.equal(editOps(a, b).distance, 11);
  assert.equal(editOps(b, a).distance, 11);
});

Deno.test("wordErrorRate() gives Eval WER 37/40 on OpenSeq2Seq's fixed sample", () => {
  // open_seq2seq/models/speech2text_test.py: test_maybe_functions (references are "inputs").
  const refs = [
    "this is a great day",
    "london is the capital of great britain",
    "ooo",
    "lll",
    "a b c' asdf",
    "blah blah bblah",
    "this is great day",
    "london capital gret britain",
    "aaaaaaaasdfdasdf",
    "df d sdf asd fd f sdf df blah' blah",
  ];
  const hyps = [
    "this is great a day",
    "london capital gret britain",
    "ooo",
    "lll",
    "aaaaaaaasdfdasdf",
    "df d sdf asd fd f sdf df blah blah",
    "this is a great day",
    "london is the capital of great britain",
    "a b c' asdf",
    "blah blah' bblah",
  ];
  const r = wordErrorRate(refs, hyps);
  assert.equal(r.errors, 37);
  assert.equal(r.referenceLength, 40);
  assert.equal(r.rate, 37 / 40);
  // maybe_print_logs reports the first sample alone: 2 errors over 5 words.
  assert.equal(wordErrorRate(refs.slice(0, 1), hyps.slice(0, 1)).rate, 0.4);
});

Deno.test("editOps() splits the distance into substitutions, deletions and insertions", () => {
  const e = editOps(w("the cat sat on the mat"), w("the bat sat the mat today"));
  // cat→bat (S), "on" missing (D), "today" extra (I)
  assert.deepEqual(e, { distance: 3, substitutions: 1, deletions: 1, insertions: 1, referenceLength: 6 });
  const empty = editOps([], w("a b"));
  assert.deepEqual(empty, { distance: 2, substitutions: 0, deletions: 0, insertions: 2, referenceLength: 0 });
  const gone = editOps(w("a b c"), []);
  assert.equal(gone.deletions, 3);
});

Deno.test("editOps() parts always sum to the distance on random sequences", () => {
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let k = 0; k < 300; k++) {
    const a = Array.from({ length: Math.floor(rand() * 9) }, () => Math.floor(rand() * 4));
    const b = Array.from({ length: Math.floor(rand() * 9) }, () => Math.floor(rand() * 4));
    const e = editOps(a, b);
    assert.equal(e.substitutions + e.deletions + e.insertions, e.distance);
    assert.equal(e.deletions - e.insertions, a.length - b.length);
  }
});

Deno.test("wordErrorRate() is corpus-level, not a mean of per-utterance rates", () => {
  const r = wordErrorRate(["a", "b c d e f g h i j k"], ["x", "b c d e f g h i j k"]);
  assert.equal(r.rate, 1 / 11); // the mean of rates would be 0.5
  assert.equal(r.perUtterance.length, 2);
  assert.equal(r.perUtterance[0].substitutions, 1);
  assert.throws(() => wordErrorRate(["a"], []), /decode\/metrics\.ts: wordErrorRate needs one hypothesis/);
});

Deno.test("charErrorRate() counts spaces as characters and collapses runs of whitespace", () => {
  const r = charErrorRate(["ab cd"], ["ab  ce "]);
  assert.equal(r.referenceLength, 5);
  assert.equal(r.errors, 1);
  assert.equal(charErrorRate(["ab"], ["abc"]).insertions, 1);
  assert.deepEqual(splitWords("  two   words "), ["two", "words"]);
});
