import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkTranscripts,
  findOutOfVocabulary,
  normalizeTranscript,
  parseVocabulary,
  readVocabulary,
  Vocabulary,
  writeVocabulary,
} from "../../../data/pipeline/vocabulary.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

const O2S_VOCAB = " \na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt\nu\nv\nw\nx\ny\nz\n'\n";

Deno.test("OpenSeq2Seq's vocab.txt parses with the space line first and the blank at 28", () => {
  const v = parseVocabulary(O2S_VOCAB, "vocab.txt");
  assert.equal(v.chars.length, 28);
  assert.equal(v.chars[0], " ");
  assert.equal(v.blankIndex, 28);
  assert.equal(v.size, 29);
  assert.deepEqual([...v.encode("a b'")], [1, 0, 2, 27]);
  assert.deepEqual(v.chars, Vocabulary.english().chars);
});

Deno.test("a blank-first vocabulary shifts the characters by one", () => {
  const v = Vocabulary.english({ blank: "first" });
  assert.equal(v.blankIndex, 0);
  assert.deepEqual([...v.encode(" a")], [1, 2]);
  assert.equal(v.decode([0, 2, 0, 1, 3]), "a b");
});

Deno.test("a vocabulary file round-trips and an emptied space line is an error naming the line", () => {
  const dir = makeTestTempDir("vocabulary_test_");
  const path = join(dir, "vocab.txt");
  writeVocabulary(path, Vocabulary.english());
  assert.equal(Deno.readTextFileSync(path), O2S_VOCAB);
  assert.deepEqual(readVocabulary(path).chars, Vocabulary.english().chars);
  assert.throws(() => parseVocabulary("\na\nb\n", path), new RegExp(`${path}:1: empty line`));
  assert.throws(() => parseVocabulary("a\nbc\n", path), /:2: "bc" holds 2 characters/);
  assert.deepEqual(parseVocabulary(" \r\na\r\n", path).chars, [" ", "a"]);
  assert.deepEqual(parseVocabulary("  120\na 1234\nb\t7\n", path).chars, [" ", "a", "b"]);
  assert.throws(() => parseVocabulary("a b\n", path), /:1: "a b" holds 3 characters/);
});

Deno.test("decode maps back to text and skips the blank", () => {
  const v = Vocabulary.english();
  assert.equal(v.decode(v.encode("it's fine")), "it's fine");
  assert.equal(v.decode([28, 8, 28, 9]), "hi");
  assert.throws(() => v.decode([40]), /index 40/);
});

Deno.test("transcripts outside the vocabulary are listed with file, line and characters", () => {
  const v = Vocabulary.english();
  const entries = [
    { audioPath: "a", transcript: "fine", source: "m.csv:2" },
    { audioPath: "b", transcript: "Bad!", source: "m.csv:3" },
    { audioPath: "c", transcript: "ok", source: "m.csv:4" },
    { audioPath: "d", transcript: "two 2", source: "m.csv:5" },
  ];
  const rows = findOutOfVocabulary(entries, v);
  assert.deepEqual(rows.map((r) => [r.source, r.chars]), [["m.csv:3", ["B", "!"]], ["m.csv:5", ["2"]]]);
  assert.throws(() => checkTranscripts(entries, v), (e: Error) => {
    assert.match(e.message, /^2 transcript\(s\)/);
    assert.match(e.message, /m\.csv:3: "B" "!" in "Bad!"/);
    assert.match(e.message, /m\.csv:5: "2" in "two 2"/);
    return true;
  });
  checkTranscripts(entries.filter((_, i) => i % 2 === 0), v);
});

Deno.test("normalizeTranscript lower-cases, strips accents, drops or replaces unknowns and collapses spaces", () => {
  const v = Vocabulary.english();
  const all = { stripAccents: true, lowerCase: true, unknown: "drop" as const, collapseSpaces: true };
  assert.equal(normalizeTranscript("Café  Noël!\tÉTÉ", v, all), "cafe noel ete");
  assert.equal(normalizeTranscript("a-b", v, { unknown: "replace" }), "a b");
  assert.equal(normalizeTranscript("a-b", v, { unknown: "drop" }), "ab");
  assert.equal(normalizeTranscript("A-b", v), "A-b");
});

Deno.test("parseVocabulary() reads a 100,000-character vocabulary in well under a second", () => {
  // Found while fuzzing: duplicates were found with chars.includes(), quadratic in the lines
  // (23 s for 60,000 lines); a Set keeps it linear.
  const lines = Array.from({ length: 100_000 }, (_, i) => String.fromCodePoint(0x10000 + i));
  const t0 = performance.now();
  const vocab = parseVocabulary(lines.join("\n"), "big.txt");
  assert.ok(performance.now() - t0 < 1000, `took ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(vocab.size, 100_001);
  assert.equal(vocab.indexOf(String.fromCodePoint(0x10000 + 99_999)), 99_999);
  assert.throws(
    () => parseVocabulary([...lines, lines[5]].join("\n"), "dup.txt"),
    /dup\.txt:100001: .* appears twice/,
  );
});
