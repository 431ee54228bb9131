/**
 * build_lm: estimates an interpolated modified Kneser-Ney n-gram LM from a text file (one
 * sentence per line) the way KenLM's lmplz does, and writes ARPA (gzip when the name ends in
 * .gz) and optionally the toolkit's binary. Thin: parses arguments, calls decode/, exits.
 *
 * Usage:
 *   deno task build-lm --order 3 --text corpus.txt --arpa work/lm.arpa [--binary work/lm.bin]
 *     [--prune 0 1 1] [--limit_vocab_file words.txt | --vocab_size 20000]
 *     [--discount_fallback [0.5 1 1.5]] [--interpolate_unigrams 0|1] [--vocab_pad N] [--char]
 *
 * `--char` makes a character LM: tokens are characters and a space becomes "|"
 * (CHAR_LM_SPACE in decode/language_model.ts).
 */
import { dirname } from "node:path";
import { runCommand, UsageError } from "../cli/args.ts";
import { fileURLToPath } from "node:url";
import { buildKneserNeyLm } from "../decode/build_lm.ts";
import {
  EvalSentenceIndex,
  evaluationPrompts,
  lmTextLines,
  splitRepoPrompts,
} from "../data/corpora/text_split.ts";
import { DEFAULT_DISCOUNT_FALLBACK } from "../decode/kneser_ney.ts";
import { writeLmBinary } from "../decode/lm_binary.ts";

const command = {
  name: "deno task build-lm",
  summary:
    "Estimate an interpolated modified Kneser-Ney n-gram LM from a text file (one sentence a line), as lmplz.",
  flags: {
    order: { type: "number", integer: true, min: 1, short: "o", help: "n-gram order (required)" },
    text: { type: "string", valueName: "FILE", help: "training text, one sentence a line (required)" },
    arpa: { type: "string", valueName: "OUT.arpa[.gz]", help: "ARPA output (gzip when it ends in .gz)" },
    binary: { type: "string", valueName: "OUT.bin", help: "the toolkit's binary LM" },
    prune: { type: "numbers", min: 0, help: "count thresholds per order (the last repeats)" },
    limit_vocab_file: {
      type: "string",
      valueName: "FILE",
      help: "keep only these words (whitespace-separated)",
    },
    vocab_size: { type: "number", integer: true, min: 1, help: "keep the N most frequent words" },
    discount_fallback: {
      type: "numbers",
      counts: [0, 3],
      min: 0,
      help: "discounts where counts leave them undefined",
    },
    interpolate_unigrams: {
      type: "number",
      default: 1,
      integer: true,
      min: 0,
      max: 1,
      help: "1: interpolate unigrams with the uniform distribution",
    },
    vocab_pad: {
      type: "number",
      default: 0,
      integer: true,
      min: 0,
      help: "pad the unigram vocabulary to N words",
    },
    char: { type: "boolean", help: 'character LM: tokens are characters, a space is "|"' },
    keep_eval_sentences: {
      type: "boolean",
      help:
        "keep lines holding an evaluation sentence (by default they are dropped, so no LM has seen a test prompt)",
    },
  },
  examples: ["deno task build-lm --order 3 --text corpus.txt --arpa work/lm.arpa --binary work/lm.bin"],
} as const;

const REPO_PROMPTS = fileURLToPath(new URL("../data/corpora/text/gutenberg_sentences.txt", import.meta.url));

async function writeMaybeGzip(path: string, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  if (!path.endsWith(".gz")) return await Deno.writeFile(path, bytes);
  const gz = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  await Deno.writeFile(path, gz);
}

await runCommand(command, async ({ values: v }) => {
  if (v.order === undefined || v.text === undefined || (v.arpa === undefined && v.binary === undefined)) {
    throw new UsageError("--order, --text and --arpa or --binary are required");
  }
  if (v.limit_vocab_file !== undefined && v.vocab_size !== undefined) {
    throw new UsageError("--limit_vocab_file and --vocab_size exclude each other");
  }
  const prune = v.prune === undefined ? null : [...v.prune];
  // lmplz: a shorter list repeats its last threshold for the higher orders.
  if (prune !== null) { while (prune.length < v.order) prune.push(prune[prune.length - 1] ?? 0); }
  const d = v.discount_fallback;
  const args = {
    order: v.order,
    text: v.text,
    arpa: v.arpa ?? null,
    binary: v.binary ?? null,
    prune,
    limitVocabFile: v.limit_vocab_file ?? null,
    vocabSize: v.vocab_size ?? null,
    discountFallback: d === undefined
      ? null
      : (d.length === 3 ? [d[0], d[1], d[2]] : [...DEFAULT_DISCOUNT_FALLBACK]) as [number, number, number],
    interpolateUnigrams: v.interpolate_unigrams === 1,
    vocabPad: v.vocab_pad,
    isChar: v.char,
  };
  const t0 = performance.now();
  const text = await Deno.readTextFile(args.text);
  let lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (!v.keep_eval_sentences) {
    // Every evaluation sentence in use: the repository's held-out prompts and the text's own.
    const repoPrompts = (await Deno.readTextFile(REPO_PROMPTS)).split("\n");
    const index = new EvalSentenceIndex([
      ...splitRepoPrompts(repoPrompts).evaluation,
      ...evaluationPrompts(repoPrompts),
      ...evaluationPrompts(lines),
    ]);
    const kept = lmTextLines(lines, index);
    if (kept.length < lines.length) {
      console.error(
        `[build-lm] left out ${
          lines.length - kept.length
        } of ${lines.length} lines holding an evaluation sentence ` +
          `(data/corpora/text_split.ts; --keep_eval_sentences keeps them)`,
      );
    }
    lines = kept;
  }
  const keepWords = args.limitVocabFile === null
    ? undefined
    : new Set((await Deno.readTextFile(args.limitVocabFile)).split(/\s+/).filter((w) => w !== ""));
  const built = buildKneserNeyLm(lines, {
    order: args.order,
    isCharacterLevel: args.isChar,
    pruneThresholds: args.prune ?? undefined,
    keepWords,
    vocabSize: args.vocabSize ?? undefined,
    discountFallback: args.discountFallback,
    interpolateUnigrams: args.interpolateUnigrams,
    vocabPad: args.vocabPad,
    source: args.text,
  });
  const { counts, model, arpaText } = built;
  const t1 = performance.now();
  console.error(
    `build_lm: ${counts.sentenceCount} sentences, ${counts.tokenCount} tokens, ${counts.vocab.length} types`,
  );
  for (let k = 0; k < args.order; k++) {
    const kept = model.arpa.orders[k].count;
    const d = model.discounts[k].map((x) => x.toFixed(4)).join(" ");
    console.error(
      `  ${k + 1}-grams ${kept}${
        kept !== model.countsBeforePruning[k] ? `/${model.countsBeforePruning[k]}` : ""
      }` +
        `  D1 D2 D3+ = ${d}${model.usedFallback[k] ? " (fallback)" : ""}`,
    );
  }
  for (const out of [args.arpa, args.binary]) {
    if (out !== null) await Deno.mkdir(dirname(out), { recursive: true });
  }
  if (args.arpa !== null) await writeMaybeGzip(args.arpa, arpaText);
  if (args.binary !== null) {
    // Through the ARPA text, so the binary holds exactly the rounded values the ARPA file has.
    await writeLmBinary(built.lm, args.binary);
  }
  const t2 = performance.now();
  console.error(
    `build_lm: estimated in ${((t1 - t0) / 1000).toFixed(2)} s, wrote in ${((t2 - t1) / 1000).toFixed(2)} s`,
  );
});
