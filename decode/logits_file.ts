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
import { readSafetensors, tensorToFloat32, writeSafetensors } from "../formats/safetensors.ts";
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
  const metadata: Record<string, string> = {};
  if (options.vocabulary !== undefined) metadata.vocab = JSON.stringify(options.vocabulary);
  if (options.stepSize !== undefined) metadata.step_size = String(options.stepSize);
  await writeSafetensors(path, tensors, { metadata });
}
