/**
 * CTC prefix beam search with n-gram LM fusion, scored like the Baidu decoder that
 * OpenSeq2Seq (`decoders/ctc_beam_search_decoder.cpp`, `scorer.cpp`, `path_trie.cpp`) and
 * NeMo use:
 * - CTC scores are natural logs of the per-frame softmax (inputs are logits by default;
 *   log-probs or probabilities are accepted with `input`).
 * - Word LM: when a prefix is extended by the space label, it gains
 *   alpha·log10 P_LM(word | previous words) + beta; the word and its context come from the
 *   prefix itself, the context padded with one `<s>` as Baidu's `make_ngram` pads it (KenLM is
 *   started from NullContextWrite but fed that `<s>`, so the first word is scored as
 *   P(w | <s>); `bosContext: false` scores it from an empty context instead). An n-gram with a
 *   word outside the LM vocabulary scores OOV_SCORE = −1000 (before alpha). Words are
 *   constrained to LM spellings through a lexicon trie (option `lexicon`), which also forbids
 *   leading and double spaces. The last, unfinished word of each final prefix is scored at
 *   the end (−1000 when it is not a whole word).
 * - Character LM (every LM token is one character): every emitted character gains
 *   alpha·log10 P_LM(char | previous chars) + beta; the space label is scored as the LM token
 *   `CHAR_LM_SPACE` ("|") when the LM has it, and is not scored otherwise.
 * - Pruning: per frame, labels outside the top `cutoffTopN` or beyond cumulative probability
 *   `cutoffProb` are skipped; with an LM, a prefix extension is skipped once
 *   log p(label) + score < worst kept score + log p(blank) − max(0, beta) with a full beam.
 *
 * Deliberate differences from Baidu's code (each named case aside, the two agree):
 * - The returned acoustic score is exact: every path into a prefix carries the same LM terms,
 *   so score − (LM terms of the prefix) is the CTC log-probability the search kept. Baidu's
 *   "approx_ctc" subtracts beta per character and a re-scored sentence instead.
 * - A prefix whose probability would be zero is not created (Baidu creates it with score −∞;
 *   such a prefix can hold a slot, and lower min_cutoff, only while the beam is not yet full).
 * - After a word ends, the next word starts at the lexicon root. Baidu's FST copy resets its
 *   state only after one failed extension (the first character tried after a space is lost once).
 * - `cutoffTopN` always applies (OpenSeq2Seq's copy ignores it when cutoffProb is 1).
 *
 * Word times: each prefix-tree node records the frame where its character was first emitted
 * (the latest frame whose new emissions outweighed all of the node's earlier paths) and the
 * last frame where that character, continuing, was the frame's most likely label. A word starts
 * at its first character's first frame and ends at (its last character's last frame + 1), both
 * times `frameStepSeconds`.
 *
 * Design: the beam is a prefix tree of states held in typed arrays (Baidu's PathTrie), nodes
 * recycled through a free list, children in a dense [node, label] table that also remembers
 * which extensions the lexicon forbids. A prefix that does not exist yet is created only after
 * the frame, and only if its score can reach the beam (the same results as creating it and
 * dropping it). No closures or allocations per frame; one decoder decodes many utterances.
 *
 * Not done: hot-word boosting, neural LMs, streaming (frame-by-frame) decoding.
 *
 * @module
 */
import { asCtcLogits, type CtcLogits, logSoftmaxRows } from "./ctc_logits.ts";
import { CHAR_LM_SPACE, type LanguageModel } from "./language_model.ts";
import { LexiconTrie } from "./prefix_trie.ts";

/** The LM score of an n-gram with an out-of-vocabulary word (Baidu's `OOV_SCORE`, log10). */
export const OOV_SCORE: number = -1000;

/** Options of the beam search. */
export interface CtcBeamSearchOptions {
  /**
   * Label strings: V−1 entries for the non-blank labels in label order (the blank skipped, as
   * in OpenSeq2Seq's vocab.txt), or V entries indexed by label. The label " " is the space.
   */
  vocabulary: readonly string[];
  /** Index of the CTC blank; default V−1. */
  blankIndex?: number;
  /** Prefixes kept per frame; default 128 (OpenSeq2Seq's scripts/decode.py). */
  beamWidth?: number;
  /** Keep labels until their cumulative probability reaches this; default 1 (off). */
  cutoffProb?: number;
  /** Keep at most this many labels per frame; default 40. */
  cutoffTopN?: number;
  /** The n-gram LM, or null/undefined for pure CTC. */
  lm?: LanguageModel | null;
  /** LM weight (on log10 scores); default 0. */
  alpha?: number;
  /** Word (or character) insertion bonus; default 0. */
  beta?: number;
  /** "auto" (default) uses the LM's `isCharacterBased`. */
  lmMode?: "auto" | "word" | "char";
  /** Constrain words to LM spellings (word LM only); default true, as Baidu. */
  lexicon?: boolean;
  /** Condition the first word on `<s>` as Baidu's make_ngram does; default true. */
  bosContext?: boolean;
  /** What the [T, V] input holds; default "logits" (log-softmax is applied per frame). */
  input?: "logits" | "logProbs" | "probs";
  /** Seconds per frame, for word times; default 0.02. */
  frameStepSeconds?: number;
  /** Hypotheses returned; default beamWidth. */
  nBest?: number;
}

/** A word with its time span. */
export interface WordTiming {
  /** The word's text. */
  word: string;
  /** First frame of its first character. */
  startFrame: number;
  /** One past the last frame of its last character. */
  endFrame: number;
  /** startFrame × frameStepSeconds. */
  startSeconds: number;
  /** endFrame × frameStepSeconds. */
  endSeconds: number;
}

/** One entry of the n-best list. */
export interface CtcHypothesis {
  /** The transcript. */
  text: string;
  /** Emitted label ids. */
  labels: Int32Array;
  /** The search score: acoustic + alpha·lmLog10 + beta·lmTokens (natural-log units). */
  score: number;
  /** The CTC log-probability (natural log) of this prefix over the paths the search kept. */
  acousticScore: number;
  /** Σ log10 P_LM over the scored words or characters (unweighted; OOVs count −1000). */
  lmLog10: number;
  /** Number of LM-scored words or characters (each earned one beta). */
  lmTokens: number;
  /** Words with start and end times. */
  words: WordTiming[];
}

const NEG_INF = -Infinity;
// exists[] marker of a node on the free list (0 = gone from the beam, 1 = in it).
const FREED = 2;
// Gone nodes are freed in one sweep once this many have queued up.
const SWEEP_AFTER = 1 << 14;

function logSumExp(a: number, b: number): number {
  if (a === NEG_INF) return b;
  if (b === NEG_INF) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

// Lexicons by LM and label map: one-shot `ctcBeamSearch` calls and new decoders over an LM
// already seen reuse its trie instead of rebuilding it (200k words take a second each time).
const lexiconCache = new WeakMap<LanguageModel, Map<string, LexiconTrie>>();

/** The lexicon trie of `lm` over the labels `labelOf` maps characters to, built once per pair. */
function cachedLexicon(lm: LanguageModel, labelOf: ReadonlyMap<string, number>): LexiconTrie {
  let byLabels = lexiconCache.get(lm);
  if (!byLabels) lexiconCache.set(lm, byLabels = new Map());
  const key = JSON.stringify([...labelOf]);
  let trie = byLabels.get(key);
  if (!trie) {
    const words = lm.vocabulary;
    const ids = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) ids[i] = lm.wordId(words[i]);
    trie = LexiconTrie.build(words, ids, (ch) => labelOf.get(ch) ?? -1);
    byLabels.set(key, trie);
  }
  return trie;
}

/**
 * A reusable beam-search decoder: prepares label maps and the lexicon once, then decodes any
 * number of utterances (serially; use one per Worker).
 *
 * @example
 * ```ts
 * import { CtcBeamSearchDecoder } from "./beam_search.ts";
 * const dec = new CtcBeamSearchDecoder({ vocabulary: ["a", "b"], beamWidth: 8 });
 * // 2 frames over [a, b, blank]
 * const best = dec.decode({ data: new Float32Array([3, 0, 0, 0, 3, 0]), T: 2, V: 3 })[0];
 * best.text; // "ab"
 * ```
 */
export class CtcBeamSearchDecoder {
  /** LM weight; may be changed between decodes (grid search). */
  alpha: number;
  /** Insertion bonus; may be changed between decodes. */
  beta: number;
  readonly #vocab: readonly string[];
  readonly #blankOption: number | undefined;
  readonly #beamWidth: number;
  readonly #cutoffProb: number;
  readonly #cutoffTopN: number;
  readonly #lm: LanguageModel | null;
  readonly #charMode: boolean;
  readonly #useLexicon: boolean;
  readonly #bosContext: boolean;
  readonly #input: "logits" | "logProbs" | "probs";
  readonly #step: number;
  readonly #nBest: number;
  readonly #ctxLen: number;
  // Per-V preparation, redone when V or the blank changes.
  #V = -1;
  #blank = -1;
  #space = -1;
  #labelText: string[] = [];
  #charTok = new Int32Array(0); // label -> LM id (char mode), -1 OOV, -2 unscored
  #lexicon: LexiconTrie | null = null;
  // LM n-gram buffer and its views by length (no allocation per query).
  #ngram = new Int32Array(1);
  #ngramViews: Int32Array[] = [];

  // Node pool (struct of arrays).
  #cap = 0;
  #parent = new Int32Array(0);
  #char = new Int32Array(0);
  // Children as a dense [node, label] table: a child id, -1 none yet, -2 forbidden by the lexicon.
  #kids = new Int32Array(0);
  #nKids = new Int32Array(0);
  #exists = new Uint8Array(0);
  #dict = new Int32Array(0);
  #startFrame = new Int32Array(0);
  #endFrame = new Int32Array(0);
  #nCtx = new Int32Array(0);
  #ctx = new Int32Array(0);
  #lmTokens = new Int32Array(0);
  #bPrev = new Float64Array(0);
  #nbPrev = new Float64Array(0);
  #bCur = new Float64Array(0);
  #nbCur = new Float64Array(0);
  #score = new Float64Array(0);
  #lmStep = new Float64Array(0);
  #lmTerms = new Float64Array(0);
  #lmLog10 = new Float64Array(0);
  #nUsed = 0;
  #freeList: number[] = [];
  #zombies: number[] = [];
  #listed = new Uint8Array(0);
  // Per-frame scratch.
  #beam = new Int32Array(0);
  #cand = new Int32Array(0);
  #labelOrder = new Int32Array(0);
  #labelLogP = new Float64Array(0);
  // Extensions to prefixes that do not exist yet, decided after each frame.
  #pendParent = new Int32Array(0);
  #pendLabel = new Int32Array(0);
  #pendLogP = new Float64Array(0);
  // What #extend found for each pending extension.
  #pendDict = new Int32Array(0);
  #pendTok = new Int32Array(0);
  #pendLmLog = new Float64Array(0);
  #pendStep = new Float64Array(0);
  // The selection of the next beam: existing nodes (ref >= 0) and pending slots (ref = -1 - k).
  #selScore = new Float64Array(0);
  #selChar = new Int32Array(0);
  #selRef = new Int32Array(0);
  #selIdx = new Int32Array(0);
  // Labels whose extension may earn LM terms, and the most those terms can add.
  #mayScore = new Uint8Array(0);
  #lmBound = 0;

  /** A decoder with `options`' settings and defaults; a RangeError unless beamWidth is a positive integer. */
  constructor(options: CtcBeamSearchOptions) {
    this.#vocab = options.vocabulary;
    this.#blankOption = options.blankIndex;
    this.#beamWidth = options.beamWidth ?? 128;
    if (!Number.isInteger(this.#beamWidth) || this.#beamWidth < 1) {
      throw new RangeError(
        `decode/beam_search.ts: beamWidth must be a positive integer, got ${options.beamWidth}`,
      );
    }
    this.#cutoffProb = options.cutoffProb ?? 1;
    this.#cutoffTopN = options.cutoffTopN ?? 40;
    this.#lm = options.lm ?? null;
    this.alpha = options.alpha ?? 0;
    this.beta = options.beta ?? 0;
    const mode = options.lmMode ?? "auto";
    this.#charMode = this.#lm !== null && (mode === "char" || (mode === "auto" && this.#lm.isCharacterBased));
    this.#useLexicon = options.lexicon ?? true;
    this.#bosContext = options.bosContext ?? true;
    this.#input = options.input ?? "logits";
    this.#step = options.frameStepSeconds ?? 0.02;
    this.#nBest = options.nBest ?? this.#beamWidth;
    this.#ctxLen = this.#lm === null ? 0 : Math.max(0, this.#lm.order - 1);
    this.#beam = new Int32Array(this.#beamWidth);
  }

  /** True when the LM is used as a character LM. */
  get isCharacterMode(): boolean {
    return this.#charMode;
  }

  #prepare(V: number): void {
    const blank = this.#blankOption ?? V - 1;
    if (V === this.#V && blank === this.#blank) return;
    if (!Number.isInteger(blank) || blank < 0 || blank >= V) {
      throw new RangeError(`decode/beam_search.ts: blank index ${blank} is outside 0..${V - 1}`);
    }
    const vocab = this.#vocab;
    if (vocab.length !== V - 1 && vocab.length !== V) {
      throw new RangeError(
        `decode/beam_search.ts: the logits have ${V} labels but the vocabulary has ${vocab.length} entries (want ${
          V - 1
        } without the blank, or ${V})`,
      );
    }
    if (V !== this.#V) {
      // The child table's width is V: start the node pool afresh.
      this.#nUsed = 0;
      this.#kids = new Int32Array(this.#cap * V);
    }
    this.#V = V;
    this.#blank = blank;
    this.#labelText = [];
    this.#space = -1;
    for (let l = 0; l < V; l++) {
      const text = l === blank ? "" : vocab[vocab.length === V ? l : l > blank ? l - 1 : l];
      this.#labelText.push(text);
      if (text === " " && this.#space < 0) this.#space = l;
    }
    this.#labelOrder = new Int32Array(V);
    this.#labelLogP = new Float64Array(V);
    this.#cand = new Int32Array(this.#beamWidth * (V + 1));
    this.#pendParent = new Int32Array(this.#beamWidth * V);
    this.#pendLabel = new Int32Array(this.#beamWidth * V);
    this.#pendLogP = new Float64Array(this.#beamWidth * V);
    this.#pendDict = new Int32Array(this.#beamWidth * V);
    this.#pendTok = new Int32Array(this.#beamWidth * V);
    this.#pendLmLog = new Float64Array(this.#beamWidth * V);
    this.#pendStep = new Float64Array(this.#beamWidth * V);
    this.#selScore = new Float64Array(this.#beamWidth * (V + 1));
    this.#selChar = new Int32Array(this.#beamWidth * (V + 1));
    this.#selRef = new Int32Array(this.#beamWidth * (V + 1));
    this.#selIdx = new Int32Array(this.#beamWidth * (V + 1));
    this.#mayScore = new Uint8Array(V);
    const lm = this.#lm;
    this.#lexicon = null;
    if (lm !== null) {
      this.#ngram = new Int32Array(lm.order + 1);
      this.#ngramViews = [];
      for (let k = 0; k <= lm.order + 1; k++) this.#ngramViews.push(this.#ngram.subarray(0, k));
      if (this.#charMode) {
        this.#charTok = new Int32Array(V);
        for (let l = 0; l < V; l++) {
          if (l === blank) this.#charTok[l] = -2;
          else if (l === this.#space) {
            const id = lm.wordId(CHAR_LM_SPACE);
            this.#charTok[l] = id >= 0 ? id : -2;
          } else this.#charTok[l] = lm.wordId(this.#labelText[l]);
          this.#mayScore[l] = this.#charTok[l] === -2 ? 0 : 1;
        }
      } else {
        const labelOf = new Map<string, number>();
        for (let l = 0; l < V; l++) {
          if (l !== blank && l !== this.#space && !labelOf.has(this.#labelText[l])) {
            labelOf.set(this.#labelText[l], l);
          }
        }
        this.#lexicon = cachedLexicon(lm, labelOf);
        if (this.#space >= 0) this.#mayScore[this.#space] = 1;
      }
    }
  }

  #grow(): void {
    const cap = Math.max(1024, this.#cap * 2);
    const i32 = (a: Int32Array, w = 1): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap * w);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.#parent = i32(this.#parent);
    this.#char = i32(this.#char);
    this.#kids = i32(this.#kids, this.#V);
    this.#nKids = i32(this.#nKids);
    const ex = new Uint8Array(cap);
    ex.set(this.#exists);
    this.#exists = ex;
    const li = new Uint8Array(cap);
    li.set(this.#listed);
    this.#listed = li;
    this.#dict = i32(this.#dict);
    this.#startFrame = i32(this.#startFrame);
    this.#endFrame = i32(this.#endFrame);
    this.#nCtx = i32(this.#nCtx);
    this.#ctx = i32(this.#ctx, Math.max(1, this.#ctxLen));
    this.#lmTokens = i32(this.#lmTokens);
    this.#bPrev = f64(this.#bPrev);
    this.#nbPrev = f64(this.#nbPrev);
    this.#bCur = f64(this.#bCur);
    this.#nbCur = f64(this.#nbCur);
    this.#score = f64(this.#score);
    this.#lmStep = f64(this.#lmStep);
    this.#lmTerms = f64(this.#lmTerms);
    this.#lmLog10 = f64(this.#lmLog10);
    this.#cap = cap;
  }

  #alloc(): number {
    let n: number;
    if (this.#freeList.length > 0) n = this.#freeList.pop()!;
    else {
      if (this.#nUsed === this.#cap) this.#grow();
      n = this.#nUsed++;
    }
    const V = this.#V;
    this.#kids.fill(-1, n * V, n * V + V);
    this.#nKids[n] = 0;
    this.#listed[n] = 0;
    return n;
  }

  #activate(n: number, t: number): void {
    this.#exists[n] = 1;
    this.#bPrev[n] = NEG_INF;
    this.#nbPrev[n] = NEG_INF;
    this.#bCur[n] = NEG_INF;
    this.#nbCur[n] = NEG_INF;
    this.#score[n] = NEG_INF;
    this.#startFrame[n] = t;
    this.#endFrame[n] = t;
  }

  /** log10 P(tok | context of node p), or OOV_SCORE when any id involved is unknown. */
  #lmScore(p: number, tok: number): number {
    const lm = this.#lm!;
    if (tok < 0) return OOV_SCORE;
    const k = this.#nCtx[p];
    const base = p * this.#ctxLen;
    const ng = this.#ngram;
    let len = 0;
    if (k < this.#ctxLen && this.#bosContext) ng[len++] = lm.bosId;
    for (let i = 0; i < k; i++) {
      const id = this.#ctx[base + i];
      if (id < 0) return OOV_SCORE;
      ng[len++] = id;
    }
    ng[len++] = tok;
    return lm.conditionalLogProb(this.#ngramViews[len]);
  }

  /** Writes the context of `q` = context of `p` followed by `tok` (keeping ctxLen newest). */
  #pushContext(q: number, p: number, tok: number): void {
    const L = this.#ctxLen;
    if (L === 0) return;
    const k = this.#nCtx[p];
    const src = p * L;
    const dst = q * L;
    const ctx = this.#ctx;
    if (k < L) {
      for (let i = 0; i < k; i++) ctx[dst + i] = ctx[src + i];
      ctx[dst + k] = tok;
      this.#nCtx[q] = k + 1;
    } else {
      for (let i = 1; i < L; i++) ctx[dst + i - 1] = ctx[src + i];
      ctx[dst + L - 1] = tok;
      this.#nCtx[q] = L;
    }
  }

  #copyContext(q: number, p: number): void {
    const L = this.#ctxLen;
    const k = this.#nCtx[p];
    for (let i = 0; i < k; i++) this.#ctx[q * L + i] = this.#ctx[p * L + i];
    this.#nCtx[q] = k;
  }

  /**
   * Decides whether p may be extended by label c (the lexicon) and what the extension earns
   * from the LM, into slot k of the pending arrays. Returns false, and remembers the refusal in
   * the child table, when the lexicon forbids the extension.
   */
  #extend(p: number, c: number, k: number): boolean {
    const lm = this.#lm;
    let dict = -1;
    let lmLog = 0;
    let scored = false;
    let wordTok = -1;
    if (lm !== null && !this.#charMode) {
      const lex = this.#lexicon!;
      const d = this.#dict[p];
      if (c === this.#space) {
        // A word ends: it must be a whole word (or any non-empty string without the lexicon).
        if (p === 0 || this.#char[p] === this.#space) {
          this.#kids[p * this.#V + c] = -2;
          return false;
        }
        wordTok = d >= 0 ? lex.wordId[d] : -1;
        if (this.#useLexicon && wordTok < 0) {
          this.#kids[p * this.#V + c] = -2;
          return false;
        }
        dict = 0;
        scored = true;
      } else {
        dict = d >= 0 ? lex.child(d, c) : -1;
        if (this.#useLexicon && dict < 0) {
          this.#kids[p * this.#V + c] = -2;
          return false;
        }
      }
    } else if (lm !== null) {
      wordTok = this.#charTok[c];
      scored = wordTok !== -2;
    }
    if (scored) lmLog = this.#lmScore(p, wordTok);
    this.#pendDict[k] = dict;
    this.#pendTok[k] = scored ? wordTok : -3;
    this.#pendLmLog[k] = lmLog;
    this.#pendStep[k] = scored ? this.alpha * lmLog + this.beta : 0;
    return true;
  }

  /** Creates the child of p along c from pending slot k (filled by #extend). */
  #create(p: number, c: number, k: number, t: number): number {
    const q = this.#alloc();
    const lmStep = this.#pendStep[k];
    const tok = this.#pendTok[k];
    const scored = tok !== -3;
    this.#parent[q] = p;
    this.#char[q] = c;
    this.#kids[p * this.#V + c] = q;
    this.#nKids[p]++;
    this.#dict[q] = this.#pendDict[k];
    this.#exists[q] = 0;
    this.#lmStep[q] = lmStep;
    this.#lmTerms[q] = this.#lmTerms[p] + lmStep;
    this.#lmLog10[q] = this.#lmLog10[p] + this.#pendLmLog[k];
    this.#lmTokens[q] = this.#lmTokens[p] + (scored ? 1 : 0);
    if (scored) this.#pushContext(q, p, tok);
    else if (this.#ctxLen > 0) this.#copyContext(q, p);
    this.#startFrame[q] = t;
    this.#endFrame[q] = t;
    return q;
  }

  /**
   * Baidu's PathTrie::remove, made lazy: the node leaves the beam now and its memory is freed
   * by the next sweep, so removal costs O(1) per node. A returning node starts from zero
   * (#activate), so results are the same as with eager freeing.
   */
  #remove(n: number): void {
    this.#exists[n] = 0;
    if (this.#listed[n] === 0) {
      this.#listed[n] = 1;
      this.#zombies.push(n);
    }
  }

  /** Frees every gone leaf, then its gone ancestors left without children. */
  #sweep(): void {
    const z = this.#zombies;
    for (let i = 0; i < z.length; i++) {
      let m = z[i];
      this.#listed[m] = 0;
      while (m > 0 && this.#nKids[m] === 0 && this.#exists[m] === 0) {
        const p = this.#parent[m];
        this.#kids[p * this.#V + this.#char[m]] = -1;
        this.#nKids[p]--;
        this.#exists[m] = FREED;
        this.#freeList.push(m);
        m = p;
      }
    }
    z.length = 0;
  }

  /** Score descending, then label ascending (Baidu's prefix_compare), then node id. */
  #better(a: number, b: number): boolean {
    const sa = this.#score[a];
    const sb = this.#score[b];
    if (sa !== sb) return sa > sb;
    const ca = this.#char[a];
    const cb = this.#char[b];
    if (ca !== cb) return ca < cb;
    return a < b;
  }

  /** #better over selection entries: existing nodes by id first, then pending by slot. */
  #betterSel(a: number, b: number): boolean {
    const sa = this.#selScore[a];
    const sb = this.#selScore[b];
    if (sa !== sb) return sa > sb;
    const ca = this.#selChar[a];
    const cb = this.#selChar[b];
    if (ca !== cb) return ca < cb;
    const ra = this.#selRef[a];
    const rb = this.#selRef[b];
    if ((ra >= 0) !== (rb >= 0)) return ra >= 0;
    return ra >= 0 ? ra < rb : ra > rb;
  }

  /** Moves the k best selection entries of arr[0..n) to arr[0..k) (unordered); quickselect. */
  #selectTop(arr: Int32Array, n: number, k: number): void {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const pivot = arr[mid];
      arr[mid] = arr[hi];
      arr[hi] = pivot;
      let store = lo;
      for (let i = lo; i < hi; i++) {
        const x = arr[i];
        if (this.#betterSel(x, pivot)) {
          arr[i] = arr[store];
          arr[store] = x;
          store++;
        }
      }
      arr[hi] = arr[store];
      arr[store] = pivot;
      if (store === k - 1 || store === k) return;
      if (store < k) lo = store + 1;
      else hi = store - 1;
    }
  }

  #sortTop(arr: Int32Array, n: number): void {
    for (let i = 1; i < n; i++) {
      const x = arr[i];
      let j = i - 1;
      while (j >= 0 && this.#better(x, arr[j])) {
        arr[j + 1] = arr[j];
        j--;
      }
      arr[j + 1] = x;
    }
  }

  /**
   * Decodes one utterance into an n-best list, best first.
   *
   * @example
   * ```ts
   * import { CtcBeamSearchDecoder } from "./beam_search.ts";
   * const dec = new CtcBeamSearchDecoder({ vocabulary: [" ", "a"], beamWidth: 4 });
   * dec.decode(new Float32Array([0, 4, 0]), 1)[0].text; // "a"
   * ```
   */
  decode(logits: Float32Array | CtcLogits, nFrames?: number): CtcHypothesis[] {
    const view = asCtcLogits(logits, nFrames);
    const { T, V } = view;
    if (T === 0) {
      return [{
        text: "",
        labels: new Int32Array(0),
        score: 0,
        acousticScore: 0,
        lmLog10: 0,
        lmTokens: 0,
        words: [],
      }];
    }
    this.#prepare(V);
    const logp = this.#input === "logits"
      ? logSoftmaxRows(view)
      : this.#input === "logProbs"
      ? view.data
      : logOf(view);
    // Reset the pool: node 0 is the root.
    this.#nUsed = 0;
    this.#freeList.length = 0;
    this.#zombies.length = 0;
    const root = this.#alloc();
    this.#activate(root, 0);
    this.#parent[root] = -1;
    this.#char[root] = -1;
    this.#dict[root] = 0;
    this.#nCtx[root] = 0;
    this.#lmStep[root] = 0;
    this.#lmTerms[root] = 0;
    this.#lmLog10[root] = 0;
    this.#lmTokens[root] = 0;
    this.#score[root] = 0;
    this.#bPrev[root] = 0;

    const beamWidth = this.#beamWidth;
    const blank = this.#blank;
    // LM terms are alpha·log10 p + beta with log10 p <= 0, so at most max(0, beta) when alpha >= 0.
    this.#lmBound = this.alpha >= 0 ? Math.max(0, this.beta) : Infinity;
    const hasLm = this.#lm !== null;
    const order = this.#labelOrder;
    const lpl = this.#labelLogP;
    const prune = this.#cutoffProb < 1 || this.#cutoffTopN < V;
    let beam = this.#beam;
    let nBeam = 1;
    beam[0] = root;

    for (let t = 0; t < T; t++) {
      const row = t * V;
      // Labels to try this frame: all in index order, or sorted by probability and cut.
      let nLabels = V;
      for (let v = 0; v < V; v++) {
        order[v] = v;
        lpl[v] = logp[row + v];
      }
      if (prune) {
        for (let i = 1; i < V; i++) {
          const x = order[i];
          let j = i - 1;
          while (j >= 0 && lpl[order[j]] < lpl[x]) {
            order[j + 1] = order[j];
            j--;
          }
          order[j + 1] = x;
        }
        nLabels = 0;
        let cum = 0;
        const topN = Math.min(this.#cutoffTopN, V);
        while (nLabels < topN) {
          cum += Math.exp(lpl[order[nLabels]]);
          nLabels++;
          if (this.#cutoffProb < 1 && cum >= this.#cutoffProb) break;
        }
      }
      const lpBlank = lpl[blank];
      let top = 0;
      for (let v = 1; v < V; v++) if (lpl[v] > lpl[top]) top = v;
      let minCutoff = NEG_INF;
      let fullBeam = false;
      if (hasLm) {
        this.#sortTop(beam, nBeam);
        minCutoff = this.#score[beam[nBeam - 1]] + lpBlank - Math.max(0, this.beta);
        fullBeam = nBeam === beamWidth;
      }
      // Candidates for the next beam: the current beam plus prefixes that come into being now.
      const cand = this.#cand;
      let nCand = 0;
      let nPend = 0;
      for (let i = 0; i < nBeam; i++) cand[nCand++] = beam[i];

      for (let li = 0; li < nLabels; li++) {
        const c = order[li];
        const lpc = lpl[c];
        for (let i = 0; i < nBeam; i++) {
          const p = beam[i];
          const sp = this.#score[p];
          if (fullBeam && lpc + sp < minCutoff) break;
          if (c === blank) {
            this.#bCur[p] = logSumExp(this.#bCur[p], lpc + sp);
            continue;
          }
          const same = c === this.#char[p];
          let lp: number;
          if (same) {
            this.#nbCur[p] = logSumExp(this.#nbCur[p], lpc + this.#nbPrev[p]);
            if (c === top) this.#endFrame[p] = t;
            const bp = this.#bPrev[p];
            if (bp === NEG_INF) continue;
            lp = lpc + bp;
          } else {
            lp = lpc + sp;
            if (lp === NEG_INF) continue; // a zero probability (probs input) creates nothing
          }
          const known = this.#kids[p * V + c];
          if (known === -2) continue; // the lexicon forbids it
          if (known === -1) {
            // A prefix that does not exist yet gets exactly one contribution this frame (its
            // parent is unique), so it is created after the frame only if it can make the beam.
            this.#pendParent[nPend] = p;
            this.#pendLabel[nPend] = c;
            this.#pendLogP[nPend++] = lp;
            continue;
          }
          const q = known;
          if (this.#exists[q] === 0) {
            this.#activate(q, t);
            // cand holds beamWidth·V entries: the beam plus at most V−1 new children each.
            cand[nCand++] = q;
          }
          const v = lp + this.#lmStep[q];
          // A node's character counts as emitted at t when paths emitting it now outweigh
          // all the paths it had before (so a node created early with a tiny probability
          // takes the time of its real onset).
          if (v > this.#score[q]) {
            this.#startFrame[q] = t;
            this.#endFrame[q] = t;
          }
          this.#nbCur[q] = logSumExp(this.#nbCur[q], v);
        }
      }
      const cands = cand;
      for (let i = 0; i < nCand; i++) {
        const n = cands[i];
        const b = this.#bCur[n];
        const nb = this.#nbCur[n];
        this.#bPrev[n] = b;
        this.#nbPrev[n] = nb;
        this.#bCur[n] = NEG_INF;
        this.#nbCur[n] = NEG_INF;
        this.#score[n] = logSumExp(b, nb);
      }
      // Next beam: the best beamWidth of the existing candidates and the pending extensions.
      // A pending extension has exactly one contribution this frame (its parent is unique), so
      // its score is known before it exists; only those that make the beam are created (Baidu
      // creates them all and removes most at once: the result is the same). With a full beam the
      // worst beam prefix's new score bounds the last place from below, which skips most LM
      // queries and lexicon lookups.
      let floor = NEG_INF;
      if (nBeam === beamWidth) {
        floor = Infinity;
        for (let i = 0; i < nBeam; i++) if (this.#score[beam[i]] < floor) floor = this.#score[beam[i]];
      }
      const selScore = this.#selScore;
      const selChar = this.#selChar;
      const selRef = this.#selRef;
      let nSel = 0;
      for (let i = 0; i < nCand; i++) {
        const n = cands[i];
        selScore[nSel] = this.#score[n];
        selChar[nSel] = this.#char[n];
        selRef[nSel++] = n;
      }
      for (let k = 0; k < nPend; k++) {
        const c = this.#pendLabel[k];
        const lp = this.#pendLogP[k];
        if (lp + (this.#mayScore[c] === 1 ? this.#lmBound : 0) < floor) continue;
        if (!this.#extend(this.#pendParent[k], c, k)) continue;
        const v = lp + this.#pendStep[k];
        if (v < floor) continue;
        selScore[nSel] = v;
        selChar[nSel] = c;
        selRef[nSel++] = -1 - k;
      }
      const sel = this.#selIdx;
      for (let i = 0; i < nSel; i++) sel[i] = i;
      const nKeep = nSel > beamWidth ? beamWidth : nSel;
      if (nSel > beamWidth) this.#selectTop(sel, nSel, beamWidth);
      nCand = 0;
      for (let i = 0; i < nKeep; i++) {
        const ref = selRef[sel[i]];
        if (ref >= 0) {
          cands[nCand++] = ref;
          continue;
        }
        const k = -1 - ref;
        const c = this.#pendLabel[k];
        const q = this.#create(this.#pendParent[k], c, k, t);
        this.#activate(q, t);
        const v = selScore[sel[i]];
        this.#nbPrev[q] = v;
        this.#score[q] = v;
        cands[nCand++] = q;
      }
      for (let i = nKeep; i < nSel; i++) {
        const ref = selRef[sel[i]];
        if (ref >= 0) this.#remove(ref);
      }
      if (this.#zombies.length > SWEEP_AFTER) this.#sweep();
      if (beam.length < nCand) beam = this.#beam = new Int32Array(nCand);
      for (let i = 0; i < nCand; i++) beam[i] = cands[i];
      nBeam = nCand;
    }
    return this.#finish(beam, nBeam);
  }

  #finish(beam: Int32Array, nBeam: number): CtcHypothesis[] {
    // Final scores: word LM scores the unfinished last word of each prefix.
    const finalScore = new Float64Array(nBeam);
    const endLog = new Float64Array(nBeam);
    const endTok = new Int32Array(nBeam);
    const idx: number[] = [];
    for (let i = 0; i < nBeam; i++) {
      const p = beam[i];
      finalScore[i] = this.#score[p];
      if (this.#lm !== null && !this.#charMode && p !== 0 && this.#char[p] !== this.#space) {
        const d = this.#dict[p];
        const tok = d >= 0 ? this.#lexicon!.wordId[d] : -1;
        const lg = this.#lmScore(p, tok);
        endLog[i] = lg;
        endTok[i] = 1;
        finalScore[i] += this.alpha * lg + this.beta;
      }
      idx.push(i);
    }
    idx.sort((a, b) => {
      if (finalScore[a] !== finalScore[b]) return finalScore[b] - finalScore[a];
      const ca = this.#char[beam[a]];
      const cb = this.#char[beam[b]];
      if (ca !== cb) return ca - cb;
      return beam[a] - beam[b];
    });
    const out: CtcHypothesis[] = [];
    const n = Math.min(this.#nBest, idx.length);
    for (let r = 0; r < n; r++) {
      const i = idx[r];
      const p = beam[i];
      if (finalScore[i] === NEG_INF) break;
      const path: number[] = [];
      for (let q = p; q > 0; q = this.#parent[q]) path.push(q);
      path.reverse();
      const labels = new Int32Array(path.length);
      let text = "";
      const words: WordTiming[] = [];
      let word = "";
      let ws = -1;
      let we = -1;
      for (let k = 0; k < path.length; k++) {
        const q = path[k];
        const c = this.#char[q];
        labels[k] = c;
        text += this.#labelText[c];
        if (c === this.#space) {
          if (word !== "") words.push(this.#timing(word, ws, we));
          word = "";
        } else {
          if (word === "") ws = this.#startFrame[q];
          word += this.#labelText[c];
          we = this.#endFrame[q] + 1;
        }
      }
      if (word !== "") words.push(this.#timing(word, ws, we));
      out.push({
        text,
        labels,
        score: finalScore[i],
        acousticScore: this.#score[p] - this.#lmTerms[p],
        lmLog10: this.#lmLog10[p] + endLog[i],
        lmTokens: this.#lmTokens[p] + endTok[i],
        words,
      });
    }
    return out;
  }

  #timing(word: string, startFrame: number, endFrame: number): WordTiming {
    return {
      word,
      startFrame,
      endFrame,
      startSeconds: startFrame * this.#step,
      endSeconds: endFrame * this.#step,
    };
  }
}

function logOf(view: CtcLogits): Float32Array {
  const n = view.T * view.V;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.log(view.data[i]);
  return out;
}

/**
 * Decodes one utterance with a fresh decoder (build a `CtcBeamSearchDecoder` to decode many).
 * A bare Float32Array needs `nFrames`.
 *
 * @example
 * ```ts
 * import { ctcBeamSearch } from "./beam_search.ts";
 * const nbest = ctcBeamSearch({ data: new Float32Array([0, 5, 0]), T: 1, V: 3 }, {
 *   vocabulary: [" ", "a"],
 *   beamWidth: 16,
 * });
 * nbest[0].text; // "a"
 * ```
 */
export function ctcBeamSearch(
  logits: Float32Array | CtcLogits,
  options: CtcBeamSearchOptions & { nFrames?: number },
): CtcHypothesis[] {
  return new CtcBeamSearchDecoder(options).decode(logits, options.nFrames);
}
