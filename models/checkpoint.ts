/**
 * Checkpoints: a self-contained safetensors file of the model's state dict plus metadata
 * (config, vocabulary, blank index, feature parameters, step), and the optimizer's state
 * beside it (`<name>.optim.safetensors`). Both are written atomically (temporary file, then
 * rename) by data/safetensors.ts, so an interrupted save never corrupts the last good one;
 * only the newest `keep` checkpoints are kept.
 */
import type { LoaderState } from "../data/pipeline/loader.ts";
import {
  readSafetensors,
  type SafetensorsFile,
  tensorToFloat32,
  writeSafetensors,
} from "../formats/safetensors.ts";
import { type Tensor, tensor } from "../ops/mod.ts";
import type { Module } from "./module.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";

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
}

async function toRecord(
  map: Map<string, Tensor>,
): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of map) out[name] = { shape: [...t.shape], data: Float32Array.from(await t.data()) };
  return out;
}

/** Writes `<dir>/ckpt-<step>.safetensors` (+ optimizer state) and prunes older ones. Returns the path. */
export async function saveCheckpoint(
  dir: string,
  model: Module,
  optimizer: Optimizer | null,
  meta: CheckpointMeta,
  options: { keep?: number } = {},
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/ckpt-${String(meta.step).padStart(8, "0")}.safetensors`;
  if (optimizer) {
    await writeSafetensors(
      path.replace(/\.safetensors$/, ".optim.safetensors"),
      await toRecord(optimizer.stateDict()),
      {
        metadata: { stepCount: String(optimizer.stepCount) },
      },
    );
  }
  // The model file last: its presence marks a complete checkpoint.
  await writeSafetensors(path, await toRecord(model.stateDict()), {
    metadata: { deno_ctc: JSON.stringify(meta) },
  });
  const keep = options.keep ?? 5;
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(all.length - keep, 0))) {
    await Deno.remove(old).catch(() => {});
    await Deno.remove(old.replace(/\.safetensors$/, ".optim.safetensors")).catch(() => {});
  }
  return path;
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
  const file = await readSafetensors(path);
  return { meta: parseMeta(path, file.metadata.deno_ctc), state: tensorsOf(file), path };
}

function parseMeta(path: string, raw: string | undefined): CheckpointMeta {
  if (!raw) throw new Error(`${path}: not a deno-ctc checkpoint (no "deno_ctc" metadata)`);
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new Error(`${path}: checkpoint metadata is not valid JSON (${(e as Error).message})`);
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
  const file = await readSafetensors(src);
  const meta = parseMeta(src, file.metadata.deno_ctc);
  const out = new Map<
    string,
    { shape: readonly number[]; data: Float32Array | Uint16Array; dtype: "F16" | "F32" }
  >();
  for (const [name, t] of file.tensors) {
    const values = tensorToFloat32(t);
    if (options.dtype !== "F16") {
      out.set(name, { shape: t.shape, data: values, dtype: "F32" });
      continue;
    }
    const half = new Float16Array(values);
    const bad = half.findIndex((h, i) => Number.isFinite(values[i]) && !Number.isFinite(h));
    if (bad >= 0) throw new RangeError(`${src}: ${name}[${bad}] = ${values[bad]} does not fit in float16`);
    out.set(name, { shape: t.shape, data: new Uint16Array(half.buffer), dtype: "F16" });
  }
  await writeSafetensors(dst, out, { metadata: { deno_ctc: file.metadata.deno_ctc } });
  return meta;
}

/** Restores optimizer state saved beside checkpoint `path`. */
export async function loadOptimizerState(path: string, optimizer: Optimizer): Promise<void> {
  const file = await readSafetensors(path.replace(/\.safetensors$/, ".optim.safetensors"));
  optimizer.loadStateDict(tensorsOf(file), Number(file.metadata.stepCount ?? 0));
}
