/**
 * Test doubles and references shared by the decoder tests: a hand-written backoff n-gram LM
 * (TableLM), the CTC forward algorithm as an exact reference score, and logit generators.
 */
import type { LanguageModel } from "../../decode/language_model.ts";

/** OpenSeq2Seq's label set: space, a-z, apostrophe; the blank (index 28) is implied. */
export const OS2S_VOCAB: readonly string[] = [" ", ..."abcdefghijklmnopqrstuvwxyz", "'"];

/**
 * A backoff n-gram LM given as ARPA-like tables: `probs["a b"]` = log10 p, `backoffs["a"]`.
 * KenLM semantics: P(w | h) = p(h w) if present, else backoff(h) + P(w | h minus oldest).
 */
export class TableLM implements LanguageModel {
  readonly order: number;
  readonly vocabulary: readonly string[];
  readonly isCharacterBased: boolean;
  readonly bosId: number;
  readonly eosId: number;
  readonly #words: string[];
  readonly #ids = new Map<string, number>();
  readonly #probs: Map<string, number>;
  readonly #backoffs: Map<string, number>;
  /** Every query, for tests that check what the decoder asked. */
  readonly queries: string[][] = [];

  constructor(order: number, probs: Record<string, number>, backoffs: Record<string, number> = {}) {
    this.order = order;
    this.#probs = new Map(Object.entries(probs));
    this.#backoffs = new Map(Object.entries(backoffs));
    const words = new Set<string>(["<unk>", "<s>", "</s>"]);
    for (const k of this.#probs.keys()) for (const w of k.split(" ")) words.add(w);
    this.#words = [...words];
    this.#words.forEach((w, i) => this.#ids.set(w, i));
    this.vocabulary = this.#words.filter((w) => w !== "<unk>" && w !== "<s>" && w !== "</s>");
    this.isCharacterBased = this.vocabulary.every((w) => [...w].length === 1);
    this.bosId = this.#ids.get("<s>")!;
    this.eosId = this.#ids.get("</s>")!;
  }

  wordId(word: string): number {
    const id = this.#ids.get(word);
    return id === undefined || word === "<unk>" ? -1 : id;
  }

  conditionalLogProb(ids: ArrayLike<number>): number {
    const words = Array.from(ids, (i) => (i < 0 ? "<unk>" : this.#words[i]));
    this.queries.push(words);
    return this.#score(words.slice(Math.max(0, words.length - this.order)));
  }

  #score(words: string[]): number {
    const key = words.join(" ");
    const p = this.#probs.get(key);
    if (p !== undefined) return p;
    if (words.length === 1) return this.#probs.get("<unk>") ?? -100;
    const ctx = words.slice(0, -1).join(" ");
    return (this.#backoffs.get(ctx) ?? 0) + this.#score(words.slice(1));
  }

  scoreSentence(words: readonly string[]): number {
    const seq = ["<s>", ...words, "</s>"];
    let total = 0;
    for (let i = 1; i < seq.length; i++) {
      total += this.#score(seq.slice(Math.max(0, i - this.order + 1), i + 1));
    }
    return total;
  }
}

/** log P(labels | logp) by the CTC forward algorithm; logp is [T, V] log-probabilities. */
export function ctcForwardLogProb(
  logp: Float32Array,
  T: number,
  V: number,
  labels: ArrayLike<number>,
  blank: number,
): number {
  const L = labels.length;
  const S = 2 * L + 1;
  const ext = new Int32Array(S);
  for (let s = 0; s < S; s++) ext[s] = s % 2 === 0 ? blank : labels[(s - 1) / 2];
  let alpha = new Float64Array(S).fill(-Infinity);
  alpha[0] = logp[blank];
  if (S > 1) alpha[1] = logp[ext[1]];
  const lse = (a: number, b: number): number =>
    a === -Infinity ? b : b === -Infinity ? a : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
  for (let t = 1; t < T; t++) {
    const next = new Float64Array(S).fill(-Infinity);
    for (let s = 0; s < S; s++) {
      let a = alpha[s];
      if (s >= 1) a = lse(a, alpha[s - 1]);
      if (s >= 2 && ext[s] !== blank && ext[s] !== ext[s - 2]) a = lse(a, alpha[s - 2]);
      next[s] = a + logp[t * V + ext[s]];
    }
    alpha = next;
  }
  return S > 1 ? lse(alpha[S - 1], alpha[S - 2]) : alpha[0];
}

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian-ish random logits: scale × (sum of 3 uniforms − 1.5). */
export function randomLogits(T: number, V: number, scale: number, rand: () => number): Float32Array {
  const out = new Float32Array(T * V);
  for (let i = 0; i < out.length; i++) out[i] = scale * (rand() + rand() + rand() - 1.5);
  return out;
}

/**
 * Peaked logits that spell `text`: each character holds `framesPerChar` frames, a blank frame
 * separates characters (and is required between doubled letters), with `noise` added.
 * Returns the logits and, per character, its first frame.
 */
export function spellLogits(
  text: string,
  options: {
    vocab?: readonly string[];
    framesPerChar?: number;
    noise?: number;
    seed?: number;
    peak?: number;
  } = {},
): { data: Float32Array; T: number; V: number; charFrames: number[] } {
  const vocab = options.vocab ?? OS2S_VOCAB;
  const V = vocab.length + 1;
  const blank = V - 1;
  const fpc = options.framesPerChar ?? 2;
  const peak = options.peak ?? 8;
  const noise = options.noise ?? 0;
  const rand = seededRandom(options.seed ?? 1);
  const seq: number[] = [blank];
  const charFrames: number[] = [];
  for (const ch of text) {
    const l = vocab.indexOf(ch);
    if (l < 0) throw new Error(`spellLogits: no label for ${JSON.stringify(ch)}`);
    charFrames.push(seq.length);
    for (let k = 0; k < fpc; k++) seq.push(l);
    seq.push(blank);
  }
  const T = seq.length;
  const data = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) data[t * V + v] = noise * (rand() - 0.5);
    data[t * V + seq[t]] += peak;
  }
  return { data, T, V, charFrames };
}

/**
 * A plain, obviously-correct prefix beam search without LM (Hannun et al. 2014, in Baidu's
 * form: sum over paths, keep the top `beamWidth` prefixes per frame) over a Map of prefixes.
 * Slow; the reference the typed-array decoder is checked against.
 */
export function referencePrefixBeamSearch(
  logp: Float32Array,
  T: number,
  V: number,
  blank: number,
  beamWidth: number,
): { labels: number[]; score: number }[] {
  const lse = (a: number, b: number): number =>
    a === -Infinity ? b : b === -Infinity ? a : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
  type Entry = { labels: number[]; b: number; nb: number };
  let beam = new Map<string, Entry>([["", { labels: [], b: 0, nb: -Infinity }]]);
  for (let t = 0; t < T; t++) {
    const next = new Map<string, Entry>();
    const get = (labels: number[]): Entry => {
      const key = labels.join(",");
      let e = next.get(key);
      if (e === undefined) next.set(key, e = { labels, b: -Infinity, nb: -Infinity });
      return e;
    };
    for (const p of beam.values()) {
      const score = lse(p.b, p.nb);
      const last = p.labels.length > 0 ? p.labels[p.labels.length - 1] : -1;
      for (let c = 0; c < V; c++) {
        const lp = logp[t * V + c];
        if (c === blank) {
          const e = get(p.labels);
          e.b = lse(e.b, lp + score);
        } else if (c === last) {
          const same = get(p.labels);
          same.nb = lse(same.nb, lp + p.nb);
          if (p.b > -Infinity) {
            const e = get([...p.labels, c]);
            e.nb = lse(e.nb, lp + p.b);
          }
        } else {
          const e = get([...p.labels, c]);
          e.nb = lse(e.nb, lp + score);
        }
      }
    }
    const sorted = [...next.entries()].sort((x, y) => lse(y[1].b, y[1].nb) - lse(x[1].b, x[1].nb));
    beam = new Map(sorted.slice(0, beamWidth));
  }
  return [...beam.values()].map((e) => ({ labels: e.labels, score: lse(e.b, e.nb) }))
    .sort((x, y) => y.score - x.score);
}

/**
 * Acoustic-model-like logits for `text` (the channel of bench/decode_throughput.ts): 2-4
 * frames per character then a blank, a peaked softmax of varying height, and on a fraction
 * `confuseRate` of characters a random confusable label that takes part (often most) of the mass.
 */
export function noisyChannelLogits(
  text: string,
  rand: () => number,
  confuseRate = 0.06,
): { data: Float32Array; T: number; V: number } {
  const V = OS2S_VOCAB.length + 1;
  const blank = V - 1;
  const frames: [number, number][] = [[blank, -1]];
  for (const ch of text) {
    const l = OS2S_VOCAB.indexOf(ch);
    const n = 2 + Math.floor(rand() * 3);
    const confuse = rand() < confuseRate ? Math.floor(rand() * (V - 1)) : -1;
    for (let k = 0; k < n; k++) frames.push([l, confuse]);
    frames.push([blank, -1]);
  }
  const T = frames.length;
  const data = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const row = t * V;
    for (let v = 0; v < V; v++) data[row + v] = 1.5 * (rand() + rand() + rand() - 1.5);
    const peak = 4 + 6 * rand();
    const [label, confuse] = frames[t];
    if (confuse >= 0) {
      const share = rand();
      data[row + label] += peak * (0.4 + 0.6 * share);
      data[row + confuse] += peak * (1 - 0.6 * share);
    } else data[row + label] += peak;
  }
  return { data, T, V };
}
