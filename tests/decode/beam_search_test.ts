import assert from "node:assert/strict";
import { loadArpa } from "../../decode/arpa.ts";
import { ctcBeamSearch, CtcBeamSearchDecoder, OOV_SCORE } from "../../decode/beam_search.ts";
import { logSoftmaxRows } from "../../decode/ctc_logits.ts";
import { ctcGreedyDecode } from "../../decode/greedy.ts";
import { estimateKneserNey } from "../../decode/kneser_ney.ts";
import { editOps, wordErrorRate } from "../../decode/metrics.ts";
import { countNGrams } from "../../decode/ngram_counts.ts";
import { NGramLM } from "../../decode/ngram_lm.ts";
import * as prefixTrie from "../../decode/prefix_trie.ts";
import { testWithSharedData } from "../shared_data.ts";
import {
  ctcForwardLogProb,
  noisyChannelLogits,
  OS2S_VOCAB,
  randomLogits,
  referencePrefixBeamSearch,
  seededRandom,
  spellLogits,
  TableLM,
} from "./decode_test_helpers.ts";

const close = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("ctcBeamSearch() with an exhaustive beam scores every prefix by the CTC forward algorithm", () => {
  const rand = seededRandom(3);
  const T = 5;
  const V = 4; // a, b, c, blank
  const data = randomLogits(T, V, 2, rand);
  const logp = logSoftmaxRows({ data, T, V });
  const nbest = ctcBeamSearch({ data, T, V }, { vocabulary: ["a", "b", "c"], beamWidth: 10_000 });
  // Every label sequence of length ≤ 5 over 3 labels that CTC can emit in 5 frames.
  assert.ok(nbest.length > 100, `only ${nbest.length} hypotheses`);
  let total = 0;
  for (const h of nbest) {
    close(h.acousticScore, ctcForwardLogProb(logp, T, V, h.labels, 3), 1e-9, h.text);
    assert.equal(h.score, h.acousticScore);
    total += Math.exp(h.acousticScore);
  }
  // The hypotheses partition all alignments, so their probabilities sum to one.
  // (up to the float32 rounding of the log-softmax)
  close(total, 1, 1e-6, "total probability");
  for (let i = 1; i < nbest.length; i++) assert.ok(nbest[i - 1].score >= nbest[i].score);
});

Deno.test("beam width 1 without an LM equals greedy decoding on peaked synthetic logits", () => {
  const texts = ["hello world", "a little bit of noise", "bookkeeper's  committee", "zz top"];
  for (const [k, text] of texts.entries()) {
    const { data, T, V } = spellLogits(text, { noise: 3, seed: k, framesPerChar: 1 + (k % 3) });
    const greedy = ctcGreedyDecode({ data, T, V }, { vocabulary: OS2S_VOCAB });
    const beam = ctcBeamSearch({ data, T, V }, { vocabulary: OS2S_VOCAB, beamWidth: 1 });
    assert.equal(greedy.text, text);
    assert.equal(beam[0].text, greedy.text);
  }
});

Deno.test("beam width 1 equals greedy on random logits when one label clearly leads each frame", () => {
  const rand = seededRandom(11);
  let compared = 0;
  for (let k = 0; k < 200; k++) {
    const T = 20;
    const V = 6;
    const data = randomLogits(T, V, 10, rand);
    // Sum-of-paths beam search keeps the old prefix when p(blank) + p(last label) beats the
    // frame's arg-max label (a documented difference from best-path decoding); skip such inputs.
    const logp = logSoftmaxRows({ data, T, V });
    let ambiguous = false;
    for (let t = 0; t < T && !ambiguous; t++) {
      const row = Array.from(logp.subarray(t * V, t * V + V), Math.exp).sort((a, b) => b - a);
      if (row[0] < 0.5) ambiguous = true;
    }
    if (ambiguous) continue;
    compared++;
    const vocabulary = ["a", "b", "c", "d", "e"];
    const g = ctcGreedyDecode({ data, T, V }, { vocabulary });
    assert.equal(ctcBeamSearch({ data, T, V }, { vocabulary, beamWidth: 1 })[0].text, g.text);
  }
  assert.ok(compared >= 5, `only ${compared} unambiguous inputs`);
});

Deno.test("cutoffTopN 1 keeps only the arg-max label, so any beam reproduces greedy decoding", () => {
  const rand = seededRandom(5);
  for (let k = 0; k < 50; k++) {
    const T = 40;
    const V = 7;
    const data = randomLogits(T, V, 2, rand);
    const vocabulary = ["a", "b", "c", "d", "e", "f"];
    const g = ctcGreedyDecode({ data, T, V }, { vocabulary });
    const b = ctcBeamSearch({ data, T, V }, { vocabulary, beamWidth: 16, cutoffTopN: 1 });
    assert.equal(b[0].text, g.text);
    assert.equal(b.length, 1);
  }
});

Deno.test("beam search matches a plain Map-based prefix beam search in every n-best score", () => {
  const rand = seededRandom(9);
  const vocabulary = ["a", "b", "c", "d", "e"];
  for (let k = 0; k < 40; k++) {
    const T = 15;
    const V = 6;
    const data = randomLogits(T, V, 4, rand);
    const logp = logSoftmaxRows({ data, T, V });
    for (const beamWidth of [1, 3, 16, 64]) {
      const got = ctcBeamSearch({ data, T, V }, { vocabulary, beamWidth });
      const want = referencePrefixBeamSearch(logp, T, V, 5, beamWidth);
      assert.equal(got.length, want.length);
      for (let i = 0; i < got.length; i++) {
        close(got[i].score, want[i].score, 1e-9, `beam ${beamWidth} #${i}`);
      }
      assert.deepEqual([...got[0].labels], want[0].labels);
    }
  }
});

Deno.test("an exhaustive beam never finds a less probable transcript than greedy on random logits", () => {
  // With T = 6 and 3 labels there are at most 1,093 prefixes, so beam 2,048 keeps them all and
  // returns the most probable labelling. (Narrow beams on flat random logits can lose the
  // greedy labelling: about 1 in 200 inputs at beam 128 with T = 10..25 and V = 6.)
  const rand = seededRandom(13);
  const vocabulary = ["a", "b", "c"];
  for (let k = 0; k < 100; k++) {
    const T = 6;
    const V = 4;
    const data = randomLogits(T, V, 1 + (k % 4), rand);
    const logp = logSoftmaxRows({ data, T, V });
    const g = ctcGreedyDecode({ data, T, V }, { vocabulary });
    const best = ctcBeamSearch({ data, T, V }, { vocabulary, beamWidth: 2048 })[0];
    const exact = ctcForwardLogProb(logp, T, V, best.labels, 3);
    assert.ok(exact >= ctcForwardLogProb(logp, T, V, g.labels, 3) - 1e-9);
    close(best.acousticScore, exact, 1e-9, "exhaustive score is exact");
  }
});

Deno.test("wider beams never do worse than greedy on noisy synthetic logits of real sentences", () => {
  const texts = [
    "the quick brown fox jumps over the lazy dog",
    "she had your dark suit in greasy wash water all year",
  ];
  for (let k = 0; k < 24; k++) {
    const truth = texts[k % 2];
    const { data, T, V } = spellLogits(truth, {
      noise: 3 + (k % 2),
      seed: k,
      peak: 5,
      framesPerChar: 1 + (k % 3),
    });
    const logp = logSoftmaxRows({ data, T, V });
    const g = ctcGreedyDecode({ data, T, V }, { vocabulary: OS2S_VOCAB });
    const greedyScore = ctcForwardLogProb(logp, T, V, g.labels, 28);
    const greedyErrors = editOps(truth, g.text).distance;
    for (const beamWidth of [2, 8, 32, 128]) {
      const best = ctcBeamSearch({ data, T, V }, { vocabulary: OS2S_VOCAB, beamWidth })[0];
      const exact = ctcForwardLogProb(logp, T, V, best.labels, 28);
      assert.ok(exact >= greedyScore - 1e-9, `beam ${beamWidth}: ${exact} < greedy ${greedyScore}`);
      assert.ok(editOps(truth, best.text).distance <= greedyErrors, `beam ${beamWidth} has more errors`);
      // The search's own score never exceeds the exact probability (it can only lose paths).
      assert.ok(best.acousticScore <= exact + 1e-9);
    }
  }
});

Deno.test("beam search accepts logits, log-probs and probabilities and a blank that is not last", () => {
  const { data, T, V } = spellLogits("abba", { noise: 1 });
  const logp = logSoftmaxRows({ data, T, V });
  const probs = logp.map(Math.exp);
  const opts = { vocabulary: OS2S_VOCAB, beamWidth: 8 };
  const a = ctcBeamSearch({ data, T, V }, opts)[0];
  const b = ctcBeamSearch({ data: logp, T, V }, { ...opts, input: "logProbs" })[0];
  const c = ctcBeamSearch({ data: probs, T, V }, { ...opts, input: "probs" })[0];
  assert.equal(a.text, "abba");
  assert.equal(b.text, "abba");
  assert.equal(c.text, "abba");
  close(a.score, b.score, 1e-5, "logits vs log-probs");
  close(a.score, c.score, 1e-4, "logits vs probs");
  // Move the blank to index 0: the same matrix with columns rotated.
  const rot = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    rot[t * V] = data[t * V + V - 1];
    for (let v = 0; v < V - 1; v++) rot[t * V + v + 1] = data[t * V + v];
  }
  const r = ctcBeamSearch({ data: rot, T, V }, { ...opts, blankIndex: 0 })[0];
  assert.equal(r.text, "abba");
  close(r.score, a.score, 1e-9, "blank first");
});

Deno.test("word times come from the frames where each word's characters were emitted", () => {
  const text = "go on";
  const fpc = 3;
  const { data, T, V, charFrames } = spellLogits(text, { framesPerChar: fpc, noise: 0.5 });
  const best =
    ctcBeamSearch({ data, T, V }, { vocabulary: OS2S_VOCAB, beamWidth: 16, frameStepSeconds: 0.02 })[0];
  assert.equal(best.text, text);
  assert.deepEqual(best.words.map((w) => w.word), ["go", "on"]);
  // "go": chars 0..1; "on": chars 3..4 (char 2 is the space)
  assert.equal(best.words[0].startFrame, charFrames[0]);
  assert.equal(best.words[0].endFrame, charFrames[1] + fpc);
  assert.equal(best.words[1].startFrame, charFrames[3]);
  assert.equal(best.words[1].endFrame, charFrames[4] + fpc);
  close(best.words[1].startSeconds, charFrames[3] * 0.02, 1e-12, "start seconds");
  close(best.words[1].endSeconds, (charFrames[4] + fpc) * 0.02, 1e-12, "end seconds");
});

// A bigram LM over three words; "read" and "red" sound alike in the logits below.
function colourLM(): TableLM {
  return new TableLM(2, {
    "<s>": -99,
    "</s>": -1,
    "<unk>": -5,
    "i": -1,
    "read": -1.5,
    "red": -1.2,
    "books": -2,
    "<s> i": -0.3,
    "i read": -0.2,
    "i red": -3,
    "read books": -0.3,
    "red books": -2.5,
  }, { "<s>": 0, i: -0.5, read: -0.4, red: -0.6, books: -0.3 });
}

/** Logits for "i re?d books" where the acoustics slightly prefer "red". */
function ambiguousLogits(): { data: Float32Array; T: number; V: number } {
  const a = spellLogits("i red books", { noise: 0.2, seed: 4 });
  const b = spellLogits("i rea books", { noise: 0.2, seed: 4 });
  // Frames of "e" become a mix of "e" and "ea"-ish evidence: average both spellings' logits.
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 0.55 * a.data[i] + 0.45 * b.data[i];
  return { data, T: a.T, V: a.V };
}

Deno.test("a word LM changes the best transcript and the scores add up as alpha·log10 + beta", () => {
  const lm = colourLM();
  const logits = ambiguousLogits();
  const plain = ctcBeamSearch(logits, { vocabulary: OS2S_VOCAB, beamWidth: 32 });
  assert.notEqual(plain[0].text, "i read books");
  const alpha = 1.5;
  const beta = 0.7;
  const fused = ctcBeamSearch(logits, { vocabulary: OS2S_VOCAB, beamWidth: 32, lm, alpha, beta });
  const best = fused[0];
  assert.equal(best.text, "i read books");
  // Three words scored, the last one at the end of the utterance.
  assert.equal(best.lmTokens, 3);
  close(best.lmLog10, -0.3 + -0.2 + -0.3, 1e-12, "lmLog10");
  close(best.score, best.acousticScore + alpha * best.lmLog10 + beta * 3, 1e-9, "score decomposition");
  // The lexicon keeps every hypothesis inside the LM's words.
  for (const h of fused) {
    for (const w of h.text.split(" ").slice(0, -1)) {
      assert.ok(["i", "read", "red", "books"].includes(w), h.text);
    }
  }
  // The first word is conditioned on <s> (Baidu's make_ngram padding).
  assert.deepEqual(lm.queries[0], ["<s>", "i"]);
});

Deno.test("bosContext false scores the first word from an empty context", () => {
  const lm = colourLM();
  const { data, T, V } = spellLogits("i read books", { noise: 0.1 });
  const best = ctcBeamSearch({ data, T, V }, {
    vocabulary: OS2S_VOCAB,
    beamWidth: 8,
    lm,
    alpha: 1,
    bosContext: false,
  })[0];
  assert.equal(best.text, "i read books");
  close(best.lmLog10, -1 + -0.2 + -0.3, 1e-12, "unigram start");
});

Deno.test("without the lexicon an out-of-vocabulary word scores OOV_SCORE", () => {
  const lm = colourLM();
  const { data, T, V } = spellLogits("i rad books", { noise: 0.1 });
  const constrained = ctcBeamSearch({ data, T, V }, {
    vocabulary: OS2S_VOCAB,
    beamWidth: 16,
    lm,
    alpha: 0.01,
  });
  assert.notEqual(constrained[0].text, "i rad books");
  const free = ctcBeamSearch({ data, T, V }, {
    vocabulary: OS2S_VOCAB,
    beamWidth: 16,
    lm,
    alpha: 0.0001,
    lexicon: false,
  });
  const h = free.find((x) => x.text === "i rad books");
  assert.ok(h !== undefined);
  // "rad" is OOV, and so is the n-gram "rad books" whose context holds it.
  close(h.lmLog10, -0.3 + 2 * OOV_SCORE, 1e-9, "OOV scores");
});

Deno.test("a character LM scores every character, the space as '|'", () => {
  const lm = new TableLM(2, {
    "<s>": -99,
    "</s>": -1,
    "<unk>": -5,
    a: -0.5,
    b: -0.5,
    "|": -0.5,
    "<s> a": -0.1,
    "a b": -0.1,
    "b |": -0.1,
    "| a": -0.1,
    "a a": -2,
  }, { a: 0, b: 0, "|": 0, "<s>": 0 });
  assert.equal(lm.isCharacterBased, true);
  const vocabulary = [" ", "a", "b"];
  const { data, T, V } = spellLogits("ab a", { vocab: vocabulary, noise: 0.1 });
  const dec = new CtcBeamSearchDecoder({ vocabulary, beamWidth: 8, lm, alpha: 1, beta: 0.25 });
  assert.equal(dec.isCharacterMode, true);
  const best = dec.decode({ data, T, V })[0];
  assert.equal(best.text, "ab a");
  assert.equal(best.lmTokens, 4);
  close(best.lmLog10, -0.4, 1e-12, "char LM");
  close(best.score, best.acousticScore + best.lmLog10 + 0.25 * 4, 1e-9, "char score");
});

Deno.test("one decoder gives identical results when reused, and honours nBest", () => {
  const rand = seededRandom(21);
  const vocabulary = OS2S_VOCAB;
  const dec = new CtcBeamSearchDecoder({ vocabulary, beamWidth: 32, nBest: 5, lm: colourLM(), alpha: 0.5 });
  const inputs = Array.from({ length: 3 }, () => ({ data: randomLogits(40, 29, 3, rand), T: 40, V: 29 }));
  const first = inputs.map((x) => dec.decode(x));
  const again = inputs.map((x) => dec.decode(x));
  assert.deepEqual(again, first);
  for (const r of first) assert.ok(r.length <= 5);
  assert.throws(() => dec.decode({ data: new Float32Array(10), T: 2, V: 5 }), /vocabulary has 28 entries/);
});

Deno.test("beam search with a word or character LM matches an independent Python port of Baidu's decoder", async () => {
  // tests/fixtures/decode/make_beam_reference.py: same n-best texts, scores and LM sums.
  const fixtures = new URL("../fixtures/decode/", import.meta.url);
  const ref = JSON.parse(await Deno.readTextFile(new URL("beam_reference.json", fixtures))) as {
    V: number;
    utterances: { T: number; logProbs: number[] }[];
    cases: {
      config: {
        beamWidth: number;
        alpha: number;
        beta: number;
        cutoffProb: number;
        cutoffTopN: number;
        lm: boolean;
        lmFile?: string;
      };
      results: { text: string; score: number; lmLog10: number; lmTokens: number }[][];
    }[];
  };
  const lm = await loadArpa(new URL("tiny_bigram.arpa", fixtures).pathname);
  const charLm = await loadArpa(new URL("char_bigram.arpa", fixtures).pathname);
  let compared = 0;
  for (const { config, results } of ref.cases) {
    const dec = new CtcBeamSearchDecoder({
      vocabulary: OS2S_VOCAB,
      beamWidth: config.beamWidth,
      alpha: config.alpha,
      beta: config.beta,
      cutoffProb: config.cutoffProb,
      cutoffTopN: config.cutoffTopN,
      lm: config.lm ? (config.lmFile === "char_bigram.arpa" ? charLm : lm) : null,
      input: "logProbs",
      nBest: 5,
    });
    ref.utterances.forEach((u, k) => {
      const got = dec.decode({ data: Float32Array.from(u.logProbs), T: u.T, V: ref.V });
      const want = results[k];
      const what = `beam ${config.beamWidth} alpha ${config.alpha} utterance ${k}`;
      assert.deepEqual(got.map((h) => h.text), want.map((h) => h.text), what);
      for (let i = 0; i < want.length; i++) {
        close(got[i].score, want[i].score, 1e-6, `${what} #${i} score`);
        if (config.lm) {
          close(got[i].lmLog10, want[i].lmLog10, 1e-6, `${what} #${i} lmLog10`);
          assert.equal(got[i].lmTokens, want[i].lmTokens, `${what} #${i} lmTokens`);
        }
        compared++;
      }
    });
  }
  assert.ok(compared > 80, `only ${compared} hypotheses compared`);
});

Deno.test("a character LM read from ARPA repairs a confusable letter and is scored per character", async () => {
  const lm = await loadArpa(new URL("../fixtures/decode/char_bigram.arpa", import.meta.url).pathname);
  assert.equal(lm.isCharacterBased, true);
  const text = "the man said that";
  const { data, T, V, charFrames } = spellLogits(text, { noise: 0.5, seed: 3, framesPerChar: 2 });
  // Make the acoustics prefer "k" over the "h" of "the" (frames of character 1).
  const h = OS2S_VOCAB.indexOf("h");
  const k = OS2S_VOCAB.indexOf("k");
  for (const t of [charFrames[1], charFrames[1] + 1]) {
    data[t * V + k] = data[t * V + h] + 0.7;
  }
  assert.equal(ctcGreedyDecode({ data, T, V }, { vocabulary: OS2S_VOCAB }).text, "tke man said that");
  const dec = new CtcBeamSearchDecoder({ vocabulary: OS2S_VOCAB, beamWidth: 16, lm, alpha: 1, beta: 0 });
  assert.equal(dec.isCharacterMode, true);
  const best = dec.decode({ data, T, V })[0];
  assert.equal(best.text, text);
  // Every character is scored, the spaces as "|", the first one after <s>.
  const ids = [lm.bosId, ...Array.from(text, (c) => lm.wordId(c === " " ? "|" : c))];
  let want = 0;
  for (let i = 1; i < ids.length; i++) want += lm.conditionalLogProb([ids[i - 1], ids[i]]);
  assert.equal(best.lmTokens, text.length);
  close(best.lmLog10, want, 1e-9, "character LM sum");
});

Deno.test("ctcBeamSearch() takes a bare Float32Array with nFrames", () => {
  const { data, T } = spellLogits("ok", { noise: 0.5 });
  assert.equal(ctcBeamSearch(data, { vocabulary: OS2S_VOCAB, nFrames: T, beamWidth: 4 })[0].text, "ok");
  assert.throws(() => ctcBeamSearch(data, { vocabulary: OS2S_VOCAB }), /needs nFrames/);
});

testWithSharedData(
  "a 3-gram LM from the shared Gutenberg text repairs noisy logits of held-out sentences",
  "text/lm_gutenberg_8books.txt",
  async (path) => {
    const lines = (await Deno.readTextFile(path)).split("\n");
    const model = estimateKneserNey(countNGrams(lines.slice(0, 45000), { order: 3 }));
    const lm = NGramLM.fromArpa(model.arpa);
    const rand = seededRandom(5);
    const refs = lines.slice(45000).filter((s) => /^[a-z' ]{30,160}$/.test(s)).slice(0, 15);
    const utts = refs.map((s) => noisyChannelLogits(s, rand));
    const greedy = utts.map((u) => ctcGreedyDecode(u, { vocabulary: OS2S_VOCAB }).text);
    const dec = new CtcBeamSearchDecoder({ vocabulary: OS2S_VOCAB, beamWidth: 32, lm, alpha: 1.5, beta: 1 });
    const beam = utts.map((u) => dec.decode(u)[0].text);
    const g = wordErrorRate(refs, greedy).rate;
    const b = wordErrorRate(refs, beam).rate;
    assert.ok(g > 0.1, `greedy WER ${g} is too low for the test to mean anything`);
    assert.ok(b < g / 2, `beam+LM WER ${b} vs greedy ${g}`);
  },
);

Deno.test("one-shot ctcBeamSearch() calls over the same LM build its lexicon once, with identical results", () => {
  const { LexiconTrie } = prefixTrie;
  const lm = colourLM();
  const logits = ambiguousLogits();
  const build = LexiconTrie.build;
  let builds = 0;
  LexiconTrie.build = (...args: Parameters<typeof build>) => {
    builds++;
    return build.apply(LexiconTrie, args);
  };
  try {
    const runs = [1, 2, 3].map(() =>
      ctcBeamSearch(logits, { vocabulary: OS2S_VOCAB, beamWidth: 32, lm, alpha: 1.5, beta: 0.7 })[0]
    );
    assert.equal(builds, 1, "the lexicon is built on the first call only");
    for (const r of runs) assert.deepEqual(r, runs[0]);
    // Another label set over the same LM needs its own lexicon.
    ctcBeamSearch(logits, {
      vocabulary: OS2S_VOCAB,
      beamWidth: 32,
      lm,
      alpha: 1.5,
      beta: 0.7,
      blankIndex: 0,
    });
    assert.equal(builds, 2);
  } finally {
    LexiconTrie.build = build;
  }
});
