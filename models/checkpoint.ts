/**
 * Checkpoints: a self-contained safetensors file of the model's state dict plus metadata
 * (config, vocabulary, blank index, feature parameters, step), and the optimizer's state
 * beside it (`<name>.optim.safetensors`). Both are written atomically (temporary file, then
 * rename) by data/safetensors.ts, so an interrupted save never corrupts the last good one;
 * only the newest `keep` checkpoints are kept.
 *
 * Integrity: each file's metadata carries `deno_ctc_sha256`, the SHA-256 of its tensors (see
 * `tensorDigest`), verified on every load, so a file damaged after it was written (a bad disk,
 * a partial copy) is refused with an error naming it instead of training on from garbage.
 * Files written before the checksum existed have none and still load.
 */
import { createHash } from "node:crypto";
import type { LoaderState } from "../data/pipeline/loader.ts";
import {
  readSafetensors,
  type SafetensorsArray,
  type SafetensorsFile,
  tensorToFloat32,
  writeSafetensors,
} from "../formats/safetensors.ts";
import { type Tensor, tensor } from "../ops/mod.ts";
import type { Module } from "./module.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";
import type { BackoffLossScaler } from "./loss_scaler.ts";
import type { Precision } from "./precision.ts";
import type { DecoderConfig } from "./configs/types.ts";

/** Prefix of the loss scaler's entries in the optimizer-state file. */
const LOSS_SCALER_PREFIX = "@loss_scaler/";

/** What a checkpoint says about itself. */
export interface CheckpointMeta {
  /** The full run config (JSON). */
  config: unknown;
  /** Output characters in index order (blank excluded). */
  vocabulary: string[];
  /** Index of the CTC blank among the model's outputs (the last one). */
  blankIndex: number;
  /** Training steps (batches) done when the checkpoint was written; also in its file name. */
  step: number;
  /** Epochs completed: the 0-based epoch training was in. */
  epoch: number;
  /** State of the model rng (dropout draws), so `--continue` repeats the uninterrupted run. */
  rngState: number[];
  /** State of the data rng at the start of the current epoch, from which its batch order is redrawn. */
  dataRngState: number[];
  /**
   * The data rng mid-epoch, after the SpecAugment draws of the batches already consumed
   * (the epoch's plan is redrawn from `dataRngState`, then this state is restored). Absent at
   * an epoch boundary and in checkpoints written before it existed.
   */
  augmentRngState?: number[];
  /** Batches of the current epoch already consumed. */
  batchInEpoch: number;
  /**
   * Where the Worker loader stood (data/pipeline/loader.ts `LoaderState`), when the run trains
   * from it (waveform augmentation or a mix): a resumed run continues the same batch stream.
   */
  loaderState?: LoaderState;
  /**
   * The backend the weights were trained on ("cpu", "webgpu", ...), for the record: the
   * weights are plain float32 tensors and load on any backend. Absent in older checkpoints.
   */
  backend?: string;
  /**
   * The precision the run trained in ("f32", "fp16"), for the record: the weights are float32
   * either way and load in any precision. Absent in older checkpoints (f32).
   */
  precision?: Precision;
}

/** Metadata key of the tensors' SHA-256 (hex), beside `deno_ctc`. */
export const CHECKSUM_KEY = "deno_ctc_sha256";

/**
 * SHA-256 over the tensors in name order (each name, dtype, shape and raw bytes, so a renamed,
 * reshaped or retyped tensor changes the digest as much as a flipped byte does), then over the
 * string metadata in key order except the digest itself, so a damaged step count or rng state
 * is caught too.
 */
export function tensorDigest(
  tensors: Iterable<[string, { dtype: string; shape: readonly number[]; data: SafetensorsArray }]>,
  metadata: Record<string, string> = {},
): string {
  const hash = createHash("sha256");
  const byName = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  for (const [name, t] of [...tensors].sort(byName)) {
    hash.update(`${name}\0${t.dtype}\0${t.shape.join(",")}\0`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  for (const [key, value] of Object.entries(metadata).sort(byName)) {
    if (key !== CHECKSUM_KEY) hash.update(`\0meta\0${key}\0${value}`);
  }
  return hash.digest("hex");
}

/** Throws, naming `path`, when the file's stored digest does not match its tensors. */
function verifyDigest(path: string, file: SafetensorsFile): void {
  const stored = file.metadata[CHECKSUM_KEY];
  if (stored === undefined) return; // written before checksums existed
  const actual = tensorDigest(file.tensors, file.metadata);
  if (stored !== actual) {
    throw new Error(
      `${path}: checkpoint checksum mismatch (stored ${stored.slice(0, 16)}..., contents hash to ` +
        `${actual.slice(0, 16)}...): the file is corrupt; resume from an older checkpoint`,
    );
  }
}

/** Reads a checkpoint-family safetensors file and verifies its checksum. */
async function readVerified(path: string): Promise<SafetensorsFile> {
  const file = await readSafetensors(path);
  verifyDigest(path, file);
  return file;
}

function withDigest(
  record: Record<
    string,
    { shape: readonly number[]; data: Float32Array | Uint16Array; dtype?: "F32" | "F16" }
  >,
  metadata: Record<string, string>,
): Record<string, string> {
  const entries = Object.entries(record).map(([name, t]): [
    string,
    { dtype: string; shape: readonly number[]; data: SafetensorsArray },
  ] => [name, { dtype: t.dtype ?? "F32", shape: t.shape, data: t.data }]);
  return { ...metadata, [CHECKSUM_KEY]: tensorDigest(entries, metadata) };
}

async function toRecord(
  map: Map<string, Tensor>,
): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of map) out[name] = { shape: [...t.shape], data: Float32Array.from(await t.data()) };
  return out;
}

/**
 * Writes `<dir>/ckpt-<step>.safetensors` (+ optimizer state, with the loss scaler's when given)
 * and prunes older ones. Returns the path.
 */
export async function saveCheckpoint(
  dir: string,
  model: Module,
  optimizer: Optimizer | null,
  meta: CheckpointMeta,
  options: { keep?: number; lossScaler?: BackoffLossScaler | null } = {},
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/ckpt-${String(meta.step).padStart(8, "0")}.safetensors`;
  if (optimizer) {
    const state = new Map(optimizer.stateDict());
    for (const [k, t] of options.lossScaler?.stateDict() ?? []) state.set(LOSS_SCALER_PREFIX + k, t);
    const optimState = await toRecord(state);
    await writeSafetensors(
      path.replace(/\.safetensors$/, ".optim.safetensors"),
      optimState,
      { metadata: withDigest(optimState, { stepCount: String(optimizer.stepCount) }) },
    );
  }
  // The model file last: its presence marks a complete checkpoint.
  const modelState = await toRecord(model.stateDict());
  await writeSafetensors(path, modelState, {
    metadata: withDigest(modelState, { deno_ctc: JSON.stringify(meta) }),
  });
  const keep = options.keep ?? 5;
  removeStaleTemporaries(dir);
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(all.length - keep, 0))) {
    await Deno.remove(old).catch(() => {});
    await Deno.remove(old.replace(/\.safetensors$/, ".optim.safetensors")).catch(() => {});
  }
  return path;
}

/**
 * Removes the temporary files of checkpoint writes that a killed process left behind (the
 * `.tmp-<pid>-<time>` files writeSafetensors renames into place). Called right after this
 * process's own writes have been renamed, so none of its own is in flight; one trainer writes
 * a folder at a time.
 */
function removeStaleTemporaries(dir: string): void {
  for (const e of Deno.readDirSync(dir)) {
    if (/^ckpt-\d+(\.optim)?\.safetensors\.tmp-/.test(e.name)) {
      try {
        Deno.removeSync(`${dir}/${e.name}`);
      } catch {
        // gone already
      }
    }
  }
}

/** Checkpoint files in `dir`, oldest first. */
export function listCheckpoints(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .map((e) => e.name)
      .filter((n) => /^ckpt-\d+\.safetensors$/.test(n))
      .sort()
      .map((n) => `${dir}/${n}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** A loaded checkpoint: tensors by name and its metadata. */
export interface LoadedCheckpoint {
  /** The metadata stored with the weights. */
  meta: CheckpointMeta;
  /** Parameters and buffers by state-dict name, as float32 tensors on the default backend. */
  state: Map<string, Tensor>;
  /** The file it was read from. */
  path: string;
}

function tensorsOf(file: SafetensorsFile): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of file.tensors) out.set(name, tensor(tensorToFloat32(t), t.shape));
  return out;
}

/** Reads a checkpoint written by `saveCheckpoint`; errors name the file and what is wrong. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const file = await readVerified(path);
  return { meta: parseMeta(path, file.metadata.deno_ctc), state: tensorsOf(file), path };
}

function parseMeta(path: string, raw: string | undefined): CheckpointMeta {
  if (!raw) throw new Error(`${path}: not a deno-ctc checkpoint (no "deno_ctc" metadata)`);
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${path}: checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  checkMeta(path, meta);
  return meta;
}

/**
 * Checks the fields a resume and a model load read, so that a damaged checkpoint written
 * before checksums existed fails here, naming the file and the field, not deep in the trainer.
 */
function checkMeta(path: string, meta: unknown): asserts meta is CheckpointMeta {
  const bad = (field: string, expected: string): never => {
    throw new Error(`${path}: checkpoint metadata field "${field}" is not ${expected}`);
  };
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) bad("deno_ctc", "an object");
  const m = meta as Record<string, unknown>;
  if (m.config === null || typeof m.config !== "object") bad("config", "an object");
  if (!Array.isArray(m.vocabulary) || !m.vocabulary.every((c) => typeof c === "string")) {
    bad("vocabulary", "a list of strings");
  }
  for (const field of ["blankIndex", "step", "epoch", "batchInEpoch"]) {
    if (!Number.isSafeInteger(m[field]) || (m[field] as number) < 0) bad(field, "a non-negative integer");
  }
  for (const field of ["rngState", "dataRngState", "augmentRngState"]) {
    if (field === "augmentRngState" && m[field] === undefined) continue;
    const v = m[field];
    if (
      !Array.isArray(v) || v.length !== 4 || !v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) ||
      v.every((x) => x === 0)
    ) {
      bad(field, "an rng state (four 32-bit unsigned integers, not all zero)");
    }
  }
}

/**
 * Writes checkpoint `src`'s weights and metadata to `dst` without its optimizer state: what is
 * shipped for others to fine-tune or run. `F16` halves the file; a value float16 cannot hold
 * (beyond ±65504) is an error naming the tensor rather than a silent infinity. Returns the
 * checkpoint's metadata.
 *
 * @example
 * ```ts
 * await exportCheckpoint("work/runs/small/ckpt-00003000.safetensors", "small.safetensors", { dtype: "F16" });
 * ```
 */
export async function exportCheckpoint(
  src: string,
  dst: string,
  options: { dtype?: "F16" | "F32" } = {},
): Promise<CheckpointMeta> {
  const file = await readVerified(src);
  const meta = parseMeta(src, file.metadata.deno_ctc);
  const out: Record<
    string,
    { shape: readonly number[]; data: Float32Array | Uint16Array; dtype: "F16" | "F32" }
  > = {};
  for (const [name, t] of file.tensors) {
    const values = tensorToFloat32(t);
    if (options.dtype !== "F16") {
      out[name] = { shape: t.shape, data: values, dtype: "F32" };
      continue;
    }
    const half = new Float16Array(values);
    const bad = half.findIndex((h, i) => Number.isFinite(values[i]) && !Number.isFinite(h));
    if (bad >= 0) throw new RangeError(`${src}: ${name}[${bad}] = ${values[bad]} does not fit in float16`);
    out[name] = { shape: t.shape, data: new Uint16Array(half.buffer), dtype: "F16" };
  }
  await writeSafetensors(dst, out, { metadata: withDigest(out, { deno_ctc: file.metadata.deno_ctc }) });
  return meta;
}

/**
 * Stores `decoder` (e.g. the beam width, LM and the alpha/beta a grid search on a dev set found)
 * as checkpoint `path`'s decoding settings, after checking that the checkpoint's vocabulary is
 * `options.vocabulary` (that of the logits the weights were tuned on) when given, rewriting the file atomically with its weights as they
 * are: `--lm` alone then decodes with the tuned weights (cli/decoder_flags.ts).
 */
export async function setCheckpointDecoder(
  path: string,
  decoder: DecoderConfig,
  options: { vocabulary?: readonly string[] } = {},
): Promise<CheckpointMeta> {
  const file = await readVerified(path);
  const meta = parseMeta(path, file.metadata.deno_ctc);
  // Weights tuned on another model's logits mean nothing for this one.
  if (options.vocabulary && JSON.stringify(options.vocabulary) !== JSON.stringify(meta.vocabulary)) {
    throw new RangeError(
      `${path}: its vocabulary ${
        JSON.stringify(meta.vocabulary)
      } is not the one the weights were tuned with ` +
        `(${JSON.stringify(options.vocabulary)})`,
    );
  }
  if (meta.config === null || typeof meta.config !== "object") {
    throw new TypeError(`${path}: checkpoint metadata holds no run config to store a decoder in`);
  }
  meta.config = { ...meta.config, decoder };
  const out: Record<
    string,
    { shape: readonly number[]; data: Float32Array | Uint16Array; dtype: "F16" | "F32" }
  > = {};
  for (const [name, t] of file.tensors) {
    if (t.dtype !== "F32" && t.dtype !== "F16") {
      throw new TypeError(`${path}: tensor "${name}" is ${t.dtype}; checkpoints hold F32 or F16 weights`);
    }
    out[name] = { shape: t.shape, data: t.data as Float32Array | Uint16Array, dtype: t.dtype };
  }
  await writeSafetensors(path, out, { metadata: withDigest(out, { deno_ctc: JSON.stringify(meta) }) });
  return meta;
}

/**
 * Restores optimizer state saved beside checkpoint `path`, and the loss scaler's when given
 * (a checkpoint of an f32 run has none: the scaler then keeps its initial state).
 */
export async function loadOptimizerState(
  path: string,
  optimizer: Optimizer,
  options: { lossScaler?: BackoffLossScaler | null } = {},
): Promise<void> {
  const file = await readVerified(path.replace(/\.safetensors$/, ".optim.safetensors"));
  const all = tensorsOf(file);
  const optimizerState = new Map<string, Tensor>(), scalerState = new Map<string, Tensor>();
  for (const [k, t] of all) {
    if (k.startsWith(LOSS_SCALER_PREFIX)) scalerState.set(k.slice(LOSS_SCALER_PREFIX.length), t);
    else optimizerState.set(k, t);
  }
  optimizer.loadStateDict(optimizerState, Number(file.metadata.stepCount ?? 0));
  if (options.lossScaler && scalerState.size > 0) {
    await options.lossScaler.loadStateDict(scalerState);
    for (const t of scalerState.values()) t.dispose();
  }
}
