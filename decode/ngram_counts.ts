/**
 * N-gram counting for LM estimation (decode/kneser_ney.ts): a vocabulary with lmplz's ids
 * (<unk> 0, <s> 1, </s> 2, then words by first appearance), and a hash table of Int32
 * n-gram tuples with counts, in the order they were first seen.
 *
 * Sentences are padded like lmplz (`lm/builder/corpus_count.cc`): order-1 `<s>` before the
 * words and one `</s>` after; every window of `order` tokens ending at a word or at `</s>` is
 * counted once per occurrence. In character mode the tokens are characters and each space
 * becomes CHAR_LM_SPACE.
 *
 * It does not compute adjusted counts or probabilities (decode/kneser_ney.ts).
 *
 * @module
 */
import { CHAR_LM_SPACE } from "./language_model.ts";

/** Ids of the special tokens, as lmplz numbers them. */
export const UNK_ID = 0;
/** Id of `<s>`. */
export const BOS_ID = 1;
/** Id of `</s>`. */
export const EOS_ID = 2;

/**
 * Open-addressing hash table from fixed-length Int32 tuples to a dense index (insertion
 * order), with a Float64 count per entry. Keys live in one flat Int32Array.
 */
export class NGramTable {
  /** Tuple length. */
  readonly order: number;
  #keys: Int32Array;
  #counts: Float64Array;
  #slots: Int32Array; // index + 1, 0 = empty
  #size = 0;

  /** A table of `order`-tuples with room for `capacity` entries before it grows. */
  constructor(order: number, capacity = 1024) {
    this.order = order;
    const cap = Math.max(16, capacity);
    this.#keys = new Int32Array(cap * order);
    this.#counts = new Float64Array(cap);
    let slots = 32;
    while (slots < cap * 2) slots *= 2;
    this.#slots = new Int32Array(slots);
  }

  /** Number of distinct tuples. */
  get size(): number {
    return this.#size;
  }

  /** Flat keys [size * order] (a view; valid until the next insertion). */
  get keys(): Int32Array {
    return this.#keys.subarray(0, this.#size * this.order);
  }

  /** Counts [size] (a view; valid until the next insertion). */
  get counts(): Float64Array {
    return this.#counts.subarray(0, this.#size);
  }

  #hash(src: ArrayLike<number>, off: number): number {
    let h = 0x811c9dc5 | 0;
    for (let j = 0; j < this.order; j++) {
      h = Math.imul(h ^ src[off + j], 0x01000193);
      h ^= h >>> 13;
    }
    return Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  }

  #matches(index: number, src: ArrayLike<number>, off: number): boolean {
    const n = this.order, base = index * n, keys = this.#keys;
    for (let j = 0; j < n; j++) if (keys[base + j] !== src[off + j]) return false;
    return true;
  }

  /** Index of the tuple src[off..off+order), or -1 when absent. */
  find(src: ArrayLike<number>, off = 0): number {
    const mask = this.#slots.length - 1;
    for (let s = this.#hash(src, off) & mask;; s = (s + 1) & mask) {
      const v = this.#slots[s];
      if (v === 0) return -1;
      if (this.#matches(v - 1, src, off)) return v - 1;
    }
  }

  /** Adds `count` to the tuple src[off..off+order) (inserting it); returns its index. */
  add(src: ArrayLike<number>, off: number, count: number): number {
    const mask = this.#slots.length - 1;
    let s = this.#hash(src, off) & mask;
    for (;; s = (s + 1) & mask) {
      const v = this.#slots[s];
      if (v === 0) break;
      if (this.#matches(v - 1, src, off)) {
        this.#counts[v - 1] += count;
        return v - 1;
      }
    }
    const index = this.#size++;
    if (index >= this.#counts.length) this.#growStorage();
    const n = this.order;
    for (let j = 0; j < n; j++) this.#keys[index * n + j] = src[off + j];
    this.#counts[index] = count;
    this.#slots[s] = index + 1;
    if (this.#size * 2 > this.#slots.length) this.#rehash();
    return index;
  }

  #growStorage(): void {
    const keys = new Int32Array(this.#keys.length * 2);
    keys.set(this.#keys);
    this.#keys = keys;
    const counts = new Float64Array(this.#counts.length * 2);
    counts.set(this.#counts);
    this.#counts = counts;
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let i = 0; i < this.#size; i++) {
      let s = this.#hash(this.#keys, i * this.order) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = i + 1;
    }
    this.#slots = slots;
  }
}

/** A counted corpus: vocabulary and the distinct padded windows of the highest order. */
export interface CorpusCounts {
  /** Highest order. */
  readonly order: number;
  /** Vocabulary by id: <unk>, <s>, </s>, then tokens in order of first appearance. */
  readonly vocab: string[];
  /** Occurrences of each id (specials: <s> and <unk> 0, </s> once per sentence). */
  readonly unigramCounts: Float64Array;
  /** Distinct windows of `order` ids (padded with <s>) and their counts. */
  readonly windows: NGramTable;
  /** Number of tokens counted, </s> included. */
  readonly tokenCount: number;
  /** Number of sentences. */
  readonly sentenceCount: number;
}

/** Options of `countNGrams`. */
export interface CountOptions {
  /** Highest n-gram order (≥ 1). */
  order: number;
  /** Count characters (space → CHAR_LM_SPACE) instead of words. */
  isCharacterLevel?: boolean;
  /** Name of the source, for error messages. */
  source?: string;
}

/**
 * Counts the padded n-gram windows of sentences (one per line; whitespace separates words).
 * `<s>`, `</s>` and `<unk>` in the text are an error, as in lmplz.
 *
 * @example
 * ```ts
 * const c = countNGrams(["the cat sat", "the dog"], { order: 3 });
 * c.vocab; // ["<unk>", "<s>", "</s>", "the", "cat", "sat", "dog"]
 * ```
 */
export function countNGrams(lines: Iterable<string>, options: CountOptions): CorpusCounts {
  const order = options.order;
  const source = options.source ?? "<text>";
  if (!Number.isInteger(order) || order < 1) {
    throw new RangeError(`${source}: order must be ≥ 1, got ${order}`);
  }
  const isChar = options.isCharacterLevel ?? false;
  const ids = new Map<string, number>([["<unk>", UNK_ID], ["<s>", BOS_ID], ["</s>", EOS_ID]]);
  const vocab = ["<unk>", "<s>", "</s>"];
  let uni = new Float64Array(1024);
  const windows = new NGramTable(order, 1 << 16);
  let buf = new Int32Array(256);
  let tokenCount = 0, sentenceCount = 0, lineNo = 0;
  for (const line of lines) {
    lineNo++;
    const text = line.trim();
    const tokens = isChar ? charTokens(text, source, lineNo) : (text === "" ? [] : text.split(/\s+/));
    const n = tokens.length;
    if (buf.length < n + order) buf = new Int32Array((n + order) * 2);
    for (let j = 0; j < order - 1; j++) buf[j] = BOS_ID;
    for (let i = 0; i < n; i++) {
      const t = tokens[i];
      let id = ids.get(t);
      if (id === undefined) {
        id = vocab.length;
        ids.set(t, id);
        vocab.push(t);
      } else if (id <= EOS_ID) {
        throw new Error(`${source}:${lineNo}: the text contains the reserved token ${t}`);
      }
      buf[order - 1 + i] = id;
    }
    buf[order - 1 + n] = EOS_ID;
    if (vocab.length > uni.length) {
      const grown = new Float64Array(vocab.length * 2);
      grown.set(uni);
      uni = grown;
    }
    for (let i = 0; i <= n; i++) {
      uni[buf[order - 1 + i]]++;
      windows.add(buf, i, 1);
    }
    tokenCount += n + 1;
    sentenceCount++;
  }
  return {
    order,
    vocab,
    unigramCounts: uni.slice(0, vocab.length),
    windows,
    tokenCount,
    sentenceCount,
  };
}

function charTokens(text: string, source: string, lineNo: number): string[] {
  if (text.includes(CHAR_LM_SPACE)) {
    throw new Error(`${source}:${lineNo}: character mode reserves "${CHAR_LM_SPACE}" as the word boundary`);
  }
  const out: string[] = [];
  for (const ch of text.replace(/\s+/g, " ")) out.push(ch === " " ? CHAR_LM_SPACE : ch);
  return out;
}
