/**
 * The evaluation split of text, so no evaluation sentence reaches an LM or a training prompt.
 *
 * A sentence is an evaluation sentence when it has at least `EVAL_MIN_WORDS` words and the
 * FNV-1a hash of its text falls in the evaluation bucket (1 in `EVAL_BUCKETS`). The rule needs
 * no list, so it splits any copy of the Gutenberg text alike: the repository's prompts
 * (data/corpora/text/gutenberg_sentences.txt), ../shared/data/text/lm_gutenberg_8books.txt,
 * a user's own text; and a sentence repeated in several books always lands on the same side.
 *
 * The repository's prompts (data/corpora/text/gutenberg_sentences.txt) also reserve their tail,
 * from line `REPO_PROMPTS_EVAL_FROM_LINE` on: the shipped checkpoint trained on the lines before
 * it, hash-selected ones included, so only the tail can evaluate it honestly
 * (`splitRepoPrompts`).
 *
 * LM text must also not contain an evaluation sentence inside a longer line (the Gutenberg text
 * has sentences that continue after a semicolon), so `lmTextLines` drops every line that holds
 * an evaluation sentence as a run of whole words.
 *
 * Not here: near-duplicates (one word changed), which are a different sentence to a WER.
 */

/** One sentence in this many is held out for evaluation. */
export const EVAL_BUCKETS = 20;

/** Evaluation sentences have at least this many words, so they are not common phrases. */
export const EVAL_MIN_WORDS = 6;

/** 32-bit FNV-1a of the UTF-16 code units of `s`. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Words of a sentence: runs of non-spaces. */
function wordsOf(sentence: string): string[] {
  return sentence.trim().split(/\s+/).filter((w) => w.length > 0);
}

/** Whether `sentence` (normalised text, words separated by spaces) is reserved for evaluation. */
export function isEvalSentence(sentence: string): boolean {
  const words = wordsOf(sentence);
  return words.length >= EVAL_MIN_WORDS && fnv1a(words.join(" ")) % EVAL_BUCKETS === 0;
}

/** The sentences of `lines` that may be used for training prompts (every non-evaluation line). */
export function trainingPrompts(lines: readonly string[]): string[] {
  return lines.filter((l) => l.trim().length > 0 && !isEvalSentence(l));
}

/** The evaluation sentences of `lines`, each once, in first-seen order. */
export function evaluationPrompts(lines: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of lines) {
    const s = wordsOf(l).join(" ");
    if (isEvalSentence(s) && !seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

/**
 * The first line of data/corpora/text/gutenberg_sentences.txt that no shipped checkpoint
 * trained on (models/pretrained/README.md: the first 19,000 sentences of at most 80 characters
 * end at line 19,234).
 */
export const REPO_PROMPTS_EVAL_FROM_LINE = 19235;

/**
 * The repository's prompts split for training and evaluation: training prompts are the lines
 * before `REPO_PROMPTS_EVAL_FROM_LINE` less the hash-selected evaluation sentences; evaluation
 * prompts are the lines from it on (each once).
 */
export function splitRepoPrompts(lines: readonly string[]): { training: string[]; evaluation: string[] } {
  const head = lines.slice(0, REPO_PROMPTS_EVAL_FROM_LINE);
  const seen = new Set<string>();
  const evaluation: string[] = [];
  for (const l of lines.slice(REPO_PROMPTS_EVAL_FROM_LINE)) {
    const s = wordsOf(l).join(" ");
    if (s.length > 0 && !seen.has(s)) {
      seen.add(s);
      evaluation.push(s);
    }
  }
  return { training: trainingPrompts(head).filter((l) => !seen.has(wordsOf(l).join(" "))), evaluation };
}

/**
 * The prompts a split may speak: training prompts for "train", evaluation prompts for
 * "held-out". The repository's prompt file splits by `splitRepoPrompts`, any other text by the
 * hash rule alone.
 */
export function promptsOfSplit(
  lines: readonly string[],
  split: "train" | "held-out",
  options: { isRepositoryPrompts: boolean },
): string[] {
  if (options.isRepositoryPrompts) {
    const s = splitRepoPrompts(lines);
    return split === "train" ? s.training : s.evaluation;
  }
  return split === "train" ? trainingPrompts(lines) : evaluationPrompts(lines);
}

/** Finds evaluation sentences inside other lines as runs of whole words. */
export class EvalSentenceIndex {
  // First word -> the evaluation sentences (as words) that start with it.
  readonly #byFirstWord = new Map<string, string[][]>();

  /** An index of `sentences` (normally `evaluationPrompts(...)` of every text in use). */
  constructor(sentences: readonly string[]) {
    for (const s of sentences) {
      const words = wordsOf(s);
      if (words.length === 0) continue;
      let list = this.#byFirstWord.get(words[0]);
      if (!list) this.#byFirstWord.set(words[0], list = []);
      list.push(words);
    }
  }

  /** The first indexed sentence that occurs in `line` as a run of whole words, or null. */
  find(line: string): string | null {
    const words = wordsOf(line);
    for (let i = 0; i < words.length; i++) {
      const candidates = this.#byFirstWord.get(words[i]);
      if (!candidates) continue;
      for (const c of candidates) {
        if (i + c.length > words.length) continue;
        let k = 1;
        while (k < c.length && words[i + k] === c[k]) k++;
        if (k === c.length) return c.join(" ");
      }
    }
    return null;
  }
}

/**
 * The lines of `lines` fit for LM text: every line that is not, and does not contain, a
 * sentence of `evalIndex` (built from the evaluation sentences of every text in use, by default
 * those of `lines` itself).
 */
export function lmTextLines(
  lines: readonly string[],
  evalIndex: EvalSentenceIndex = new EvalSentenceIndex(evaluationPrompts(lines)),
): string[] {
  return lines.filter((l) => l.trim().length > 0 && !isEvalSentence(l) && evalIndex.find(l) === null);
}
