import assert from "node:assert/strict";
import { parseArpa } from "../../decode/arpa.ts";
import { DEFAULT_DISCOUNT_FALLBACK, estimateKneserNey, formatArpa } from "../../decode/kneser_ney.ts";
import type { KneserNeyOptions } from "../../decode/kneser_ney.ts";
import { CHAR_LM_SPACE } from "../../decode/language_model.ts";
import { countNGrams } from "../../decode/ngram_counts.ts";
import { NGramLM } from "../../decode/ngram_lm.ts";
import { testWithSharedData } from "../shared_data.ts";

const tiny = ["a b c", "a b", "b c a", "c a b c", "a"];

function build(lines: string[], order: number, options: KneserNeyOptions = {}): NGramLM {
  const counts = countNGrams(lines, { order });
  const text = formatArpa(estimateKneserNey(counts, options).arpa);
  return NGramLM.fromArpa(parseArpa(text, "built.arpa"));
}

/** Σ_w P(w | context) over the whole vocabulary except <s>, via the backoff representation. */
function massAfter(lm: NGramLM, context: number[]): number {
  const ids = [...context, 0];
  let sum = 0;
  for (const w of [...lm.vocabulary, "</s>", "<unk>"]) {
    ids[ids.length - 1] = lm.wordId(w);
    sum += 10 ** lm.conditionalLogProb(ids);
  }
  return sum;
}

Deno.test("unigram probabilities match a hand computation of lmplz's formulas on a tiny corpus", () => {
  // Adjusted unigram counts = distinct left neighbours (with <s>): a {<s>,c}=2, b {<s>,a}=2,
  // c {<s>,b}=2, </s> {a,b,c}=3; t1 = 0 so the fallback D = 0.5, 1, 1.5 applies.
  // γ(ε) = (D2·3 + D3·1) / 9 = 0.5; |V| = 5 (<unk>, </s>, a, b, c): uniform 0.2.
  const counts = countNGrams(tiny, { order: 3 });
  const model = estimateKneserNey(counts, { discountFallback: DEFAULT_DISCOUNT_FALLBACK });
  assert.deepEqual(model.arpa.words, ["<unk>", "<s>", "</s>", "a", "b", "c"]);
  assert.deepEqual(model.usedFallback[0], true);
  const uni = model.arpa.orders[0];
  const near = (got: number, want: number) => assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
  near(uni.logProbs[0], Math.log10(0.5 * 0.2)); // <unk>: u = 0
  near(uni.logProbs[1], 0); // <s>: u = 1
  near(uni.logProbs[2], Math.log10((3 - 1.5) / 9 + 0.1)); // </s>
  near(uni.logProbs[3], Math.log10((2 - 1) / 9 + 0.1)); // a
  assert.deepEqual(model.arpa.orders.map((o) => o.count), [6, 9, 10]);
  // Bigrams starting with <s> keep raw counts: "<s> a" 3, "<s> b" 1, "<s> c" 1. The others
  // count distinct left neighbours: a b {<s>,c}, b c {a,<s>}, c a {b,<s>}, a </s> {c,<s>} = 2;
  // c </s> {b}, b </s> {a} = 1. So t1=4, t2=4, t3=1, t4=0; Y = 4/12: D1 = 1/3, D2 = 1.75, D3+ = 3.
  const [d1, d2, d3] = model.discounts[1];
  near(d1, 1 - 2 * (1 / 3) * 4 / 4);
  near(d2, 2 - 3 * (1 / 3) * 1 / 4);
  near(d3, 3);
  // Context <s>: Σ a(<s> •) = 3+1+1 = 5, γ(<s>) = (D3+·1 + D1·2) / 5; p(a|<s>) = (3−D3+)/5 + γ(<s>)·p(a).
  const gammaBos = (d3 * 1 + d1 * 2) / 5;
  const lm = NGramLM.fromArpa(parseArpa(formatArpa(model.arpa), "tiny.arpa"));
  near(
    lm.conditionalLogProb([lm.wordId("<s>"), lm.wordId("a")]),
    Math.log10((3 - d3) / 5 + gammaBos * (1 / 9 + 0.1)),
  );
});

Deno.test("every context's probabilities sum to 1 on a tiny corpus (exhaustive, all orders)", () => {
  const lm = build(tiny, 3, { discountFallback: DEFAULT_DISCOUNT_FALLBACK });
  const ids = ["<s>", "<unk>", ...lm.vocabulary].map((w) => lm.wordId(w));
  let worst = Math.abs(massAfter(lm, []) - 1);
  for (const a of ids) {
    worst = Math.max(worst, Math.abs(massAfter(lm, [a]) - 1));
    for (const b of ids) worst = Math.max(worst, Math.abs(massAfter(lm, [a, b]) - 1));
  }
  assert.ok(worst < 1e-4, `worst |Σp − 1| = ${worst}`);
});

Deno.test("a 4-gram with interpolate_unigrams 0 still sums to 1 and gives <unk> all of γ(ε)", () => {
  const lines = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "the cat and the dog sat",
  ];
  const lm = build(lines, 4, { discountFallback: DEFAULT_DISCOUNT_FALLBACK, interpolateUnigrams: false });
  const [the, cat, sat] = ["the", "cat", "sat"].map((w) => lm.wordId(w));
  for (const ctx of [[], [the], [the, cat], [lm.bosId, the, cat], [cat, sat, the], [-1, -1, -1]]) {
    assert.ok(Math.abs(massAfter(lm, ctx) - 1) < 1e-4, `context ${ctx}`);
  }
  assert.ok(lm.conditionalLogProb([-1]) > Math.log10(0.05));
});

Deno.test("a kept-word list drops every n-gram with another word and the model still sums to 1", () => {
  const lines = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "the cat and the dog sat",
  ];
  const counts = countNGrams(lines, { order: 3 });
  const keepWords = new Set(["the", "cat", "sat", "dog"]);
  const model = estimateKneserNey(counts, { keepWords, discountFallback: DEFAULT_DISCOUNT_FALLBACK });
  assert.deepEqual(model.arpa.words, ["<unk>", "<s>", "</s>", "the", "cat", "sat", "dog"]);
  for (const o of model.arpa.orders) for (const id of o.ids) assert.ok(id < model.arpa.words.length);
  assert.ok(model.arpa.orders[1].count < model.countsBeforePruning[1]);
  const lm = NGramLM.fromArpa(parseArpa(formatArpa(model.arpa), "kept.arpa"));
  for (const ctx of [[], [lm.wordId("the")], [lm.bosId, lm.wordId("the")], [lm.wordId("cat"), -1]]) {
    assert.ok(Math.abs(massAfter(lm, ctx) - 1) < 1e-4, `context ${ctx}`);
  }
});

Deno.test("discounts that cannot be estimated are an error without the fallback", () => {
  assert.throws(
    () => estimateKneserNey(countNGrams(tiny, { order: 3 }), { source: "tiny.txt" }),
    /^Error: tiny\.txt: could not calculate Kneser-Ney discounts for 1-grams .*small or artificial data/,
  );
});

Deno.test("pruning thresholds must start at 0 and not decrease", () => {
  const counts = countNGrams(tiny, { order: 3 });
  const opts = { discountFallback: DEFAULT_DISCOUNT_FALLBACK };
  assert.throws(
    () => estimateKneserNey(counts, { ...opts, pruneThresholds: [1, 1, 1] }),
    /first threshold must be 0/,
  );
  assert.throws(() => estimateKneserNey(counts, { ...opts, pruneThresholds: [0, 2, 1] }), /non-decreasing/);
});

Deno.test("character mode counts characters with a visible word boundary", () => {
  const lm = build(["ab ba", "abba b"], 3, { discountFallback: DEFAULT_DISCOUNT_FALLBACK });
  assert.equal(lm.isCharacterBased, false); // words "ab", "ba", "abba" are not single characters
  const counts = countNGrams(["ab ba", "abba b"], { order: 3, isCharacterLevel: true });
  assert.deepEqual(counts.vocab, ["<unk>", "<s>", "</s>", "a", "b", CHAR_LM_SPACE]);
  const model = estimateKneserNey(counts, { discountFallback: DEFAULT_DISCOUNT_FALLBACK });
  const chars = NGramLM.fromArpa(parseArpa(formatArpa(model.arpa), "chars.arpa"));
  assert.equal(chars.isCharacterBased, true);
  assert.ok(chars.vocabulary.includes(CHAR_LM_SPACE));
  assert.ok(Math.abs(massAfter(chars, [chars.wordId("a"), chars.wordId(CHAR_LM_SPACE)]) - 1) < 1e-4);
  assert.throws(
    () => countNGrams(["a|b"], { order: 2, isCharacterLevel: true, source: "x.txt" }),
    /x\.txt:1: .*"\|"/,
  );
});

Deno.test("reserved tokens in the text are an error naming the line", () => {
  assert.throws(
    () => countNGrams(["a b", "c </s> d"], { order: 2, source: "t.txt" }),
    /t\.txt:2: .*reserved token <\/s>/,
  );
});

function sharedSentences(path: string, from: number, n: number): string[] {
  return Deno.readTextFileSync(path).split("\n").slice(from, from + n);
}

testWithSharedData(
  "a pruned, vocabulary-limited 3-gram of real text sums to 1 over sampled contexts",
  "text/lm_gutenberg_8books.txt",
  (path) => {
    const lines = sharedSentences(path, 0, 1500);
    const counts = countNGrams(lines, { order: 3 });
    const model = estimateKneserNey(counts, { pruneThresholds: [0, 1, 1], vocabSize: 1000 });
    assert.equal(model.arpa.orders[0].count, 1003); // 1,000 words + <unk> <s> </s>
    const lm = NGramLM.fromArpa(parseArpa(formatArpa(model.arpa), "real.arpa"));
    // Contexts: every 50th kept bigram (as a context for order 3), unigrams, unseen pairs.
    const big = model.arpa.orders[1];
    const contexts: number[][] = [[]];
    for (let i = 0; i < big.count; i += Math.ceil(big.count / 40)) {
      contexts.push([
        lm.wordId(model.arpa.words[big.ids[2 * i]]),
        lm.wordId(model.arpa.words[big.ids[2 * i + 1]]),
      ]);
    }
    for (const w of ["the", "of", "elizabeth", "<s>", "<unk>"]) contexts.push([lm.wordId(w)]);
    contexts.push([lm.wordId("the"), lm.wordId("the")], [-1, lm.wordId("and")]);
    for (const ctx of contexts) {
      const mass = massAfter(lm, ctx);
      assert.ok(Math.abs(mass - 1) < 1e-4, `context ${ctx}: Σp = ${mass}`);
    }
  },
);

testWithSharedData(
  "count pruning keeps exactly the n-grams seen more often than the threshold",
  "text/lm_gutenberg_8books.txt",
  (path) => {
    const lines = sharedSentences(path, 2000, 800);
    // Independent raw counts of padded bigrams and trigrams (one <s> in front, as ARPA shows them).
    const raw = new Map<string, number>();
    for (const line of lines) {
      const t = ["<s>", ...line.trim().split(/\s+/).filter((w) => w !== ""), "</s>"];
      for (let n = 2; n <= 3; n++) {
        for (let i = 0; i + n <= t.length; i++) {
          const key = t.slice(i, i + n).join(" ");
          raw.set(key, (raw.get(key) ?? 0) + 1);
        }
      }
    }
    const model = estimateKneserNey(countNGrams(lines, { order: 3 }), { pruneThresholds: [0, 1, 2] });
    for (const [k, threshold] of [[2, 1], [3, 2]]) {
      const o = model.arpa.orders[k - 1];
      const kept = new Set<string>();
      for (let i = 0; i < o.count; i++) {
        kept.add(Array.from(o.ids.subarray(i * k, i * k + k), (id) => model.arpa.words[id]).join(" "));
      }
      let expected = 0;
      for (const [key, c] of raw) {
        if (key.split(" ").length !== k) continue;
        assert.equal(kept.has(key), c > threshold, `${key} seen ${c} times`);
        if (c > threshold) expected++;
      }
      assert.equal(o.count, expected);
    }
  },
);

interface ReferenceCase {
  sentences?: string[];
  first_sentences?: number;
  order: number;
  fallback: boolean;
  prune: number[];
  counts: number[];
  discounts: number[][];
  ngrams: Record<string, [number, number]>;
}

const reference: Record<string, ReferenceCase> = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/lm/kn_reference.json", import.meta.url)),
);

/** Compares the toolkit's estimate with the independent Python one (make_kn_reference.py). */
function checkAgainstReference(c: ReferenceCase, lines: string[]): void {
  const model = estimateKneserNey(countNGrams(lines, { order: c.order }), {
    pruneThresholds: c.prune,
    discountFallback: c.fallback ? DEFAULT_DISCOUNT_FALLBACK : null,
  });
  assert.deepEqual(model.arpa.orders.map((o) => o.count), c.counts);
  for (let k = 0; k < c.order; k++) {
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(model.discounts[k][j] - c.discounts[k][j]) < 1e-9);
  }
  const ours = new Map<string, [number, number]>();
  for (const o of model.arpa.orders) {
    for (let i = 0; i < o.count; i++) {
      const key = Array.from(o.ids.subarray(i * o.order, (i + 1) * o.order), (id) => model.arpa.words[id])
        .join(" ");
      ours.set(key, [o.logProbs[i], o.logBackoffs[i]]);
    }
  }
  let checked = 0;
  for (const [key, [p, b]] of Object.entries(c.ngrams)) {
    const got = ours.get(key);
    assert.ok(got !== undefined, `missing n-gram "${key}"`);
    assert.ok(Math.abs(got[0] - p) < 1e-5, `log10 p("${key}") = ${got[0]}, reference ${p}`);
    assert.ok(Math.abs(got[1] - b) < 1e-5, `log10 backoff("${key}") = ${got[1]}, reference ${b}`);
    checked++;
  }
  assert.ok(checked >= Math.min(500, c.counts.reduce((a, b) => a + b)));
}

Deno.test("the tiny corpus matches the independent Python lmplz computation n-gram for n-gram", () => {
  const c = reference["tiny_3gram_fallback"];
  checkAgainstReference(c, c.sentences!);
});

for (const name of ["text400_3gram", "text400_3gram_prune011", "text400_4gram_prune0112_fallback"]) {
  testWithSharedData(
    `real text (${name}) matches the independent Python lmplz computation`,
    "text/lm_gutenberg_8books.txt",
    (path) => {
      const c = reference[name];
      checkAgainstReference(c, sharedSentences(path, 0, c.first_sentences!));
    },
  );
}
