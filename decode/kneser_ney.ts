/**
 * Interpolated modified Kneser-Ney estimation exactly as KenLM's lmplz defines it
 * (`lm/builder/adjust_counts.cc`, `initial_probabilities.cc`, `interpolate.cc`), from counts
 * made by decode/ngram_counts.ts, to ARPA data (and ARPA text):
 *
 * 1. Adjusted counts: the top order keeps raw counts; a lower-order n-gram counts its distinct
 *    left extensions; an n-gram starting with <s> keeps its raw count (windows "<s> <s> w"
 *    collapse to "<s> w"). <unk> and <s> unigrams have count 0.
 * 2. Discounts per order from counts-of-counts t1..t4 of adjusted counts (Chen & Goodman eq.
 *    26): Y = t1/(t1+2·t2), D_k = k − (k+1)·Y·t_{k+1}/t_k. Any t1..t3 = 0 or D_k outside
 *    [0, k] is an error, or with `discountFallback` the fallback (default 0.5, 1, 1.5).
 * 3. u(w|c) = (a(cw) − D(a(cw))) / Σ_x a(cx); γ(c) = (D1·N1(c•) + D2·N2(c•) + D3·N3+(c•) +
 *    pruned mass) / Σ_x a(cx). Unigrams: <unk> gets u = 0 (interpolateUnigrams, default) or
 *    all of γ (false, SRILM-like); <s> gets u = 1.
 * 4. p(w|c) = u(w|c) + γ(c)·p(w|c′), down to uniform 1/|V| (|V| counts <unk>, not <s>).
 * 5. log10 p (capped at 0) and log10 γ as the backoff of every n-gram below the top order
 *    that is a context (0 otherwise, and for n-grams ending in <unk> or </s>).
 * Pruning follows lmplz: an n-gram of order ≥ 2 whose raw count is ≤ the order's threshold
 * (thresholds non-decreasing), or that holds a word outside the kept vocabulary, is dropped
 * and its adjusted count goes to its context's γ; counts-of-counts still include it.
 *
 * Arithmetic is float64 where lmplz uses float32, so values agree to about 1e-6, not bit for
 * bit. It keeps everything in memory (no external sort) and does not do `--vocab_pad`-style
 * extras beyond `vocabPad`.
 *
 * @module
 */
import type { ArpaData, ArpaOrder } from "./arpa.ts";
import { BOS_ID, type CorpusCounts, EOS_ID, NGramTable, UNK_ID } from "./ngram_counts.ts";

/** Options of `estimateKneserNey`. */
export interface KneserNeyOptions {
  /** Count thresholds per order (`--prune`): drop n-grams with raw count ≤ t; t[0] must be 0. */
  pruneThresholds?: readonly number[];
  /** Words to keep (`--limit_vocab_file`); n-grams with any other word are pruned. */
  keepWords?: ReadonlySet<string>;
  /** Keep only the N most frequent words (ties: first seen), pruning the rest like keepWords. */
  vocabSize?: number;
  /** Use these discounts (D1, D2, D3+) for an order whose discounts cannot be estimated. */
  discountFallback?: readonly [number, number, number] | null;
  /** lmplz `--interpolate_unigrams` (default true). */
  interpolateUnigrams?: boolean;
  /** Minimum |V| for the uniform distribution (lmplz `--vocab_pad`). */
  vocabPad?: number;
  /** Name of the corpus, for error messages. */
  source?: string;
}

/** Estimated model plus the statistics lmplz prints. */
export interface KneserNeyModel {
  /** The model as ARPA data (unigram words in lmplz order: <unk>, <s>, </s>, then first seen). */
  readonly arpa: ArpaData;
  /** discounts[k-1] = [D1, D2, D3+] of order k. */
  readonly discounts: number[][];
  /** Whether order k used the fallback discounts. */
  readonly usedFallback: boolean[];
  /** N-grams per order before pruning. */
  readonly countsBeforePruning: number[];
}

/** lmplz's `--discount_fallback` defaults. */
export const DEFAULT_DISCOUNT_FALLBACK: readonly [number, number, number] = [0.5, 1, 1.5];

interface Level {
  table: NGramTable;
  adj: Float64Array;
  raw: Float64Array;
  suffix: Int32Array; // index of the suffix n-gram in the order below (orders ≥ 2)
  pruned: Uint8Array;
}

/**
 * Estimates an interpolated modified Kneser-Ney LM from counted windows.
 *
 * @example
 * ```ts
 * const counts = countNGrams(lines, { order: 3 });
 * const { arpa } = estimateKneserNey(counts, { pruneThresholds: [0, 0, 1] });
 * await Deno.writeTextFile("lm.arpa", formatArpa(arpa));
 * ```
 */
export function estimateKneserNey(counts: CorpusCounts, options: KneserNeyOptions = {}): KneserNeyModel {
  const N = counts.order;
  const source = options.source ?? "<text>";
  const thresholds = options.pruneThresholds ?? new Array(N).fill(0);
  checkThresholds(thresholds, N, source);
  const prunedWord = prunedWords(counts, options);

  const levels = adjustedCounts(counts);
  // Pruning marks (raw-count thresholds and vocabulary).
  for (let k = 1; k <= N; k++) {
    const { table, raw, pruned } = levels[k - 1];
    const keys = table.keys;
    for (let i = 0; i < table.size; i++) {
      let drop = k >= 2 && raw[i] <= thresholds[k - 1];
      if (prunedWord !== null) {
        for (let j = 0; j < k && !drop; j++) drop = prunedWord[keys[i * k + j]] === 1;
      }
      pruned[i] = drop ? 1 : 0;
    }
  }

  const discounts: number[][] = [];
  const usedFallback: boolean[] = [];
  for (let k = 1; k <= N; k++) {
    const d = discountsOf(levels[k - 1].adj, k, options.discountFallback ?? null, source);
    discounts.push(d.amounts);
    usedFallback.push(d.isFallback);
  }

  // Initial probabilities u and context weights γ, then interpolation, bottom-up.
  const interpolateUnigrams = options.interpolateUnigrams ?? true;
  const probs: Float64Array[] = [];
  const gammas: Float64Array[] = []; // gammas[k-1][i]: γ of order-k n-gram i as a context of order k+1
  {
    const { table, adj, pruned } = levels[0];
    const D = discounts[0];
    let denom = 0, mass = 0;
    for (let i = 0; i < table.size; i++) {
      denom += adj[i];
      if (pruned[i]) mass += adj[i];
      else if (adj[i] > 0) mass += D[Math.min(adj[i], 3) - 1];
    }
    const gamma = mass / denom;
    let kept = 0;
    for (let i = 0; i < table.size; i++) if (!pruned[i]) kept++;
    const uniform = 1 / Math.max(options.vocabPad ?? 0, kept - 1);
    const p = new Float64Array(table.size);
    const gammaAssign = interpolateUnigrams ? gamma : 0;
    for (let i = 0; i < table.size; i++) {
      if (i === UNK_ID) p[i] = (interpolateUnigrams ? 0 : gamma) + gammaAssign * uniform;
      else if (i === BOS_ID) p[i] = 1;
      else p[i] = (adj[i] - discount(D, adj[i])) / denom + gammaAssign * uniform;
    }
    probs.push(p);
  }
  for (let k = 2; k <= N; k++) {
    const lower = levels[k - 2];
    const { table, adj, pruned, suffix } = levels[k - 1];
    const D = discounts[k - 1];
    const nCtx = lower.table.size;
    const denom = new Float64Array(nCtx);
    const mass = new Float64Array(nCtx);
    const ctxOf = new Int32Array(table.size);
    const keys = table.keys;
    for (let i = 0; i < table.size; i++) {
      const c = lower.table.find(keys, i * k);
      if (c < 0) throw new Error(`${source}: internal error: context of a ${k}-gram was never counted`);
      ctxOf[i] = c;
      denom[c] += adj[i];
      if (pruned[i]) mass[c] += adj[i];
      else mass[c] += D[Math.min(adj[i], 3) - 1];
    }
    const gamma = new Float64Array(nCtx);
    for (let c = 0; c < nCtx; c++) gamma[c] = denom[c] > 0 ? mass[c] / denom[c] : 1;
    gammas.push(gamma);
    const lowerProbs = probs[k - 2];
    const p = new Float64Array(table.size);
    for (let i = 0; i < table.size; i++) {
      const c = ctxOf[i];
      p[i] = (adj[i] - discount(D, adj[i])) / denom[c] + gamma[c] * lowerProbs[suffix[i]];
    }
    probs.push(p);
  }
  return {
    arpa: toArpa(levels, probs, gammas, counts.vocab, source),
    discounts,
    usedFallback,
    countsBeforePruning: levels.map((l) => l.table.size),
  };
}

function discount(D: number[], a: number): number {
  return a <= 0 ? 0 : D[Math.min(a, 3) - 1];
}

function checkThresholds(t: readonly number[], N: number, source: string): void {
  if (t.length !== N) {
    throw new RangeError(`${source}: ${t.length} pruning thresholds for an order-${N} model`);
  }
  if (t[0] !== 0) {
    throw new RangeError(`${source}: unigram pruning is not supported: the first threshold must be 0`);
  }
  for (let k = 1; k < N; k++) {
    if (!(t[k] >= t[k - 1]) || !Number.isInteger(t[k])) {
      throw new RangeError(
        `${source}: pruning thresholds must be non-decreasing integers, got ${t.join(" ")}`,
      );
    }
  }
}

/** 1 for each word id outside the kept vocabulary (specials always kept), or null for none. */
function prunedWords(counts: CorpusCounts, options: KneserNeyOptions): Uint8Array | null {
  const V = counts.vocab.length;
  if (options.keepWords === undefined && options.vocabSize === undefined) return null;
  const out = new Uint8Array(V);
  if (options.keepWords !== undefined) {
    for (let id = EOS_ID + 1; id < V; id++) if (!options.keepWords.has(counts.vocab[id])) out[id] = 1;
  }
  if (options.vocabSize !== undefined) {
    const ids = [];
    for (let id = EOS_ID + 1; id < V; id++) ids.push(id);
    // Most frequent first; ties keep first appearance (lower id). Array.sort is stable.
    ids.sort((a, b) => counts.unigramCounts[b] - counts.unigramCounts[a]);
    for (let r = options.vocabSize; r < ids.length; r++) out[ids[r]] = 1;
  }
  return out;
}

/** Step 1: every order's n-grams with adjusted and raw counts, and suffix links. */
function adjustedCounts(counts: CorpusCounts): Level[] {
  const N = counts.order;
  const V = counts.vocab.length;
  const tables: NGramTable[] = [];
  for (let k = 1; k <= N; k++) tables.push(new NGramTable(k, k === 1 ? V : 1024));
  const ids = new Int32Array(1);
  for (let id = 0; id < V; id++) {
    ids[0] = id;
    tables[0].add(ids, 0, 0); // index == id
  }
  const bosRaw: Float64Array[] = [];
  // Collapse windows "<s> <s> … w" into the n-gram that starts at their last <s>.
  const w = counts.windows;
  const wk = w.keys, wc = w.counts;
  for (let i = 0; i < w.size; i++) {
    let lead = 0;
    while (lead < N && wk[i * N + lead] === BOS_ID) lead++;
    if (N >= 2 && lead >= 2) tables[N - lead].add(wk, i * N + lead - 1, wc[i]);
    else tables[N - 1].add(wk, i * N, wc[i]);
  }
  for (let k = 1; k <= N; k++) bosRaw.push(tables[k - 1].counts.slice());
  if (N === 1) {
    const raw = counts.unigramCounts.slice();
    return [{
      table: tables[0],
      adj: raw.slice(),
      raw,
      suffix: new Int32Array(0),
      pruned: new Uint8Array(V),
    }];
  }
  const levels: Level[] = new Array(N);
  const top = tables[N - 1];
  levels[N - 1] = {
    table: top,
    adj: top.counts.slice(),
    raw: top.counts.slice(),
    suffix: new Int32Array(0),
    pruned: new Uint8Array(top.size),
  };
  for (let k = N; k >= 2; k--) {
    const upper = levels[k - 1];
    const lowerTable = tables[k - 2];
    const keys = upper.table.keys;
    const suffix = new Int32Array(upper.table.size);
    // Suffix n-grams (all start after position 0, so never with <s>): raw counts add up.
    for (let i = 0; i < upper.table.size; i++) {
      suffix[i] = lowerTable.add(keys, i * k + 1, upper.raw[i]);
    }
    upper.suffix = suffix;
    const n = lowerTable.size;
    const adj = new Float64Array(n);
    const lowerKeys = lowerTable.keys;
    const before = bosRaw[k - 2];
    for (let i = 0; i < before.length; i++) {
      if (lowerKeys[i * (k - 1)] === BOS_ID) adj[i] = before[i]; // starts with <s>: raw count
    }
    for (let i = 0; i < upper.table.size; i++) {
      if (lowerKeys[suffix[i] * (k - 1)] !== BOS_ID) adj[suffix[i]] += 1; // one more left extension
    }
    if (k - 1 === 1) {
      adj[UNK_ID] = 0;
      adj[BOS_ID] = 0;
    }
    levels[k - 2] = {
      table: lowerTable,
      adj,
      raw: lowerTable.counts.slice(),
      suffix: new Int32Array(0),
      pruned: new Uint8Array(n),
    };
  }
  return levels;
}

/** Step 2: [D1, D2, D3+] of one order from its adjusted counts. */
function discountsOf(
  adj: Float64Array,
  k: number,
  fallback: readonly [number, number, number] | null,
  source: string,
): { amounts: number[]; isFallback: boolean } {
  const t = [0, 0, 0, 0, 0];
  for (let i = 0; i < adj.length; i++) if (adj[i] >= 1 && adj[i] <= 4) t[adj[i]]++;
  let problem = "";
  for (let j = 1; j <= 3 && problem === ""; j++) {
    if (t[j] === 0) {
      problem = `could not calculate Kneser-Ney discounts for ${k}-grams with adjusted count ${j + 1} ` +
        `because no ${k}-grams have adjusted count ${j}; is this small or artificial data?`;
    }
  }
  const amounts: number[] = [];
  if (problem === "") {
    const y = t[1] / (t[1] + 2 * t[2]);
    for (let j = 1; j <= 3; j++) {
      const d = j - (j + 1) * y * t[j + 1] / t[j];
      if (d < 0 || d > j) problem = `${k}-gram discount out of range for adjusted count ${j}: ${d}`;
      amounts.push(d);
    }
  }
  if (problem === "") return { amounts, isFallback: false };
  if (fallback === null) {
    throw new Error(`${source}: ${problem} (use the discount fallback for tiny corpora)`);
  }
  return { amounts: [...fallback], isFallback: true };
}

/** Step 5: unpruned n-grams with log10 probabilities and backoffs, renumbered ids. */
function toArpa(
  levels: Level[],
  probs: Float64Array[],
  gammas: Float64Array[],
  vocab: string[],
  source: string,
): ArpaData {
  const N = levels.length;
  const uni = levels[0];
  const newId = new Int32Array(vocab.length).fill(-1);
  const words: string[] = [];
  for (let id = 0; id < vocab.length; id++) {
    if (!uni.pruned[id]) {
      newId[id] = words.length;
      words.push(vocab[id]);
    }
  }
  const orders: ArpaOrder[] = [];
  for (let k = 1; k <= N; k++) {
    const { table, pruned } = levels[k - 1];
    const keys = table.keys;
    let count = 0;
    for (let i = 0; i < table.size; i++) if (!pruned[i]) count++;
    const ids = new Int32Array(count * k);
    const logProbs = new Float32Array(count);
    const logBackoffs = new Float32Array(count);
    const p = probs[k - 1];
    const gamma = k < N ? gammas[k - 1] : null;
    let o = 0;
    for (let i = 0; i < table.size; i++) {
      if (pruned[i]) continue;
      for (let j = 0; j < k; j++) ids[o * k + j] = newId[keys[i * k + j]];
      logProbs[o] = Math.min(0, Math.log10(p[i]));
      const last = keys[i * k + k - 1];
      if (gamma !== null && last !== UNK_ID && last !== EOS_ID) logBackoffs[o] = Math.log10(gamma[i]);
      o++;
    }
    orders.push({ order: k, count, ids, logProbs, logBackoffs });
  }
  return { path: source, words, orders };
}

/** Formats a number the way ARPA files usually hold them: up to 7 significant digits, no "-0". */
function arpaNumber(v: number): string {
  if (v === 0) return "0";
  if (v === -Infinity) return "-99";
  return String(Number(v.toPrecision(7)));
}

/**
 * ARPA text of a model: `\data\` counts, one section per order, a backoff on every n-gram
 * below the top order (lmplz's layout), and `\end\`.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("lm.arpa", formatArpa(estimateKneserNey(counts).arpa));
 * ```
 */
export function formatArpa(data: ArpaData): string {
  const N = data.orders.length;
  const parts: string[] = ["\\data\\\n"];
  for (const o of data.orders) parts.push(`ngram ${o.order}=${o.count}\n`);
  for (const o of data.orders) {
    const k = o.order;
    const lines: string[] = [`\n\\${k}-grams:`];
    for (let i = 0; i < o.count; i++) {
      let line = arpaNumber(o.logProbs[i]) + "\t" + data.words[o.ids[i * k]];
      for (let j = 1; j < k; j++) line += " " + data.words[o.ids[i * k + j]];
      if (k < N) line += "\t" + arpaNumber(o.logBackoffs[i]);
      lines.push(line);
    }
    parts.push(lines.join("\n") + "\n");
  }
  parts.push("\n\\end\\\n");
  return parts.join("");
}
