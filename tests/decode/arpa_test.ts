import assert from "node:assert/strict";
import { parseArpa, readArpa } from "../../decode/arpa.ts";

const tinyPath = new URL("../fixtures/lm/tiny.arpa", import.meta.url).pathname;
const irstlmPath = new URL("../fixtures/lm/irstlm_3gram.arpa.gz", import.meta.url).pathname;

const good = [
  "\\data\\",
  "ngram 1=3",
  "ngram 2=2",
  "",
  "\\1-grams:",
  "-1.0\t<s>\t-0.5",
  "-0.5\ta",
  "-0.7\t</s>",
  "",
  "\\2-grams:",
  "-0.2\t<s> a",
  "-0.3\ta </s>",
  "",
  "\\end\\",
];

/** Parses `lines` as "bad.arpa" and returns the error message it must throw. */
function errorOf(lines: string[]): string {
  try {
    parseArpa(lines.join("\n") + "\n", "bad.arpa");
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected the malformed ARPA text to be rejected");
}

function withLine(i: number, text: string): string[] {
  const copy = good.slice();
  copy[i] = text;
  return copy;
}

Deno.test("parseArpa() reads counts, word ids, probabilities and a missing backoff as 0", () => {
  const d = parseArpa(good.join("\n"), "good.arpa");
  assert.deepEqual(d.words, ["<s>", "a", "</s>"]);
  assert.equal(d.orders.length, 2);
  assert.deepEqual(Array.from(d.orders[1].ids), [0, 1, 1, 2]);
  assert.equal(d.orders[0].logBackoffs[0], -0.5);
  assert.equal(d.orders[0].logBackoffs[1], 0);
  assert.ok(Math.abs(d.orders[1].logProbs[1] - -0.3) < 1e-7);
});

Deno.test("readArpa() skips text before \\data\\ and reads gzip the same as plain text", async () => {
  const plain = await readArpa(tinyPath);
  assert.equal(plain.words.length, 6);
  const dir = await Deno.makeTempDir();
  try {
    const gzPath = `${dir}/tiny.arpa.gz`;
    const gz = new Blob([await Deno.readFile(tinyPath)]).stream().pipeThrough(new CompressionStream("gzip"));
    await Deno.writeFile(gzPath, gz);
    const fromGz = await readArpa(gzPath);
    assert.deepEqual(fromGz.words, plain.words);
    for (let k = 0; k < plain.orders.length; k++) {
      assert.deepEqual(fromGz.orders[k].ids, plain.orders[k].ids);
      assert.deepEqual(fromGz.orders[k].logProbs, plain.orders[k].logProbs);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readArpa() reads IRSTLM's ARPA output with its padded \\data\\ counts", async () => {
  const d = await readArpa(irstlmPath);
  assert.deepEqual(d.orders.map((o) => o.count), [4019, 23429, 2785]);
});

Deno.test("a section with fewer n-grams than \\data\\ declares is rejected with file and line", () => {
  const lines = good.slice();
  lines.splice(11, 1); // drop "a </s>"
  assert.match(errorOf(lines), /^bad\.arpa:13: \\data\\ declares ngram 2=2 but the section holds 1/);
});

Deno.test("a section with more n-grams than \\data\\ declares is rejected with file and line", () => {
  const lines = good.slice();
  lines.splice(8, 0, "-0.9\tb");
  assert.match(errorOf(lines), /^bad\.arpa:9: more 1-grams than the 3/);
});

Deno.test("a missing section is rejected with file and line", () => {
  const lines = good.slice(0, 9).concat(["\\end\\"]);
  assert.match(errorOf(lines), /^bad\.arpa:10: missing section \\2-grams:/);
});

Deno.test("a file that ends before its last section is rejected", () => {
  assert.match(errorOf(good.slice(0, 9)), /^bad\.arpa:\d+: missing section \\2-grams: \(file ends\)/);
});

Deno.test("a non-numeric probability is rejected with file and line", () => {
  assert.match(errorOf(withLine(6, "x0.5\ta")), /^bad\.arpa:7: non-numeric log10 probability "x0\.5"/);
});

Deno.test("a non-numeric backoff is rejected with file and line", () => {
  assert.match(errorOf(withLine(5, "-1.0\t<s>\tabc")), /^bad\.arpa:6: non-numeric log10 backoff "abc"/);
});

Deno.test("an n-gram of the wrong order is rejected with file and line", () => {
  assert.match(
    errorOf(withLine(10, "-0.2\t<s> a </s> a")),
    /^bad\.arpa:11: a 2-gram line needs 3 fields.*wrong order/,
  );
  // A top-order line cannot carry a backoff, so an extra field there is the wrong order too.
  assert.match(errorOf(withLine(10, "-0.2\t<s> a\t-0.1")), /^bad\.arpa:11: a 2-gram line needs 3 fields/);
});

Deno.test("a missing \\end\\ is rejected with file and line", () => {
  assert.match(errorOf(good.slice(0, 13)), /^bad\.arpa:13: missing \\end\\/);
});

Deno.test("text without \\data\\ is rejected as not ARPA", () => {
  assert.match(errorOf(["hello", "world"]), /^bad\.arpa:\d+: no \\data\\ header/);
});

Deno.test("an n-gram word that is not a unigram is rejected with file and line", () => {
  assert.match(
    errorOf(withLine(10, "-0.2\t<s> zebra")),
    /^bad\.arpa:11: word "zebra" of a 2-gram is not among the unigrams/,
  );
});

Deno.test("sections out of order and bad count lines are rejected with file and line", () => {
  assert.match(
    errorOf(withLine(4, "\\2-grams:")),
    /^bad\.arpa:5: expected section \\1-grams: but found \\2-grams:/,
  );
  assert.match(errorOf(withLine(2, "ngram 2=two")), /^bad\.arpa:3: expected "ngram N=COUNT"/);
});

Deno.test("a \\data\\ count beyond 2^32 - 1 is rejected by line, before anything is allocated for it", () => {
  // Found by tests/fuzz (ARPA): "ngram 1=99999999999" sized the arrays and surfaced as
  // "RangeError: Array buffer allocation failed".
  const text = "\\data\\\nngram 1=99999999999\n\n\\1-grams:\n-1 a\n\n\\end\\\n";
  assert.throws(() => parseArpa(text, "huge.arpa"), /^Error: huge\.arpa:2: ngram 1=99999999999 exceeds/);
});

Deno.test("a large \\data\\ count backed by few lines costs only the lines read", () => {
  // 2e9 declared unigrams: the arrays grow with the lines instead of being sized from the count.
  const text = "\\data\\\nngram 1=2000000000\n\n\\1-grams:\n-1 a\n-1 b\n\n\\end\\\n";
  const t0 = performance.now();
  assert.throws(
    () => parseArpa(text, "claims.arpa"),
    /claims\.arpa:\d+: \\data\\ declares ngram 1=2000000000 but the section holds 2/,
  );
  assert.ok(performance.now() - t0 < 200, "rejected without touching 2e9 entries");
});

Deno.test("n-gram arrays grow past their first allocation and keep every entry", () => {
  const n = 70_000; // more than the 65,536 entries allocated up front
  const lines = ["\\data\\", `ngram 1=${n}`, "", "\\1-grams:"];
  for (let i = 0; i < n; i++) lines.push(`${-(i % 97) / 10}\tw${i}`);
  lines.push("", "\\end\\", "");
  const data = parseArpa(lines.join("\n"), "grow.arpa");
  const uni = data.orders[0];
  assert.equal(uni.count, n);
  assert.equal(uni.logProbs.length, n);
  assert.equal(data.words[n - 1], `w${n - 1}`);
  assert.ok(Math.abs(uni.logProbs[n - 1] - -((n - 1) % 97) / 10) < 1e-6);
  assert.ok(Math.abs(uni.logProbs[65_537] - -(65_537 % 97) / 10) < 1e-6);
  assert.equal(uni.ids[n - 1], n - 1);
});
