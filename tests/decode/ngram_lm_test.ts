import assert from "node:assert/strict";
import { loadArpa, parseArpa } from "../../decode/arpa.ts";
import { HEADER, NGramLM } from "../../decode/ngram_lm.ts";

const fixtures = new URL("../fixtures/lm/", import.meta.url);
const tinyPath = new URL("tiny.arpa", fixtures).pathname;

function near(actual: number, expected: number, tol = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

Deno.test("conditionalLogProb() follows KenLM backoff on a hand-made 3-gram", async () => {
  const lm = await loadArpa(tinyPath);
  const id = (w: string) => lm.wordId(w);
  near(lm.conditionalLogProb([id("<s>"), id("the"), id("cat")]), -0.2); // trigram present
  near(lm.conditionalLogProb([id("cat"), id("sat")]), -0.5); // bigram, no backoff column
  // "sat the cat": no trigram; bigram "the cat" plus backoff("sat the") absent = 0.
  near(lm.conditionalLogProb([id("sat"), id("the"), id("cat")]), -0.7);
  // "the sat": no bigram → backoff(the) + p(sat).
  near(lm.conditionalLogProb([id("the"), id("sat")]), -0.3 + -1.2);
  // "<s> the sat": backoff(<s> the) + backoff(the) + p(sat).
  near(lm.conditionalLogProb([id("<s>"), id("the"), id("sat")]), -0.25 + -0.3 + -1.2);
  // Context longer than order-1 is clipped to the last two words.
  near(lm.conditionalLogProb([id("sat"), id("sat"), id("<s>"), id("the"), id("cat")]), -0.2);
  near(lm.conditionalLogProb([id("cat")]), -0.9);
});

Deno.test("an unknown word (id -1) scores as <unk>, also inside the context", async () => {
  const lm = await loadArpa(tinyPath);
  assert.equal(lm.wordId("dog"), -1);
  near(lm.conditionalLogProb([lm.wordId("cat"), -1]), -0.2 + -1.0);
  // KenLM: <s> cat (backoff <s>, unigram cat) + <unk> after "<s> cat" + </s> after "cat <unk>".
  near(lm.scoreSentence(["cat", "dog"]), (-0.5 - 0.9) + (-0.2 - 1.0) + -0.8);
  near(lm.scoreSentence(["the", "cat", "sat"]), -0.4 - 0.2 - 0.1 - 0.3);
  near(lm.scoreSentence([]), -0.5 - 0.8);
});

Deno.test("an LM without <unk> scores an unknown word at -100, like KenLM", () => {
  const lm = NGramLM.fromArpa(parseArpa(
    "\\data\\\nngram 1=3\n\n\\1-grams:\n-99\t<s>\n-1\ta\n-1\t</s>\n\n\\end\\\n",
    "no_unk.arpa",
  ));
  near(lm.scoreSentence(["a", "zebra"]), -1 - 100 - 1);
  assert.deepEqual(lm.vocabulary, ["a"]);
});

Deno.test("an n-gram whose suffix the file lacks is still found, and the suffix backs off", () => {
  // "x b c" exists but "b c" does not: the engine inserts a blank node for "b c".
  const text = [
    "\\data\\",
    "ngram 1=6",
    "ngram 2=2",
    "ngram 3=1",
    "",
    "\\1-grams:",
    "-1\t<unk>",
    "-99\t<s>\t0",
    "-1\t</s>",
    "-0.5\tx\t-0.1",
    "-0.6\tb\t-0.2",
    "-0.7\tc",
    "",
    "\\2-grams:",
    "-0.3\tx b\t-0.4",
    "-0.3\tb x",
    "",
    "\\3-grams:",
    "-0.05\tx b c",
    "",
    "\\end\\",
    "",
  ].join("\n");
  const lm = NGramLM.fromArpa(parseArpa(text, "blank.arpa"));
  const [x, b, c] = ["x", "b", "c"].map((w) => lm.wordId(w));
  near(lm.conditionalLogProb([x, b, c]), -0.05);
  near(lm.conditionalLogProb([b, c]), -0.2 + -0.7);
  near(lm.conditionalLogProb([b, b, c]), -0.2 + -0.7); // context "b b" absent: 0
  assert.deepEqual(lm.nGramCounts, [6, 3, 1]);
  assert.equal(new Uint32Array(lm.buffer, 0, HEADER.fixedWords)[HEADER.wordBytes], 2);
});

Deno.test("a duplicate n-gram is rejected with the file name", () => {
  const text =
    "\\data\\\nngram 1=2\nngram 2=2\n\n\\1-grams:\n-1\ta\t0\n-1\tb\n\n\\2-grams:\n-1\ta b\n-2\ta b\n\n\\end\\\n";
  assert.throws(() => NGramLM.fromArpa(parseArpa(text, "dup.arpa")), /^Error: dup\.arpa: duplicate 2-gram/);
});

Deno.test("sentence scores of IRSTLM's 3-gram equal an independent backoff computation to 1e-4", async () => {
  const lm = await loadArpa(new URL("irstlm_3gram.arpa.gz", fixtures).pathname);
  const ref = JSON.parse(await Deno.readTextFile(new URL("irstlm_3gram_scores.json", fixtures)));
  assert.equal(ref.sentences.length, 200);
  let worst = 0;
  for (let i = 0; i < ref.sentences.length; i++) {
    const got = lm.scoreSentence(ref.sentences[i].split(" "));
    worst = Math.max(worst, Math.abs(got - ref.log10[i]));
  }
  assert.ok(worst < 1e-4, `worst sentence difference ${worst}`);
});

Deno.test("conditional scores equal IRSTLM's own scorer on every in-vocabulary 3-gram window to 1e-4", async () => {
  const lm = await loadArpa(new URL("irstlm_3gram.arpa.gz", fixtures).pathname);
  const ref = JSON.parse(await Deno.readTextFile(new URL("irstlm_3gram_scores.json", fixtures)));
  assert.ok(ref.irstlm.length > 3000);
  let worst = 0;
  for (const row of ref.irstlm as (string | number)[][]) {
    const ids = row.slice(0, -1).map((w) => lm.wordId(w as string));
    worst = Math.max(worst, Math.abs(lm.conditionalLogProb(ids) - (row.at(-1) as number)));
  }
  assert.ok(worst < 1e-4, `worst n-gram difference ${worst}`);
});

Deno.test("fromShared() views the same memory and scores identically", async () => {
  const lm = await loadArpa(tinyPath);
  const view = NGramLM.fromShared(lm.buffer);
  assert.equal(view.buffer, lm.buffer);
  assert.equal(view.order, 3);
  assert.deepEqual(view.vocabulary, lm.vocabulary);
  assert.equal(view.scoreSentence(["the", "cat", "dog"]), lm.scoreSentence(["the", "cat", "dog"]));
  assert.throws(() => NGramLM.fromShared(new SharedArrayBuffer(64)), /bad magic/);
});

Deno.test("a Worker scores with the posted SharedArrayBuffer and gets the main thread's numbers", async () => {
  const lm = await loadArpa(new URL("irstlm_3gram.arpa.gz", fixtures).pathname);
  const engine = new URL("../../decode/ngram_lm.ts", import.meta.url).href;
  const code = `import { NGramLM } from "${engine}";
self.onmessage = (e) => {
  const lm = NGramLM.fromShared(e.data.buffer);
  self.postMessage(e.data.sentences.map((s) => lm.scoreSentence(s.split(" "))));
};`;
  const url = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const sentences = ["it is a truth universally acknowledged", "the zebra said nothing"];
  try {
    const scores = await new Promise<number[]>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e);
      worker.postMessage({ buffer: lm.buffer, sentences });
    });
    assert.deepEqual(scores, sentences.map((s) => lm.scoreSentence(s.split(" "))));
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("isCharacterBased is true only when every non-special entry is one character", async () => {
  const chars = NGramLM.fromArpa(parseArpa(
    "\\data\\\nngram 1=5\n\n\\1-grams:\n-1\t<unk>\n-99\t<s>\n-1\t</s>\n-1\ta\n-1\t|\n\n\\end\\\n",
    "chars.arpa",
  ));
  assert.equal(chars.isCharacterBased, true);
  assert.equal((await loadArpa(tinyPath)).isCharacterBased, false);
});

Deno.test("a vocabulary over 65,536 words switches to 32-bit word ids and still finds every n-gram", () => {
  const nWords = 70_000;
  const uni = ["-1\t<unk>", "-99\t<s>\t-0.5", "-1\t</s>"];
  for (let i = 0; i < nWords; i++) uni.push(`-5\tw${i}\t-0.25`);
  const text = [
    "\\data\\",
    `ngram 1=${nWords + 3}`,
    "ngram 2=3",
    "",
    "\\1-grams:",
    ...uni,
    "",
    "\\2-grams:",
    "-0.5\tw69999 w0",
    "-0.7\tw0 w69999",
    "-0.9\t<s> w66000",
    "",
    "\\end\\",
  ].join("\n");
  const lm = NGramLM.fromArpa(parseArpa(text, "big_vocab.arpa"));
  const id = (w: string) => lm.wordId(w);
  near(lm.conditionalLogProb([id("w69999"), id("w0")]), -0.5);
  near(lm.conditionalLogProb([id("w0"), id("w69999")]), -0.7);
  near(lm.conditionalLogProb([lm.bosId, id("w66000")]), -0.9);
  near(lm.conditionalLogProb([id("w5"), id("w0")]), -0.25 - 5);
  assert.equal(new Uint32Array(lm.buffer, 0, HEADER.fixedWords)[HEADER.wordBytes], 4);
  assert.equal(
    NGramLM.fromShared(lm.buffer).scoreSentence(["w0", "w69999"]),
    lm.scoreSentence(["w0", "w69999"]),
  );
});

Deno.test("an ARPA file of more orders than the layout holds is refused by name", () => {
  // 65 orders, each (past the unigrams) empty: well-formed ARPA, but beyond the 64 orders a
  // binary header may declare, which the loader would otherwise reject as a corrupt layout.
  const lines = ["\\data\\", "ngram 1=1"];
  for (let k = 2; k <= 65; k++) lines.push(`ngram ${k}=0`);
  lines.push("", "\\1-grams:", "-1\ta\t0");
  for (let k = 2; k <= 65; k++) lines.push("", `\\${k}-grams:`);
  lines.push("", "\\end\\", "");
  const data = parseArpa(lines.join("\n"), "deep.arpa");
  assert.equal(data.orders.length, 65);
  assert.throws(() => NGramLM.fromArpa(data), /^Error: deep\.arpa: 65-gram LM exceeds the 64 orders/);
});
