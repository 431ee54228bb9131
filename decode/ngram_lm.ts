/**
 * The in-memory n-gram LM engine: a reversed (suffix-first) trie held in flat typed arrays
 * over ONE SharedArrayBuffer, so decoding Workers share a single copy (`fromShared`) and the
 * binary file (decode/lm_binary.ts) is that buffer byte for byte.
 *
 * Layout, like KenLM's trie (`lm/search_trie.cc`) but unpacked: the node of n-gram
 * (w1..wk) sits in order k under the node of its suffix (w2..wk), keyed by w1. Per order k:
 *   words[k]:    Uint16 (vocabulary ≤ 65,536) or Uint32 word id w1 of each node, sorted within a parent
 *   probs[k]:    Float32 log10 p (NaN for a "blank": a suffix the ARPA file lacks, inserted as a node)
 *   backoffs[k]: Float32 log10 backoff (orders < N)
 *   children[k]: Uint32 first child index in order k+1, one extra sentinel (orders < N)
 * Order 1 is indexed by word id directly (no words array). Children are found by binary search.
 * One walk from the predicted word leftwards finds the longest matching n-gram; a second walk
 * over the context collects the backoffs of the longer contexts (KenLM's semantics).
 *
 * Header: 16 Uint32 + 6 per order (see HEADER below), then the vocabulary as UTF-8 joined
 * by "\n", then the arrays, each 8-byte aligned. The checksum covers every 32-bit word from
 * HEADER.headerBytes's slot to the end.
 *
 * It does not read files (decode/arpa.ts, decode/lm_binary.ts), quantise, or prune.
 *
 * @module
 */
import type { ArpaData } from "./arpa.ts";
import type { LanguageModel } from "./language_model.ts";

/** Magic of the toolkit's LM binary: ASCII "DCTCNGLM" as two little-endian Uint32. */
export const LM_MAGIC: readonly [number, number] = [0x43544344, 0x4d4c474e];
/** Version of the binary layout this code reads and writes. */
export const LM_VERSION = 1;

/** Uint32 slots of the header. */
export const HEADER = {
  magic0: 0,
  magic1: 1,
  version: 2,
  totalBytes: 3,
  checksum: 4,
  headerBytes: 5,
  order: 6,
  nWords: 7,
  wordBytes: 8,
  bosId: 9,
  eosId: 10,
  unkId: 11,
  flags: 12,
  vocabOffset: 13,
  vocabBytes: 14,
  fixedWords: 16,
  perOrder: 6, // count, wordsOff, probsOff, backoffsOff, childrenOff, reserved
} as const;

const FLAG_CHARACTER_BASED = 1;
const SPECIALS = new Set(["<s>", "</s>", "<unk>"]);

/**
 * Checksum of a laid-out LM: FNV-style mixing of every Uint32 from the headerBytes slot to
 * the end (so the magic, version, size and the checksum itself are excluded). Detects
 * truncation and corruption; it is not cryptographic.
 */
export function lmChecksum(buffer: ArrayBufferLike, totalBytes: number): number {
  const u32 = new Uint32Array(buffer, 0, totalBytes >>> 2);
  let h = 0x811c9dc5 | 0;
  const n = u32.length;
  for (let i = HEADER.headerBytes; i < n; i++) {
    h = Math.imul(h ^ u32[i], 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

type WordArray = Uint16Array | Uint32Array;

interface BuiltOrder {
  words: Uint32Array | null; // null for unigrams
  probs: Float32Array;
  backoffs: Float32Array | null;
  children: Uint32Array | null;
}

interface RawOrder {
  ids: Int32Array;
  probs: Float32Array;
  backoffs: Float32Array;
  count: number;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * An n-gram LM with KenLM's backoff semantics over one SharedArrayBuffer.
 *
 * @example
 * ```ts
 * const lm = NGramLM.fromArpa(parseArpa(text));
 * const again = NGramLM.fromShared(lm.buffer); // in a Worker: views, no copy
 * again.scoreSentence(["hello", "world"]);
 * ```
 */
export class NGramLM implements LanguageModel {
  /** The whole model: header, vocabulary and arrays (identical to the binary file). */
  readonly buffer: SharedArrayBuffer;
  /** Highest n-gram order. */
  readonly order: number;
  /** Every vocabulary entry except <s>, </s>, <unk>. */
  readonly vocabulary: readonly string[];
  /** True when every vocabulary entry (except <s>, </s>, <unk>) is a single character. */
  readonly isCharacterBased: boolean;
  /** Id of `<s>`. */
  readonly bosId: number;
  /** Id of `</s>`. */
  readonly eosId: number;
  /** Id of `<unk>` (added with log10 p = −100 when the ARPA file has none, as KenLM does). */
  readonly unkId: number;
  /** Number of n-grams per order, orders 1..N (blanks included). */
  readonly nGramCounts: readonly number[];

  readonly #nWords: number;
  readonly #ids: Map<string, number>;
  // Index k - 1 holds order k; words[0] is unused (unigrams are indexed by id).
  readonly #words: WordArray[];
  readonly #probs: Float32Array[];
  readonly #backoffs: Float32Array[];
  readonly #children: Uint32Array[];
  readonly #scratch: Int32Array;

  private constructor(buffer: SharedArrayBuffer, source: string) {
    const u32 = new Uint32Array(buffer, 0, Math.min(buffer.byteLength >>> 2, HEADER.fixedWords));
    if (
      buffer.byteLength < HEADER.fixedWords * 4 || u32[HEADER.magic0] !== LM_MAGIC[0] ||
      u32[HEADER.magic1] !== LM_MAGIC[1]
    ) {
      throw new Error(`${source}: buffer is not a deno-ctc n-gram LM (bad magic)`);
    }
    if (u32[HEADER.version] !== LM_VERSION) {
      throw new Error(`${source}: LM layout version ${u32[HEADER.version]}, this code reads ${LM_VERSION}`);
    }
    const total = u32[HEADER.totalBytes];
    if (buffer.byteLength < total) {
      throw new Error(`${source}: LM buffer holds ${buffer.byteLength} bytes but its header says ${total}`);
    }
    checkLayout(buffer, total, source);
    this.buffer = buffer;
    const order = u32[HEADER.order];
    this.order = order;
    const nWords = u32[HEADER.nWords];
    this.#nWords = nWords;
    const wordBytes = u32[HEADER.wordBytes];
    this.bosId = u32[HEADER.bosId];
    this.eosId = u32[HEADER.eosId];
    this.unkId = u32[HEADER.unkId];
    this.isCharacterBased = (u32[HEADER.flags] & FLAG_CHARACTER_BASED) !== 0;
    const head = new Uint32Array(buffer, 0, HEADER.fixedWords + HEADER.perOrder * order);
    // TextDecoder refuses shared memory; the vocabulary is small, so copy just it.
    const vocabBytes = new Uint8Array(head[HEADER.vocabBytes]);
    vocabBytes.set(new Uint8Array(buffer, head[HEADER.vocabOffset], head[HEADER.vocabBytes]));
    const words = new TextDecoder().decode(vocabBytes).split("\n");
    if (words.length !== nWords) {
      throw new Error(`${source}: vocabulary holds ${words.length} words but the header says ${nWords}`);
    }
    this.#ids = new Map();
    for (let i = 0; i < nWords; i++) this.#ids.set(words[i], i);
    this.vocabulary = words.filter((w) => !SPECIALS.has(w));
    this.#words = [];
    this.#probs = [];
    this.#backoffs = [];
    this.#children = [];
    const counts: number[] = [];
    for (let k = 1; k <= order; k++) {
      const s = HEADER.fixedWords + HEADER.perOrder * (k - 1);
      const count = head[s];
      counts.push(count);
      const wordsOff = head[s + 1];
      this.#words.push(
        k === 1
          ? new Uint16Array(0)
          : wordBytes === 2
          ? new Uint16Array(buffer, wordsOff, count)
          : new Uint32Array(buffer, wordsOff, count),
      );
      this.#probs.push(new Float32Array(buffer, head[s + 2], count));
      if (k < order) {
        this.#backoffs.push(new Float32Array(buffer, head[s + 3], count));
        this.#children.push(new Uint32Array(buffer, head[s + 4], count + 1));
      }
    }
    this.nGramCounts = counts;
    this.#scratch = new Int32Array(order);
  }

  /**
   * Views over an existing model buffer (e.g. one posted to a Worker): no parsing, no copying.
   * The layout (offsets, sizes, child ranges) is checked first; `source` (a file name) labels
   * the errors.
   */
  static fromShared(buffer: SharedArrayBuffer, source = "decode/ngram_lm.ts"): NGramLM {
    return new NGramLM(buffer, source);
  }

  /**
   * Builds the trie from parsed ARPA data. Adds `<unk>`, `<s>` or `</s>` with log10 p = −100
   * when missing (as KenLM does) and inserts "blank" nodes for suffixes the file lacks.
   */
  static fromArpa(data: ArpaData): NGramLM {
    const path = data.path;
    const N = data.orders.length;
    if (N === 0) throw new Error(`${path}: an LM needs at least unigrams`);
    if (N > MAX_ORDER) {
      throw new Error(`${path}: ${N}-gram LM exceeds the ${MAX_ORDER} orders this layout holds`);
    }
    const words = data.words.slice();
    const uni = data.orders[0];
    const extra = [...SPECIALS].filter((s) => !words.includes(s));
    const nWords = words.length + extra.length;
    const uniProbs = new Float32Array(nWords);
    uniProbs.set(uni.logProbs);
    const uniBackoffs = new Float32Array(nWords);
    uniBackoffs.set(uni.logBackoffs);
    for (const s of extra) {
      uniProbs[words.length] = -100;
      words.push(s);
    }
    const raw: RawOrder[] = data.orders.map((o) => ({
      ids: o.ids,
      probs: o.logProbs,
      backoffs: o.logBackoffs,
      count: o.count,
    }));
    let built: BuiltOrder[];
    for (;;) {
      const result = buildOrders(path, nWords, uniProbs, uniBackoffs, raw);
      if (Array.isArray(result)) {
        built = result;
        break;
      }
      // Some n-grams lack their suffix: add the suffixes as blanks and rebuild (rare).
      for (const [k, rows] of result.missing) {
        const r = raw[k - 1];
        const ids = new Int32Array((r.count + rows.length) * k);
        ids.set(r.ids.subarray(0, r.count * k));
        const probs = new Float32Array(r.count + rows.length);
        probs.set(r.probs.subarray(0, r.count));
        const backoffs = new Float32Array(r.count + rows.length);
        backoffs.set(r.backoffs.subarray(0, r.count));
        for (let i = 0; i < rows.length; i++) {
          ids.set(rows[i], (r.count + i) * k);
          probs[r.count + i] = NaN;
        }
        raw[k - 1] = { ids, probs, backoffs, count: r.count + rows.length };
      }
    }
    return NGramLM.#layout(words, built);
  }

  static #layout(words: string[], built: BuiltOrder[]): NGramLM {
    const N = built.length;
    const nWords = words.length;
    const wordBytes = nWords <= 65536 ? 2 : 4;
    const vocab = new TextEncoder().encode(words.join("\n"));
    const headerBytes = align8((HEADER.fixedWords + HEADER.perOrder * N) * 4);
    let off = headerBytes;
    const vocabOffset = off;
    off = align8(off + vocab.length);
    const place: number[][] = [];
    for (let k = 1; k <= N; k++) {
      const b = built[k - 1];
      const count = b.probs.length;
      const wordsOff = k === 1 ? 0 : off;
      if (k > 1) off = align8(off + count * wordBytes);
      const probsOff = off;
      off = align8(off + count * 4);
      let backoffsOff = 0, childrenOff = 0;
      if (k < N) {
        backoffsOff = off;
        off = align8(off + count * 4);
        childrenOff = off;
        off = align8(off + (count + 1) * 4);
      }
      place.push([count, wordsOff, probsOff, backoffsOff, childrenOff, 0]);
    }
    if (off > 0xffffffff) {
      throw new Error(`decode/ngram_lm.ts: model of ${off} bytes exceeds the 4 GiB layout limit`);
    }
    const buffer = new SharedArrayBuffer(off);
    const u32 = new Uint32Array(buffer, 0, headerBytes >>> 2);
    u32[HEADER.magic0] = LM_MAGIC[0];
    u32[HEADER.magic1] = LM_MAGIC[1];
    u32[HEADER.version] = LM_VERSION;
    u32[HEADER.totalBytes] = off;
    u32[HEADER.headerBytes] = headerBytes;
    u32[HEADER.order] = N;
    u32[HEADER.nWords] = nWords;
    u32[HEADER.wordBytes] = wordBytes;
    u32[HEADER.bosId] = words.indexOf("<s>");
    u32[HEADER.eosId] = words.indexOf("</s>");
    u32[HEADER.unkId] = words.indexOf("<unk>");
    let isChar = true;
    for (const w of words) if (!SPECIALS.has(w) && [...w].length !== 1) isChar = false;
    u32[HEADER.flags] = isChar ? FLAG_CHARACTER_BASED : 0;
    u32[HEADER.vocabOffset] = vocabOffset;
    u32[HEADER.vocabBytes] = vocab.length;
    new Uint8Array(buffer, vocabOffset, vocab.length).set(vocab);
    for (let k = 1; k <= N; k++) {
      const p = place[k - 1];
      u32.set(p, HEADER.fixedWords + HEADER.perOrder * (k - 1));
      const b = built[k - 1];
      const count = p[0];
      if (k > 1) {
        (wordBytes === 2 ? new Uint16Array(buffer, p[1], count) : new Uint32Array(buffer, p[1], count)).set(
          b.words!,
        );
      }
      new Float32Array(buffer, p[2], count).set(b.probs);
      if (k < N) {
        new Float32Array(buffer, p[3], count).set(b.backoffs!);
        new Uint32Array(buffer, p[4], count + 1).set(b.children!);
      }
    }
    u32[HEADER.checksum] = lmChecksum(buffer, off);
    return new NGramLM(buffer, "decode/ngram_lm.ts");
  }

  /** Bytes of the whole model (header and vocabulary included). */
  get nBytes(): number {
    return this.buffer.byteLength;
  }

  /** Id of a word, or -1 when it is not in the vocabulary. */
  wordId(word: string): number {
    return this.#ids.get(word) ?? -1;
  }

  /**
   * log10 P(ids[n-1] | ids[0..n-1]) with KenLM backoff semantics: the probability of the
   * longest n-gram in the model that ends the sequence, plus the backoffs of every longer
   * context. Only the last order-1 context words count; an id of -1 scores as <unk>.
   */
  conditionalLogProb(ids: ArrayLike<number>): number {
    return this.#score(ids, 0, ids.length);
  }

  /** KenLM's full-sentence score: Σ log10 P over the words followed by </s>, starting from <s>. */
  scoreSentence(words: readonly string[]): number {
    const n = words.length;
    const ids = new Int32Array(n + 2);
    ids[0] = this.bosId;
    for (let i = 0; i < n; i++) ids[i + 1] = this.wordId(words[i]);
    ids[n + 1] = this.eosId;
    let total = 0;
    const N = this.order;
    for (let end = 2; end <= n + 2; end++) total += this.#score(ids, end > N ? end - N : 0, end);
    return total;
  }

  // Scores ids[end-1] given ids[begin..end-1] (oldest first).
  #score(ids: ArrayLike<number>, begin: number, end: number): number {
    if (end <= begin) throw new RangeError("decode/ngram_lm.ts: conditionalLogProb needs at least one id");
    const N = this.order;
    if (end - begin > N) begin = end - N;
    const nWords = this.#nWords;
    const unk = this.unkId;
    // Normalise ids once: unknown (-1 or out of range) becomes <unk>. Reversed: ctx[0] = newest.
    const ctx = this.#scratch;
    const m = end - begin; // words including the predicted one
    for (let j = 0; j < m; j++) {
      const id = ids[end - 1 - j];
      ctx[j] = id >= 0 && id < nWords ? id : unk;
    }
    const probs = this.#probs, backoffs = this.#backoffs, children = this.#children, wordsArr = this.#words;
    let node = ctx[0];
    let prob = probs[0][node];
    let matched = 1;
    for (let depth = 1; depth < m; depth++) {
      const ch = children[depth - 1];
      const found = search(wordsArr[depth], ch[node], ch[node + 1], ctx[depth]);
      if (found < 0) break;
      node = found;
      const p = probs[depth][node];
      if (p === p) { // not a blank
        prob = p;
        matched = depth + 1;
      }
    }
    // Backoffs of the contexts of length L = matched .. m-1 (those longer than the match's).
    if (matched < m) {
      node = ctx[1];
      if (matched <= 1) prob += backoffs[0][node];
      for (let L = 1; L < m - 1; L++) {
        const ch = children[L - 1];
        const found = search(wordsArr[L], ch[node], ch[node + 1], ctx[L + 1]);
        if (found < 0) break;
        node = found;
        if (L + 1 >= matched) prob += backoffs[L][node];
      }
    }
    return prob;
  }
}

/** The most orders a layout may declare: far above any real LM, small enough to bound the header. */
const MAX_ORDER = 64;

/**
 * Checks that every array the header places lies inside the buffer, aligned for its type, and
 * that every child range lies inside the next order, so that views never throw and lookups
 * never read past an array; only then may the constructor build its views. A checksum does not
 * replace this: it only shows the file is the one that was written, not that its writer was right.
 */
function checkLayout(buffer: SharedArrayBuffer, total: number, source: string): void {
  const fail = (what: string): never => {
    throw new Error(`${source}: corrupt LM binary layout: ${what}`);
  };
  const head = new Uint32Array(buffer, 0, HEADER.fixedWords);
  const order = head[HEADER.order];
  if (order < 1 || order > MAX_ORDER) fail(`order ${order} (expected 1..${MAX_ORDER})`);
  const headerBytes = align8((HEADER.fixedWords + HEADER.perOrder * order) * 4);
  if (head[HEADER.headerBytes] !== headerBytes || headerBytes > total) {
    fail(`header size ${head[HEADER.headerBytes]} for order ${order} (expected ${headerBytes})`);
  }
  const nWords = head[HEADER.nWords];
  const wordBytes = head[HEADER.wordBytes];
  if (wordBytes !== (nWords <= 65536 ? 2 : 4)) fail(`${wordBytes}-byte word ids for ${nWords} words`);
  for (const slot of [HEADER.bosId, HEADER.eosId, HEADER.unkId]) {
    if (head[slot] >= nWords) fail(`special word id ${head[slot]} outside the ${nWords} words`);
  }
  const inside = (what: string, off: number, nBytes: number, align: number): void => {
    if (off % align !== 0 || off < headerBytes || off + nBytes > total) {
      fail(`${what} at byte ${off} (${nBytes} bytes) is misaligned or outside ${headerBytes}..${total}`);
    }
  };
  inside("vocabulary", head[HEADER.vocabOffset], head[HEADER.vocabBytes], 1);
  const table = new Uint32Array(buffer, 0, headerBytes >>> 2);
  const countAt = (k: number): number => table[HEADER.fixedWords + HEADER.perOrder * (k - 1)];
  if (countAt(1) !== nWords) fail(`${countAt(1)} unigrams for ${nWords} words`);
  for (let k = 1; k <= order; k++) {
    const s = HEADER.fixedWords + HEADER.perOrder * (k - 1);
    const count = table[s];
    if (k > 1) inside(`${k}-gram words`, table[s + 1], count * wordBytes, wordBytes);
    inside(`${k}-gram probabilities`, table[s + 2], count * 4, 4);
    if (k === order) continue;
    inside(`${k}-gram backoffs`, table[s + 3], count * 4, 4);
    inside(`${k}-gram children`, table[s + 4], (count + 1) * 4, 4);
    const children = new Uint32Array(buffer, table[s + 4], count + 1);
    const nNext = countAt(k + 1);
    if (children[0] !== 0 || children[count] !== nNext) {
      fail(`${k}-gram child ranges span ${children[0]}..${children[count]}, expected 0..${nNext}`);
    }
    for (let i = 0; i < count; i++) {
      if (children[i + 1] < children[i]) fail(`${k}-gram child ranges decrease at node ${i}`);
    }
  }
}

/** Index of `w` in the sorted `words[lo..hi)`, or -1. */
function search(words: WordArray, lo: number, hi: number, w: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = words[mid];
    if (v < w) lo = mid + 1;
    else if (v > w) hi = mid;
    else return mid;
  }
  return -1;
}

/**
 * Sorts every order into the trie. Returns the orders, or the suffixes (per order) that some
 * n-gram needs as a parent but the data lacks.
 */
function buildOrders(
  path: string,
  nWords: number,
  uniProbs: Float32Array,
  uniBackoffs: Float32Array,
  raw: RawOrder[],
): BuiltOrder[] | { missing: Map<number, Int32Array[]> } {
  const N = raw.length;
  const out: BuiltOrder[] = [{
    words: null,
    probs: uniProbs,
    backoffs: N > 1 ? uniBackoffs : null,
    children: null,
  }];
  for (let k = 2; k <= N; k++) {
    const { ids, probs, backoffs, count } = raw[k - 1];
    const parent = new Int32Array(count);
    const missing = new Map<number, Int32Array[]>();
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const base = i * k;
      let node = ids[base + k - 1];
      let d = 1;
      for (; d < k - 1; d++) {
        const o = out[d - 1];
        const found = search(out[d].words!, o.children![node], o.children![node + 1], ids[base + k - 1 - d]);
        if (found < 0) break;
        node = found;
      }
      if (d < k - 1) {
        // The (d+1)-gram ids[base+k-1-d .. base+k-1] is missing.
        const row = ids.slice(base + k - 1 - d, base + k);
        const key = `${d + 1}:${row.join(",")}`;
        if (!seen.has(key)) {
          seen.add(key);
          if (!missing.has(d + 1)) missing.set(d + 1, []);
          missing.get(d + 1)!.push(row);
        }
        continue;
      }
      parent[i] = node;
    }
    if (missing.size > 0) return { missing };
    // Stable counting sort by w1, then by parent: order within a parent is by w1.
    const nParents = out[k - 2].probs.length;
    const first = new Int32Array(count);
    for (let i = 0; i < count; i++) first[i] = ids[i * k];
    const byWord = countingSort(first, nWords, null);
    const starts = new Uint32Array(nParents + 1);
    const perm = countingSort(parent, nParents, byWord, starts);
    out[k - 2].children = starts;
    const words = new Uint32Array(count);
    const p = new Float32Array(count);
    const b = k < N ? new Float32Array(count) : null;
    for (let i = 0; i < count; i++) {
      const src = perm[i];
      words[i] = ids[src * k];
      p[i] = probs[src];
      if (b !== null) b[i] = backoffs[src];
      if (i > 0 && words[i] === words[i - 1] && parent[src] === parent[perm[i - 1]]) {
        const row = Array.from(ids.subarray(src * k, src * k + k));
        throw new Error(`${path}: duplicate ${k}-gram (word ids ${row.join(" ")})`);
      }
    }
    out.push({ words, probs: p, backoffs: b, children: null });
  }
  return out;
}

/**
 * Stable counting sort of items 0..n-1 (visited in `input`'s order when given) by
 * keys[i] in [0, nKeys). When `starts` is given it receives the first output index of each
 * key plus a sentinel: exactly the child ranges of the parent order.
 */
function countingSort(
  keys: Int32Array,
  nKeys: number,
  input: Uint32Array | null,
  starts?: Uint32Array,
): Uint32Array {
  const n = keys.length;
  const counts = new Uint32Array(nKeys + 1);
  for (let i = 0; i < n; i++) counts[keys[i] + 1]++;
  for (let k = 0; k < nKeys; k++) counts[k + 1] += counts[k];
  if (starts) starts.set(counts);
  const out = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const i = input === null ? j : input[j];
    out[counts[keys[i]]++] = i;
  }
  return out;
}
