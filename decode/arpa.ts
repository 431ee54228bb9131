/**
 * ARPA n-gram file reader (plain or gzip, sniffed by the gzip magic bytes, any order) into
 * flat per-order arrays of word ids, log10 probabilities and log10 backoffs, plus
 * `loadArpa()` which turns that into the queryable `NGramLM`.
 *
 * Follows KenLM's reader (`lm/read_arpa.cc`): text before `\data\` is ignored, fields are
 * separated by any whitespace, a missing backoff is 0, every word of a higher-order n-gram
 * must be a unigram. A malformed file (wrong counts, missing sections, non-numeric fields,
 * an n-gram of the wrong order, a missing `\end\`) throws an Error naming the file and line.
 *
 * It does not build the trie (decode/ngram_lm.ts) nor check that probabilities sum to one.
 *
 * @module
 */
import { NGramLM } from "./ngram_lm.ts";

/** The n-grams of one order, in file order. */
export interface ArpaOrder {
  /** n of these n-grams. */
  readonly order: number;
  /** Number of n-grams (the `\data\` count). */
  readonly count: number;
  /** Word ids, `order` per n-gram, oldest word first: [count * order]. */
  readonly ids: Int32Array;
  /** log10 probability per n-gram. */
  readonly logProbs: Float32Array;
  /** log10 backoff per n-gram (0 where the file has none). */
  readonly logBackoffs: Float32Array;
}

/** An ARPA file's content: the unigram words (their index is the word id) and every order. */
export interface ArpaData {
  /** Where it came from, for error messages. */
  readonly path: string;
  /** Unigram words in file order; a word's id is its index here. */
  readonly words: string[];
  /** orders[k - 1] holds the k-grams. */
  readonly orders: ArpaOrder[];
}

type Phase = "preamble" | "data" | "grams" | "end";

// Arrays start at this many n-grams and double; the binary layout counts in Uint32.
const INITIAL_CAPACITY = 1 << 16;
const MAX_COUNT = 0xffffffff;

/** Line-at-a-time ARPA state machine, so the reader can stream chunks of any size. */
class ArpaParser {
  readonly #path: string;
  #phase: Phase = "preamble";
  #counts: number[] = [];
  #orders: ArpaOrder[] = [];
  #words: string[] = [];
  #wordIds = new Map<string, number>();
  #current = 0; // order of the section being read, 0 before the first
  #filled = 0; // n-grams read in the current section
  #lineNo = 0;

  constructor(path: string) {
    this.#path = path;
  }

  #fail(message: string): never {
    throw new Error(`${this.#path}:${this.#lineNo}: ${message}`);
  }

  line(raw: string): void {
    this.#lineNo++;
    const line = raw.trim();
    switch (this.#phase) {
      case "preamble":
        if (line === "\\data\\") this.#phase = "data";
        return;
      case "data":
        return this.#dataLine(line);
      case "grams":
        return this.#gramLine(line);
      case "end":
        if (line !== "") this.#fail(`unexpected text after \\end\\: "${line.slice(0, 40)}"`);
    }
  }

  #dataLine(line: string): void {
    if (line === "") return;
    if (line.startsWith("\\")) return this.#sectionHeader(line);
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(line);
    if (m === null) this.#fail(`expected "ngram N=COUNT" in \\data\\ but found "${line.slice(0, 40)}"`);
    const n = Number(m[1]);
    if (n !== this.#counts.length + 1) {
      this.#fail(`expected "ngram ${this.#counts.length + 1}=..." but found order ${n}`);
    }
    const count = Number(m[2]);
    if (count > MAX_COUNT) {
      this.#fail(`ngram ${n}=${m[2]} exceeds the ${MAX_COUNT} n-grams an order may hold`);
    }
    this.#counts.push(count);
  }

  // Doubles the current section's arrays once they are full (never past the declared count).
  #grow(target: ArpaOrder): ArpaOrder {
    const n = target.order;
    const capacity = Math.min(target.count, Math.max(1, target.logProbs.length * 2));
    const ids = new Int32Array(capacity * n);
    ids.set(target.ids);
    const logProbs = new Float32Array(capacity);
    logProbs.set(target.logProbs);
    const logBackoffs = new Float32Array(capacity);
    logBackoffs.set(target.logBackoffs);
    const grown = { order: n, count: target.count, ids, logProbs, logBackoffs };
    this.#orders[n - 1] = grown;
    return grown;
  }

  #sectionHeader(line: string): void {
    if (line === "\\end\\") {
      if (this.#counts.length === 0) this.#fail("\\end\\ before any n-gram counts in \\data\\");
      if (this.#current !== this.#counts.length) {
        this.#fail(`missing section \\${this.#current + 1}-grams: before \\end\\`);
      }
      this.#phase = "end";
      return;
    }
    const m = /^\\(\d+)-grams:$/.exec(line);
    if (m === null) this.#fail(`expected a section header like \\1-grams: but found "${line.slice(0, 40)}"`);
    const n = Number(m[1]);
    if (this.#counts.length === 0) this.#fail(`\\${n}-grams: section before any "ngram N=COUNT" line`);
    if (n !== this.#current + 1) {
      this.#fail(`expected section \\${this.#current + 1}-grams: but found \\${n}-grams:`);
    }
    if (n > this.#counts.length) {
      this.#fail(`section \\${n}-grams: but \\data\\ declares only ${this.#counts.length} orders`);
    }
    const count = this.#counts[n - 1];
    // The count is only a claim until the lines arrive: start small and grow, so that a corrupt
    // "ngram 1=99999999999" costs nothing before the section proves it wrong.
    const capacity = Math.min(count, INITIAL_CAPACITY);
    this.#orders.push({
      order: n,
      count,
      ids: new Int32Array(capacity * n),
      logProbs: new Float32Array(capacity),
      logBackoffs: new Float32Array(capacity),
    });
    this.#current = n;
    this.#filled = 0;
    this.#phase = "grams";
  }

  #number(field: string, what: string): number {
    const v = field === "-inf" || field === "-Infinity" ? -Infinity : Number(field);
    if (field === "" || Number.isNaN(v)) this.#fail(`non-numeric ${what} "${field.slice(0, 40)}"`);
    return v;
  }

  #gramLine(line: string): void {
    if (line === "") return;
    const n = this.#current;
    let target = this.#orders[n - 1];
    if (line.startsWith("\\")) {
      if (this.#filled !== target.count) {
        this.#fail(`\\data\\ declares ngram ${n}=${target.count} but the section holds ${this.#filled}`);
      }
      this.#phase = "data";
      return this.#sectionHeader(line);
    }
    if (this.#filled === target.count) {
      this.#fail(`more ${n}-grams than the ${target.count} that \\data\\ declares`);
    }
    const fields = line.split(/\s+/);
    const isTop = n === this.#counts.length;
    if (fields.length !== n + 1 && (isTop || fields.length !== n + 2)) {
      this.#fail(
        `a ${n}-gram line needs ${n + 1}${isTop ? "" : ` or ${n + 2}`} fields (log10 p, ${n} words` +
          `${isTop ? "" : ", optional backoff"}) but has ${fields.length}: n-gram of the wrong order?`,
      );
    }
    const i = this.#filled;
    if (i === target.logProbs.length) target = this.#grow(target);
    target.logProbs[i] = this.#number(fields[0], "log10 probability");
    if (fields.length === n + 2) target.logBackoffs[i] = this.#number(fields[n + 1], "log10 backoff");
    if (n === 1) {
      const w = fields[1];
      if (this.#wordIds.has(w)) this.#fail(`duplicate unigram "${w}"`);
      this.#wordIds.set(w, this.#words.length);
      this.#words.push(w);
      target.ids[i] = this.#words.length - 1;
    } else {
      const base = i * n;
      for (let j = 0; j < n; j++) {
        const id = this.#wordIds.get(fields[1 + j]);
        if (id === undefined) this.#fail(`word "${fields[1 + j]}" of a ${n}-gram is not among the unigrams`);
        target.ids[base + j] = id;
      }
    }
    this.#filled++;
  }

  finish(): ArpaData {
    if (this.#phase === "preamble") this.#fail("no \\data\\ header: not an ARPA file");
    if (this.#phase !== "end") {
      const n = this.#current;
      if (this.#phase === "grams" && this.#filled !== this.#orders[n - 1].count) {
        this.#fail(
          `\\data\\ declares ngram ${n}=${this.#orders[n - 1].count} but the section holds ${this.#filled}`,
        );
      }
      if (n < this.#counts.length) this.#fail(`missing section \\${n + 1}-grams: (file ends)`);
      this.#fail("missing \\end\\ (file ends)");
    }
    return { path: this.#path, words: this.#words, orders: this.#orders };
  }
}

/**
 * Parses ARPA text already in memory.
 *
 * @example
 * ```ts
 * const data = parseArpa("\\data\\\nngram 1=1\n\n\\1-grams:\n-1 a\n\n\\end\\\n", "mini.arpa");
 * data.words; // ["a"]
 * ```
 */
export function parseArpa(text: string, path = "<arpa text>"): ArpaData {
  const parser = new ArpaParser(path);
  let start = 0;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) {
      if (start < text.length) parser.line(text.slice(start));
      break;
    }
    parser.line(text.slice(start, nl));
    start = nl + 1;
  }
  return parser.finish();
}

/** Reads an ARPA file, plain or gzip (sniffed by its first two bytes), streaming line by line. */
export async function readArpa(path: string): Promise<ArpaData> {
  const file = await Deno.open(path, { read: true });
  const head = new Uint8Array(2);
  const got = await file.read(head);
  await file.seek(0, Deno.SeekMode.Start);
  let bytes: ReadableStream<Uint8Array> = file.readable;
  if (got === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    bytes = bytes.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  const parser = new ArpaParser(path);
  let rest = "";
  try {
    for await (const chunk of bytes.pipeThrough(new TextDecoderStream())) {
      const text = rest + chunk;
      let start = 0;
      for (;;) {
        const nl = text.indexOf("\n", start);
        if (nl < 0) break;
        parser.line(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(path)) throw e;
    throw new Error(`${path}: could not read ARPA data: ${(e as Error).message}`);
  }
  if (rest.length > 0) parser.line(rest);
  return parser.finish();
}

/**
 * Loads an ARPA file (plain or .gz) as a queryable n-gram LM with KenLM's backoff semantics.
 *
 * @example
 * ```ts
 * const lm = await loadArpa("tests/fixtures/lm/tiny.arpa");
 * lm.scoreSentence(["the", "cat"]); // log10 P(the cat </s> | <s>)
 * ```
 */
export async function loadArpa(path: string): Promise<NGramLM> {
  return NGramLM.fromArpa(await readArpa(path));
}
