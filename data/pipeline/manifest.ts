/**
 * Dataset manifests in the two formats users exchange:
 * - OpenSeq2Seq CSV: header `wav_filename,wav_filesize,transcript`, one utterance a row.
 * - NeMo JSON lines: one object a line with `audio_filepath`, `duration` (seconds) and `text`.
 *
 * Relative audio paths resolve against the folder holding the manifest (as ../shared/data and
 * NeMo do); OpenSeq2Seq's own importer writes absolute paths, which pass through unchanged.
 * Every parse error names the manifest file and the 1-based line.
 *
 * This file does not decode audio, check that files exist, or validate transcripts against a
 * vocabulary (see data/vocabulary.ts).
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";

/** One utterance of a dataset. */
export interface ManifestEntry {
  /** Path of the audio file, absolute once read from a manifest. */
  audioPath: string;
  /** The path as the manifest wrote it (before resolving against its folder), when read from one. */
  writtenPath?: string;
  /** The reference text. */
  transcript: string;
  /** Size of the audio file in bytes (CSV `wav_filesize`), when known. */
  nBytes?: number;
  /** Duration in seconds (NeMo `duration`), when known. */
  durationS?: number;
  /** Where the entry was read from, for error messages: `file:line`. */
  source?: string;
}

/** The manifest formats this module reads and writes. */
export type ManifestFormat = "csv" | "jsonl";

/** Picks the format from a file name: `.json`/`.jsonl` are NeMo JSON lines, anything else CSV. */
export function manifestFormatOf(path: string): ManifestFormat {
  return /\.jsonl?$/i.test(path) ? "jsonl" : "csv";
}

/** Splits CSV text into records of fields (RFC 4180 quoting), keeping each record's start line. */
function parseCsvRecords(text: string, path: string): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "") {
      inQuotes = true;
      fieldStarted = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      fieldStarted = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      if (fieldStarted || field !== "" || fields.length > 0) {
        fields.push(field);
        records.push({ fields, line: recordLine });
      }
      fields = [];
      field = "";
      fieldStarted = false;
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (inQuotes) throw new Error(`${path}:${recordLine}: unterminated quoted field`);
  if (fieldStarted || field !== "" || fields.length > 0) {
    fields.push(field);
    records.push({ fields, line: recordLine });
  }
  return records;
}

/** One CSV field, quoted (RFC 4180) when it holds a quote, comma, line break or edge spaces. */
export function formatCsvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * Parses OpenSeq2Seq CSV text. `path` is used to resolve relative audio paths and in errors.
 *
 * @example
 * ```ts
 * const rows = parseCsvManifest("wav_filename,wav_filesize,transcript\na.wav,44,hi\n", "/d/m.csv");
 * // rows[0].audioPath === "/d/a.wav"
 * ```
 */
export function parseCsvManifest(text: string, path: string): ManifestEntry[] {
  const records = parseCsvRecords(text.replace(/^\uFEFF/, ""), path);
  if (records.length === 0) throw new Error(`${path}: empty manifest, expected a header line`);
  const header = records[0].fields.map((h) => h.trim());
  const iPath = header.indexOf("wav_filename");
  const iSize = header.indexOf("wav_filesize");
  const iText = header.indexOf("transcript");
  if (iPath < 0 || iText < 0) {
    throw new Error(
      `${path}:1: expected a header with wav_filename and transcript (wav_filesize optional), found "${
        header.join(",")
      }"`,
    );
  }
  const base = dirname(resolve(path));
  const out: ManifestEntry[] = [];
  for (let r = 1; r < records.length; r++) {
    const { fields, line } = records[r];
    if (fields.length !== header.length) {
      throw new Error(`${path}:${line}: expected ${header.length} fields, found ${fields.length}`);
    }
    const file = fields[iPath];
    if (file === "") throw new Error(`${path}:${line}: empty wav_filename`);
    const entry: ManifestEntry = {
      audioPath: isAbsolute(file) ? file : join(base, file),
      writtenPath: file,
      transcript: fields[iText],
      source: `${path}:${line}`,
    };
    if (iSize >= 0 && fields[iSize] !== "") {
      const size = Number(fields[iSize]);
      if (!Number.isInteger(size) || size < 0) {
        throw new Error(`${path}:${line}: wav_filesize "${fields[iSize]}" is not a non-negative integer`);
      }
      entry.nBytes = size;
    }
    out.push(entry);
  }
  return out;
}

/** Parses NeMo JSON-lines text; blank lines are skipped. */
export function parseJsonlManifest(text: string, path: string): ManifestEntry[] {
  const base = dirname(resolve(path));
  const out: ManifestEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      throw new Error(`${path}:${i + 1}: expected a JSON object`);
    }
    const o = obj as Record<string, unknown>;
    if (typeof o.audio_filepath !== "string" || o.audio_filepath === "") {
      throw new Error(`${path}:${i + 1}: missing or non-string "audio_filepath"`);
    }
    if (typeof o.text !== "string") throw new Error(`${path}:${i + 1}: missing or non-string "text"`);
    const entry: ManifestEntry = {
      audioPath: isAbsolute(o.audio_filepath) ? o.audio_filepath : join(base, o.audio_filepath),
      writtenPath: o.audio_filepath,
      transcript: o.text,
      source: `${path}:${i + 1}`,
    };
    if (o.duration !== undefined) {
      if (typeof o.duration !== "number" || !Number.isFinite(o.duration) || o.duration < 0) {
        throw new Error(
          `${path}:${i + 1}: "duration" must be a non-negative number, got ${JSON.stringify(o.duration)}`,
        );
      }
      entry.durationS = o.duration;
    }
    out.push(entry);
  }
  return out;
}

/** Options of `readManifest`. */
export interface ReadManifestOptions {
  /** Format; default from the file extension. */
  format?: ManifestFormat;
  /** Accept a manifest without utterances (default false: an empty manifest is an error). */
  allowEmpty?: boolean;
}

/**
 * Reads a manifest file; the format comes from the extension unless given. A manifest without
 * utterances (a header only, or nothing) is an error unless `allowEmpty`, so that an evaluation
 * never reports the WER of nothing.
 *
 * @example
 * ```ts
 * const entries = readManifest("../shared/data/real/fsdd/manifest.csv");
 * ```
 */
export function readManifest(path: string, options: ReadManifestOptions = {}): ManifestEntry[] {
  const format = options.format ?? manifestFormatOf(path);
  const text = Deno.readTextFileSync(path);
  const entries = format === "csv" ? parseCsvManifest(text, path) : parseJsonlManifest(text, path);
  if (entries.length === 0 && !options.allowEmpty) {
    throw new RangeError(`${path}: the manifest lists no utterances`);
  }
  return entries;
}

/**
 * Reads several manifests into one list (as a config's `data.train` lists them); each must
 * list at least one utterance, and at least one manifest must be given.
 */
export function readManifests(paths: readonly string[], options: ReadManifestOptions = {}): ManifestEntry[] {
  if (paths.length === 0) throw new RangeError("no manifest given");
  return paths.flatMap((p) => readManifest(p, options));
}

/** Options for writing a manifest. */
export interface WriteManifestOptions {
  /** Format; default from the file extension. */
  format?: ManifestFormat;
  /**
   * How audio paths are written: `"relative"` to the manifest's folder (the default, so a
   * dataset folder can be moved as a whole) or `"absolute"` (what OpenSeq2Seq's importer writes).
   */
  paths?: "relative" | "absolute";
}

/**
 * Formats entries as manifest text for a manifest that will live at `path`.
 * CSV needs `nBytes` (stat the file when missing); JSONL needs `durationS`.
 */
export function formatManifest(
  path: string,
  entries: readonly ManifestEntry[],
  options: WriteManifestOptions = {},
): string {
  const format = options.format ?? manifestFormatOf(path);
  const base = dirname(resolve(path));
  const pathOf = (e: ManifestEntry): string =>
    options.paths === "absolute"
      ? resolve(e.audioPath)
      : relative(base, resolve(e.audioPath)).replaceAll("\\", "/");
  if (format === "csv") {
    const lines = ["wav_filename,wav_filesize,transcript"];
    for (const e of entries) {
      const size = e.nBytes ?? Deno.statSync(e.audioPath).size;
      lines.push(`${formatCsvField(pathOf(e))},${size},${formatCsvField(e.transcript)}`);
    }
    return lines.join("\n") + "\n";
  }
  const lines: string[] = [];
  for (const e of entries) {
    if (e.durationS === undefined) {
      throw new Error(`${path}: NeMo manifests need a duration, missing for ${e.audioPath}`);
    }
    lines.push(JSON.stringify({ audio_filepath: pathOf(e), duration: e.durationS, text: e.transcript }));
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/**
 * Writes a manifest file (the folder must exist).
 *
 * @example
 * ```ts
 * writeManifest("out/train.jsonl", [{ audioPath: "out/a.wav", transcript: "hi", durationS: 1.5 }]);
 * ```
 */
export function writeManifest(
  path: string,
  entries: readonly ManifestEntry[],
  options: WriteManifestOptions = {},
): void {
  Deno.writeTextFileSync(path, formatManifest(path, entries, options));
}
