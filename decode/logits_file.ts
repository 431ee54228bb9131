/**
 * The logits file that scripts/decode.ts reads: the safetensors counterpart of OpenSeq2Seq's
 * logits pickle (`speech2text.py finalize_inference`). One F32 (or F16/F64) tensor [T, V] per
 * utterance, keyed by its wav filename, pre-softmax, blank last; metadata `vocab` (a JSON array
 * of the V−1 label strings, OpenSeq2Seq's idx2char) and `step_size` (seconds per frame).
 *
 * Not done: OpenSeq2Seq's pickle itself (Python's format), padded batches (one tensor per
 * utterance, unpadded, is the point).
 *
 * @module
 */
import {
  readSafetensors,
  type SafetensorsEntry,
  safetensorsHeader,
  tensorToFloat32,
  writeSafetensors,
} from "../formats/safetensors.ts";
import type { CtcLogits } from "./ctc_logits.ts";

/** The contents of a logits file. */
export interface LogitsFile {
  /** Utterances by wav filename, in file order. */
  utterances: Map<string, CtcLogits>;
  /** The label strings from metadata `vocab`, or null when absent. */
  vocabulary: string[] | null;
  /** Seconds per frame from metadata `step_size`, or null when absent. */
  stepSize: number | null;
}

/**
 * Reads a logits file and checks every tensor is [T, V] with one V.
 *
 * @example
 * ```ts
 * import { readLogitsFile } from "./logits_file.ts";
 * const { utterances, vocabulary, stepSize } = await readLogitsFile("logits.safetensors");
 * ```
 */
export async function readLogitsFile(path: string): Promise<LogitsFile> {
  const file = await readSafetensors(path);
  const utterances = new Map<string, CtcLogits>();
  let V = -1;
  for (const [name, t] of file.tensors) {
    if (t.shape.length !== 2) {
      throw new Error(`${path}: tensor "${name}" has shape [${t.shape}], expected [T, V]`);
    }
    if (V >= 0 && t.shape[1] !== V) {
      throw new Error(`${path}: tensor "${name}" has ${t.shape[1]} labels but others have ${V}`);
    }
    V = t.shape[1];
    utterances.set(name, { data: tensorToFloat32(t), T: t.shape[0], V });
  }
  let vocabulary: string[] | null = null;
  const vocabText = file.metadata.vocab ?? file.metadata.vocabulary;
  if (vocabText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(vocabText);
    } catch {
      parsed = null;
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === "string")) {
      throw new Error(`${path}: metadata "vocab" must be a JSON array of strings`);
    }
    vocabulary = parsed;
  }
  let stepSize: number | null = null;
  if (file.metadata.step_size !== undefined) {
    stepSize = Number(file.metadata.step_size);
    if (!(stepSize > 0)) {
      throw new Error(`${path}: metadata "step_size" must be a positive number of seconds`);
    }
  }
  return { utterances, vocabulary, stepSize };
}

/** Options of `writeLogitsFile`. */
export interface WriteLogitsOptions {
  /** Label strings stored as metadata `vocab`. */
  vocabulary?: readonly string[];
  /** Seconds per frame stored as metadata `step_size`. */
  stepSize?: number;
}

/**
 * Writes utterance logits (atomically) in the format `readLogitsFile` reads.
 *
 * @example
 * ```ts
 * import { writeLogitsFile } from "./logits_file.ts";
 * await writeLogitsFile("logits.safetensors", { "a.wav": { data: new Float32Array(29), T: 1, V: 29 } }, {
 *   stepSize: 0.02,
 * });
 * ```
 */
export async function writeLogitsFile(
  path: string,
  utterances: Map<string, CtcLogits> | Record<string, CtcLogits>,
  options: WriteLogitsOptions = {},
): Promise<void> {
  const entries = utterances instanceof Map ? [...utterances] : Object.entries(utterances);
  const tensors = new Map(entries.map(([name, u]) => [name, { shape: [u.T, u.V], data: u.data }]));
  await writeSafetensors(path, tensors, { metadata: logitsMetadata(options) });
}

function logitsMetadata(options: WriteLogitsOptions): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (options.vocabulary !== undefined) metadata.vocab = JSON.stringify(options.vocabulary);
  if (options.stepSize !== undefined) metadata.step_size = String(options.stepSize);
  return metadata;
}

/**
 * Writes a logits file one utterance at a time, so memory does not grow with the number of
 * utterances: each `add` appends its data to a temporary file beside `path`, and `close`
 * writes the header followed by that data to `path` (atomically, by rename). Disposing the
 * writer without `close` removes the temporary files and leaves `path` untouched.
 *
 * @example
 * ```ts
 * import { LogitsFileWriter } from "./logits_file.ts";
 * await using w = await LogitsFileWriter.create("logits.safetensors", { stepSize: 0.02 });
 * await w.add("a.wav", { data: new Float32Array(29), T: 1, V: 29 });
 * await w.close();
 * ```
 */
export class LogitsFileWriter implements AsyncDisposable {
  readonly #path: string;
  readonly #dataPath: string;
  readonly #options: WriteLogitsOptions;
  readonly #entries: SafetensorsEntry[] = [];
  readonly #names = new Set<string>();
  #data: Deno.FsFile | null;

  private constructor(path: string, dataPath: string, data: Deno.FsFile, options: WriteLogitsOptions) {
    this.#path = path;
    this.#dataPath = dataPath;
    this.#data = data;
    this.#options = options;
  }

  /** A writer whose file will be `path`; the temporary data file is created now. */
  static async create(path: string, options: WriteLogitsOptions = {}): Promise<LogitsFileWriter> {
    const dataPath = `${path}.data-${Deno.pid}-${Date.now().toString(36)}`;
    try {
      const data = await Deno.open(dataPath, { write: true, createNew: true });
      return new LogitsFileWriter(path, dataPath, data, options);
    } catch (e) {
      throw new Error(`${path}: cannot write logits beside it (${(e as Error).message})`);
    }
  }

  /** Appends the first T·V values of `u.data` as utterance `name` ([T, V] float32). */
  async add(name: string, u: CtcLogits): Promise<void> {
    if (!this.#data) throw new Error(`${this.#path}: add() after the logits writer was closed`);
    if (this.#names.has(name)) throw new Error(`${this.#path}: utterance "${name}" was written twice`);
    const values = u.data.subarray(0, u.T * u.V);
    if (values.length !== u.T * u.V) {
      throw new RangeError(
        `${this.#path}: "${name}" has ${u.data.length} values, fewer than T·V = ${u.T * u.V}`,
      );
    }
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    for (let at = 0; at < bytes.length;) at += await this.#data.write(bytes.subarray(at));
    this.#names.add(name);
    this.#entries.push({ name, dtype: "F32", shape: [u.T, u.V], nBytes: bytes.length });
  }

  /** Writes `path`: the header, then the data appended so far. */
  async close(): Promise<void> {
    if (!this.#data) throw new Error(`${this.#path}: the logits writer was already closed`);
    this.#data.close();
    this.#data = null;
    const tmp = `${this.#path}.tmp-${Deno.pid}-${Date.now().toString(36)}`;
    try {
      using out = await Deno.open(tmp, { write: true, createNew: true });
      const head = safetensorsHeader(this.#entries, logitsMetadata(this.#options));
      for (let at = 0; at < head.length;) at += await out.write(head.subarray(at));
      using data = await Deno.open(this.#dataPath, { read: true });
      const chunk = new Uint8Array(1 << 20);
      for (let n = await data.read(chunk); n !== null; n = await data.read(chunk)) {
        for (let at = 0; at < n;) at += await out.write(chunk.subarray(at, n));
      }
      await Deno.rename(tmp, this.#path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw new Error(`${this.#path}: could not write logits file (${(e as Error).message})`);
    } finally {
      await Deno.remove(this.#dataPath).catch(() => {});
    }
  }

  /** Removes the temporary data file of a writer that was not closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#data) return;
    this.#data.close();
    this.#data = null;
    await Deno.remove(this.#dataPath).catch(() => {});
  }
}
