/**
 * Character vocabularies in OpenSeq2Seq's file format (one character per line, the first line
 * of the default English file holding a single space), transcript encoding for CTC targets,
 * transcript normalisation, and a check that lists every transcript with characters outside
 * the vocabulary.
 *
 * Index convention: characters take 0..n-1 in file order and the CTC blank is appended last
 * (index n, 28 for the English vocabulary), as TensorFlow's ctc_loss expects; `blank: "first"`
 * puts it at 0 instead (PyTorch's default) and shifts the characters by one.
 *
 * Not handled: BPE / SentencePiece vocabularies, multi-character tokens.
 */
import type { ManifestEntry } from "./manifest.ts";

/** Where the CTC blank goes. */
export type BlankPosition = "last" | "first";

/** The 28 characters of OpenSeq2Seq's `vocab.txt`: space, a-z, apostrophe. */
export const ENGLISH_CHARS: readonly string[] = [" ", ..."abcdefghijklmnopqrstuvwxyz", "'"];

/**
 * A character vocabulary plus the CTC blank.
 *
 * @example
 * ```ts
 * const v = Vocabulary.english();
 * v.blankIndex;            // 28
 * v.encode("hi there");    // Int32Array [8, 9, 0, 20, ...]
 * v.decode(v.encode("ok")) // "ok"
 * ```
 */
export class Vocabulary {
  /** The characters, in index order (without the blank). */
  readonly chars: readonly string[];
  /** Index of the CTC blank. */
  readonly blankIndex: number;
  /** Number of output classes, blank included. */
  readonly size: number;
  #index = new Map<string, number>();

  /** A vocabulary of `chars` (one character each, no duplicates) plus the blank. */
  constructor(chars: readonly string[], options: { blank?: BlankPosition } = {}) {
    const offset = options.blank === "first" ? 1 : 0;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      if ([...c].length !== 1) throw new Error(`data/vocabulary.ts: entry ${i} "${c}" is not one character`);
      if (this.#index.has(c)) {
        throw new Error(`data/vocabulary.ts: character ${JSON.stringify(c)} appears twice`);
      }
      this.#index.set(c, i + offset);
    }
    this.chars = [...chars];
    this.blankIndex = offset === 1 ? 0 : chars.length;
    this.size = chars.length + 1;
  }

  /** OpenSeq2Seq's English vocabulary with the blank last (index 28). */
  static english(options: { blank?: BlankPosition } = {}): Vocabulary {
    return new Vocabulary(ENGLISH_CHARS, options);
  }

  /** True when `c` is one of the characters. */
  has(c: string): boolean {
    return this.#index.has(c);
  }

  /** Index of a character, or -1. */
  indexOf(c: string): number {
    return this.#index.get(c) ?? -1;
  }

  /** Characters of `text` that are not in the vocabulary, each once, in order of appearance. */
  unknownChars(text: string): string[] {
    const seen = new Set<string>();
    for (const c of text) if (!this.#index.has(c)) seen.add(c);
    return [...seen];
  }

  /** Encodes text to class indices; throws on characters outside the vocabulary. */
  encode(text: string): Int32Array {
    const cps = [...text];
    const out = new Int32Array(cps.length);
    for (let i = 0; i < cps.length; i++) {
      const k = this.#index.get(cps[i]);
      if (k === undefined) {
        throw new Error(
          `data/vocabulary.ts: ${
            JSON.stringify(cps[i])
          } at position ${i} of "${text}" is not in the vocabulary`,
        );
      }
      out[i] = k;
    }
    return out;
  }

  /** Maps indices back to text; the blank maps to nothing. */
  decode(ids: ArrayLike<number>): string {
    const offset = this.blankIndex === 0 ? 1 : 0;
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.blankIndex) continue;
      const c = this.chars[id - offset];
      if (c === undefined) {
        throw new RangeError(`data/vocabulary.ts: index ${id} outside 0..${this.size - 1}`);
      }
      s += c;
    }
    return s;
  }

  /** The file text in OpenSeq2Seq's format (one character a line, no blank). */
  toText(): string {
    return this.chars.join("\n") + "\n";
  }
}

/**
 * Parses OpenSeq2Seq vocabulary text: one character per line (optionally followed by whitespace
 * and a count, which is ignored, as `load_pre_existing_vocabulary` does), `\r\n` accepted.
 * A line holding only a space is the space character. An empty line anywhere but the end is
 * an error, because it is most often a space line whose space an editor stripped.
 */
export function parseVocabulary(
  text: string,
  path: string,
  options: { blank?: BlankPosition } = {},
): Vocabulary {
  const lines = text.replace(/^\uFEFF/, "").split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const chars: string[] = [];
  const seen = new Set<string>(); // not chars.includes(): quadratic, 23 s for a 60,000-line file
  for (let i = 0; i < lines.length; i++) {
    const cps = [...lines[i]];
    if (cps.length === 0) {
      throw new Error(
        `${path}:${
          i + 1
        }: empty line; a vocabulary line holds exactly one character (a space line may have lost its space)`,
      );
    }
    // OpenSeq2Seq's loader allows a token count after the token ("a 1234") and reads only the
    // first symbol; accept exactly that, and refuse anything else longer than one character.
    if (cps.length > 1 && !/^\s+\d+\s*$/.test(cps.slice(1).join(""))) {
      throw new Error(
        `${path}:${i + 1}: "${lines[i]}" holds ${cps.length} characters, expected one (optionally + a count)`,
      );
    }
    if (seen.has(cps[0])) throw new Error(`${path}:${i + 1}: ${JSON.stringify(cps[0])} appears twice`);
    seen.add(cps[0]);
    chars.push(cps[0]);
  }
  if (chars.length === 0) throw new Error(`${path}: empty vocabulary`);
  return new Vocabulary(chars, options);
}

/**
 * Reads a vocabulary file.
 *
 * @example
 * ```ts
 * const vocab = readVocabulary("vocab.txt"); // blank at vocab.blankIndex === vocab.chars.length
 * ```
 */
export function readVocabulary(path: string, options: { blank?: BlankPosition } = {}): Vocabulary {
  return parseVocabulary(Deno.readTextFileSync(path), path, options);
}

/** Writes a vocabulary file in OpenSeq2Seq's format (the blank is not written). */
export function writeVocabulary(path: string, vocab: Vocabulary): void {
  Deno.writeTextFileSync(path, vocab.toText());
}

/** Transcript normalisation steps, applied in the order listed. */
export interface TranscriptNormalizeOptions {
  /** NFKD-decompose and drop combining marks ("café" → "cafe"). Default false. */
  stripAccents?: boolean;
  /** Lower-case. Default false. */
  lowerCase?: boolean;
  /**
   * What to do with characters still outside the vocabulary: `"keep"` (default; leave them for
   * checkTranscripts to report), `"drop"`, or `"replace"` with `replacement`.
   */
  unknown?: "keep" | "drop" | "replace";
  /** Replacement for unknown characters when `unknown` is `"replace"`. Default " ". */
  replacement?: string;
  /** Turn runs of whitespace into one space and trim the ends. Default false. */
  collapseSpaces?: boolean;
}

/**
 * Normalises a transcript for a vocabulary.
 *
 * @example
 * ```ts
 * normalizeTranscript("Café  Noël!", Vocabulary.english(),
 *   { stripAccents: true, lowerCase: true, unknown: "drop", collapseSpaces: true }); // "cafe noel"
 * ```
 */
export function normalizeTranscript(
  text: string,
  vocab: Vocabulary,
  options: TranscriptNormalizeOptions = {},
): string {
  let s = text;
  if (options.stripAccents) s = s.normalize("NFKD").replace(/\p{M}/gu, "");
  if (options.lowerCase) s = s.toLowerCase();
  const unknown = options.unknown ?? "keep";
  if (unknown !== "keep") {
    const rep = unknown === "replace" ? (options.replacement ?? " ") : "";
    let t = "";
    for (const c of s) t += vocab.has(c) ? c : (/\s/.test(c) && vocab.has(" ") ? " " : rep);
    s = t;
  }
  if (options.collapseSpaces) s = s.replace(/\s+/g, " ").trim();
  return s;
}

/** One transcript with characters outside the vocabulary. */
export interface OutOfVocabularyRow {
  /** `file:line` of the entry, or `#index` when it has no source. */
  source: string;
  /** The offending characters. */
  chars: string[];
  /** The transcript. */
  transcript: string;
}

/** Lists every entry whose transcript has characters outside the vocabulary. */
export function findOutOfVocabulary(
  entries: readonly ManifestEntry[],
  vocab: Vocabulary,
): OutOfVocabularyRow[] {
  const rows: OutOfVocabularyRow[] = [];
  for (let i = 0; i < entries.length; i++) {
    const chars = vocab.unknownChars(entries[i].transcript);
    if (chars.length > 0) {
      rows.push({ source: entries[i].source ?? `#${i}`, chars, transcript: entries[i].transcript });
    }
  }
  return rows;
}

/**
 * Throws when any transcript has characters outside the vocabulary. The message lists the rows
 * (file:line, the characters, the text), up to `maxRows` of them (default 20) and the total.
 */
export function checkTranscripts(
  entries: readonly ManifestEntry[],
  vocab: Vocabulary,
  options: { maxRows?: number } = {},
): void {
  const rows = findOutOfVocabulary(entries, vocab);
  if (rows.length === 0) return;
  const maxRows = options.maxRows ?? 20;
  const lines = rows.slice(0, maxRows).map((r) =>
    `  ${r.source}: ${r.chars.map((c) => JSON.stringify(c)).join(" ")} in "${r.transcript}"`
  );
  if (rows.length > maxRows) lines.push(`  ... and ${rows.length - maxRows} more`);
  throw new Error(
    `${rows.length} transcript(s) hold characters outside the vocabulary ` +
      `(normalise them with normalizeTranscript or fix the manifest):\n${lines.join("\n")}`,
  );
}
