/**
 * An n-gram LM from text in one call, as `deno task build-lm` and the demo build it: count the
 * sentences, estimate interpolated modified Kneser-Ney like KenLM's lmplz, format ARPA, and
 * load that ARPA text into the queryable LM, so the LM holds exactly the ARPA file's rounded
 * values.
 *
 * @module
 */
import { parseArpa } from "./arpa.ts";
import { estimateKneserNey, formatArpa, type KneserNeyModel, type KneserNeyOptions } from "./kneser_ney.ts";
import { type CorpusCounts, countNGrams, type CountOptions } from "./ngram_counts.ts";
import { NGramLM } from "./ngram_lm.ts";

/** What `buildKneserNeyLm` made, with the statistics lmplz prints. */
export interface BuiltLm {
  /** The n-gram counts of the text. */
  counts: CorpusCounts;
  /** The estimate: ARPA data, discounts, counts before pruning. */
  model: KneserNeyModel;
  /** The model as ARPA text. */
  arpaText: string;
  /** The ARPA text loaded for queries (and for `writeLmBinary`), parsed on first use. */
  readonly lm: NGramLM;
}

/**
 * Builds a Kneser-Ney LM from sentences (one a line).
 *
 * @example
 * ```ts
 * import { buildKneserNeyLm } from "./build_lm.ts";
 * const { lm } = buildKneserNeyLm(["the cat sat", "the dog sat"], { order: 2, discountFallback: [0.5, 1, 1.5] });
 * ```
 */
export function buildKneserNeyLm(lines: Iterable<string>, options: CountOptions & KneserNeyOptions): BuiltLm {
  const counts = countNGrams(lines, options);
  const model = estimateKneserNey(counts, options);
  const arpaText = formatArpa(model.arpa);
  let lm: NGramLM | null = null;
  return {
    counts,
    model,
    arpaText,
    get lm() {
      return lm ??= NGramLM.fromArpa(parseArpa(arpaText, options.source));
    },
  };
}
