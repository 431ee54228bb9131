/**
 * Word and character error rates, corpus-level as OpenSeq2Seq computes them
 * (`open_seq2seq/models/speech2text.py`, `scripts/decode.py`): the sum of Levenshtein
 * distances over the sum of reference lengths, not a mean of per-utterance rates.
 *
 * Contract:
 * - `editOps` is the Levenshtein distance with a backtrace that splits it into substitutions,
 *   deletions (reference tokens missing from the hypothesis) and insertions (extra hypothesis
 *   tokens). Among equal-cost alignments the backtrace prefers match/substitution, then
 *   deletion, then insertion, so the split is deterministic.
 * - Words are split on runs of whitespace after trimming; text is compared as given (no case
 *   folding: OpenSeq2Seq's decode.py lower-cases both sides before calling, so callers do that).
 * - Characters are Unicode code points, spaces included (as NeMo's CER does), with runs of
 *   whitespace collapsed to one space and the ends trimmed.
 *
 * Not done: text normalisation beyond whitespace, alignment output for display.
 *
 * @module
 */

/** How one hypothesis differs from its reference. */
export interface EditCounts {
  /** Levenshtein distance = substitutions + deletions + insertions. */
  distance: number;
  /** Reference tokens replaced by another token. */
  substitutions: number;
  /** Reference tokens missing from the hypothesis. */
  deletions: number;
  /** Hypothesis tokens absent from the reference. */
  insertions: number;
  /** Number of reference tokens. */
  referenceLength: number;
}

/** A corpus-level error rate with its parts. */
export interface ErrorRate {
  /** Σ distance / Σ reference length (NaN when the references are all empty). */
  rate: number;
  /** Σ distance. */
  errors: number;
  /** Σ reference length. */
  referenceLength: number;
  /** Σ substitutions. */
  substitutions: number;
  /** Σ deletions. */
  deletions: number;
  /** Σ insertions. */
  insertions: number;
  /** One entry per utterance, in input order. */
  perUtterance: EditCounts[];
}

/**
 * Levenshtein distance between two token sequences, with substitution/deletion/insertion counts
 * from a backtrace.
 *
 * @example
 * ```ts
 * import { editOps } from "./metrics.ts";
 * editOps("this is a great day".split(" "), "this is great day".split(" ")).deletions; // 1
 * ```
 */
export function editOps<T>(reference: ArrayLike<T>, hypothesis: ArrayLike<T>): EditCounts {
  const n = reference.length;
  const m = hypothesis.length;
  const w = m + 1;
  // d: [n+1, m+1] row-major; a full table because the backtrace needs it.
  const d = new Int32Array((n + 1) * w);
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    const row = i * w;
    const prev = row - w;
    d[row] = i;
    const r = reference[i - 1];
    for (let j = 1; j <= m; j++) {
      const sub = d[prev + j - 1] + (r === hypothesis[j - 1] ? 0 : 1);
      const del = d[prev + j] + 1;
      const ins = d[row + j - 1] + 1;
      d[row + j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
  }
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = d[i * w + j];
    if (i > 0 && j > 0) {
      const same = reference[i - 1] === hypothesis[j - 1];
      if (d[(i - 1) * w + j - 1] + (same ? 0 : 1) === here) {
        if (!same) substitutions++;
        i--;
        j--;
        continue;
      }
    }
    if (i > 0 && d[(i - 1) * w + j] + 1 === here) {
      deletions++;
      i--;
    } else {
      insertions++;
      j--;
    }
  }
  return { distance: d[n * w + m], substitutions, deletions, insertions, referenceLength: n };
}

/** Splits text into words on whitespace, ignoring leading and trailing blanks. */
export function splitWords(text: string): string[] {
  const t = text.trim();
  return t === "" ? [] : t.split(/\s+/);
}

function splitChars(text: string): string[] {
  return Array.from(text.trim().replace(/\s+/g, " "));
}

function corpusRate(
  references: readonly string[],
  hypotheses: readonly string[],
  split: (s: string) => string[],
  what: string,
): ErrorRate {
  if (references.length !== hypotheses.length) {
    throw new RangeError(
      `decode/metrics.ts: ${what} needs one hypothesis per reference, got ${hypotheses.length} for ${references.length}`,
    );
  }
  const out: ErrorRate = {
    rate: NaN,
    errors: 0,
    referenceLength: 0,
    substitutions: 0,
    deletions: 0,
    insertions: 0,
    perUtterance: [],
  };
  for (let k = 0; k < references.length; k++) {
    const e = editOps(split(references[k]), split(hypotheses[k]));
    out.perUtterance.push(e);
    out.errors += e.distance;
    out.referenceLength += e.referenceLength;
    out.substitutions += e.substitutions;
    out.deletions += e.deletions;
    out.insertions += e.insertions;
  }
  out.rate = out.referenceLength === 0 ? NaN : out.errors / out.referenceLength;
  return out;
}

/**
 * Corpus word error rate: Σ word edit distance / Σ reference words.
 *
 * @example
 * ```ts
 * import { wordErrorRate } from "./metrics.ts";
 * wordErrorRate(["this is a great day"], ["this is great a day"]).rate; // 0.4
 * ```
 */
export function wordErrorRate(references: readonly string[], hypotheses: readonly string[]): ErrorRate {
  return corpusRate(references, hypotheses, splitWords, "wordErrorRate");
}

/**
 * Corpus character error rate: Σ character edit distance / Σ reference characters (spaces
 * count as characters; whitespace runs collapse to one space).
 *
 * @example
 * ```ts
 * import { charErrorRate } from "./metrics.ts";
 * charErrorRate(["abc"], ["abd"]).rate; // 1/3
 * ```
 */
export function charErrorRate(references: readonly string[], hypotheses: readonly string[]): ErrorRate {
  return corpusRate(references, hypotheses, splitChars, "charErrorRate");
}
