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
import { buildKneserNeyLm } from "../decode/build_lm.ts";
import { DEFAULT_DISCOUNT_FALLBACK } from "../decode/kneser_ney.ts";
import { writeLmBinary } from "../decode/lm_binary.ts";

const USAGE = `usage: build_lm.ts --order N --text FILE --arpa OUT.arpa[.gz] [--binary OUT.bin]
  [--prune T1 T2 ...] [--limit_vocab_file FILE | --vocab_size N] [--discount_fallback [D1 D2 D3]]
  [--interpolate_unigrams 0|1] [--vocab_pad N] [--char]`;

interface Args {
  order: number;
  text: string;
  arpa: string | null;
  binary: string | null;
  prune: number[] | null;
  limitVocabFile: string | null;
  vocabSize: number | null;
  discountFallback: [number, number, number] | null;
  interpolateUnigrams: boolean;
  vocabPad: number;
  isChar: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    order: 0,
    text: "",
    arpa: null,
    binary: null,
    prune: null,
    limitVocabFile: null,
    vocabSize: null,
    discountFallback: null,
    interpolateUnigrams: true,
    vocabPad: 0,
    isChar: false,
  };
  const numbersAfter = (i: number): number[] => {
    const out: number[] = [];
    while (i + 1 + out.length < argv.length && /^-?[\d.]+$/.test(argv[i + 1 + out.length])) {
      out.push(Number(argv[i + 1 + out.length]));
    }
    return out;
  };
  const value = (i: number): string => {
    if (i + 1 >= argv.length) throw new Error(`build_lm.ts: ${argv[i]} needs a value\n${USAGE}`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case "--order":
      case "-o":
        a.order = Number(value(i++));
        break;
      case "--text":
        a.text = value(i++);
        break;
      case "--arpa":
        a.arpa = value(i++);
        break;
      case "--binary":
        a.binary = value(i++);
        break;
      case "--prune": {
        a.prune = numbersAfter(i);
        i += a.prune.length;
        break;
      }
      case "--limit_vocab_file":
        a.limitVocabFile = value(i++);
        break;
      case "--vocab_size":
        a.vocabSize = Number(value(i++));
        break;
      case "--discount_fallback": {
        const d = numbersAfter(i);
        if (d.length !== 0 && d.length !== 3) {
          throw new Error(`build_lm.ts: --discount_fallback takes 0 or 3 numbers`);
        }
        a.discountFallback = d.length === 3 ? [d[0], d[1], d[2]] : [...DEFAULT_DISCOUNT_FALLBACK];
        i += d.length;
        break;
      }
      case "--interpolate_unigrams":
        a.interpolateUnigrams = value(i++) !== "0";
        break;
      case "--vocab_pad":
        a.vocabPad = Number(value(i++));
        break;
      case "--char":
        a.isChar = true;
        break;
      default:
        throw new Error(`build_lm.ts: unknown argument "${flag}"\n${USAGE}`);
    }
  }
  if (!(a.order >= 1) || a.text === "" || (a.arpa === null && a.binary === null)) {
    throw new Error(`build_lm.ts: --order, --text and --arpa or --binary are required\n${USAGE}`);
  }
  if (a.prune !== null) {
    // lmplz: a shorter list repeats its last threshold for the higher orders.
    while (a.prune.length < a.order) a.prune.push(a.prune[a.prune.length - 1] ?? 0);
  }
  return a;
}

async function writeMaybeGzip(path: string, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  if (!path.endsWith(".gz")) return await Deno.writeFile(path, bytes);
  const gz = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  await Deno.writeFile(path, gz);
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const t0 = performance.now();
  const text = await Deno.readTextFile(args.text);
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
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
  if (args.arpa !== null) await writeMaybeGzip(args.arpa, arpaText);
  if (args.binary !== null) {
    // Through the ARPA text, so the binary holds exactly the rounded values the ARPA file has.
    await writeLmBinary(built.lm, args.binary);
  }
  const t2 = performance.now();
  console.error(
    `build_lm: estimated in ${((t1 - t0) / 1000).toFixed(2)} s, wrote in ${((t2 - t1) / 1000).toFixed(2)} s`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
