import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  EVAL_BUCKETS,
  EvalSentenceIndex,
  evaluationPrompts,
  isEvalSentence,
  lmTextLines,
  REPO_PROMPTS_EVAL_FROM_LINE,
  splitRepoPrompts,
  trainingPrompts,
} from "../../../data/corpora/text_split.ts";
import { filterSentences } from "../../../data/corpora/synth.ts";
import { Vocabulary } from "../../../data/pipeline/vocabulary.ts";
import { testWithSharedData } from "../../shared_data.ts";

const repoPrompts = Deno.readTextFileSync(
  fileURLToPath(new URL("../../../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
).split("\n").filter((l) => l.length > 0);

Deno.test("about one sentence in EVAL_BUCKETS of the repository's prompts is an evaluation sentence", () => {
  const evals = evaluationPrompts(repoPrompts);
  const eligible = repoPrompts.filter((l) => l.split(" ").length >= 6).length;
  const p = 1 / EVAL_BUCKETS;
  const sd = Math.sqrt(eligible * p * (1 - p));
  assert.ok(Math.abs(evals.length - eligible * p) < 5 * sd, `${evals.length} of ${eligible}`);
  assert.ok(evals.length >= 500, "enough for a 200-sentence held-out set and a dev set beside it");
  // The rule depends on the words alone, not on spacing or the copy of the text.
  for (const s of evals.slice(0, 50)) assert.ok(isEvalSentence(`  ${s.replaceAll(" ", "  ")} `));
  assert.equal(isEvalSentence("a short one"), false, "fewer than six words is never held out");
});

Deno.test("EvalSentenceIndex finds a sentence only as a run of whole words", () => {
  const index = new EvalSentenceIndex(["the old man and the sea"]);
  assert.equal(index.find("and then the old man and the sea came in"), "the old man and the sea");
  assert.equal(index.find("the old man and the seas"), null);
  assert.equal(index.find("bathe old man and the sea"), null);
  assert.equal(index.find("the old man and the"), null);
});

Deno.test("no evaluation sentence of the repository's prompts is a training prompt or inside its LM text", () => {
  const evals = evaluationPrompts(repoPrompts);
  const index = new EvalSentenceIndex(evals);
  const evalSet = new Set(evals);
  for (const t of trainingPrompts(repoPrompts)) {
    assert.ok(!evalSet.has(t), `training prompt "${t}" is held out`);
  }
  const lm = lmTextLines(repoPrompts, index);
  for (const l of lm) assert.equal(index.find(l), null, `LM line "${l}" holds an evaluation sentence`);
  assert.ok(lm.length > 0.9 * repoPrompts.length);
});

Deno.test("the repository's evaluation prompts are its tail, which the shipped checkpoint never trained on", () => {
  const { training, evaluation } = splitRepoPrompts(repoPrompts);
  const evalSet = new Set(evaluation);
  assert.ok(evaluation.length >= 600, `${evaluation.length} evaluation prompts: dev sets need 200 each`);
  for (const t of training) assert.ok(!evalSet.has(t), `"${t}" is both`);
  assert.ok(training.every((t) => !isEvalSentence(t)), "hash-selected sentences are not trained on either");
  // models/pretrained/README.md: the first 19,000 sentences of at most 80 characters.
  const shippedTraining = filterSentences(repoPrompts, Vocabulary.english(), { maxChars: 80 }).slice(
    0,
    19000,
  );
  for (const s of shippedTraining) assert.ok(!evalSet.has(s), `the shipped checkpoint trained on "${s}"`);
  assert.equal(repoPrompts.indexOf(shippedTraining.at(-1)!), REPO_PROMPTS_EVAL_FROM_LINE - 1);
});

testWithSharedData(
  "no evaluation sentence of the repository's prompts or of lm_gutenberg_8books.txt is inside the LM text made from it",
  "text/lm_gutenberg_8books.txt",
  (path) => {
    const lines = Deno.readTextFileSync(path).split("\n");
    // Every evaluation sentence in use: the demo's held-out prompts and the shared text's own.
    const evals = [
      ...new Set([
        ...splitRepoPrompts(repoPrompts).evaluation,
        ...evaluationPrompts(repoPrompts),
        ...evaluationPrompts(lines),
      ]),
    ];
    const index = new EvalSentenceIndex(evals);
    const lm = lmTextLines(lines, index);
    for (const l of lm) {
      const hit = index.find(l);
      assert.equal(hit, null, `LM line "${l}" holds evaluation sentence "${hit}"`);
    }
    // Held-out prompts come from the same books, so the unfiltered text does contain some of them.
    const leaked = lines.filter((l) => index.find(l) !== null).length;
    assert.ok(leaked > 100, `only ${leaked} lines of the raw text hold an evaluation sentence`);
    assert.ok(lm.length > 0.85 * lines.length, `LM text keeps ${lm.length} of ${lines.length} lines`);
  },
);
