/**
 * Inference with a trained checkpoint: load the model from a self-contained checkpoint,
 * compute features with the checkpoint's own feature settings, and return greedy transcripts
 * with word start/end times, or raw logits for scripts/decode.ts.
 *
 * Memory does not grow with the number of files: `inferFiles` computes, decodes and hands on
 * one batch of files at a time, and logits go to disk through a `LogitsFileWriter`.
 */
import { readAudioAt } from "../data/audio/model_audio.ts";
import { computeFeatures } from "../data/features/compute_features.ts";
import { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { LogitsFileWriter } from "../decode/logits_file.ts";
import { noGrad, Rng, tensor, TensorScope } from "../ops/mod.ts";
import { loadCheckpoint } from "./checkpoint.ts";
import type { SpeechConfig } from "./configs/types.ts";
import { CtcModel } from "./ctc_model.ts";
import {
  greedyTranscript,
  type TimedWord,
  type Transcript,
  type TranscriptDecoder,
  type UtteranceLogits,
} from "./transcript_decoder.ts";

export type { TimedWord, Transcript };

/** A model ready for inference, with what it needs from its checkpoint. */
export interface LoadedModel {
  /** The model with the checkpoint's weights, in eval mode. */
  model: CtcModel;
  /** The run config stored in the checkpoint. */
  config: SpeechConfig;
  /** Output characters from the checkpoint, blank last. */
  vocab: Vocabulary;
  /** Seconds per output frame (window stride × time stride). */
  frameStepS: number;
}

/** Loads a checkpoint written by training into an eval-mode model. */
export async function loadModel(path: string): Promise<LoadedModel> {
  const ckpt = await loadCheckpoint(path);
  const config = ckpt.meta.config as SpeechConfig;
  const vocab = new Vocabulary(ckpt.meta.vocabulary);
  if (vocab.blankIndex !== ckpt.meta.blankIndex) {
    throw new Error(
      `${path}: blank index ${ckpt.meta.blankIndex} does not match a blank-last vocabulary of ${vocab.size}`,
    );
  }
  const model = new CtcModel(config.features.numFeatures, vocab.size, config.encoder, new Rng(0));
  model.loadStateDict(ckpt.state);
  model.eval();
  return { model, config, vocab, frameStepS: (config.features.windowStride ?? 0.01) * model.timeStride };
}

/** Logits [T', V] of one audio file, read from the model's backend once the forward pass is done. */
export async function audioLogits(m: LoadedModel, path: string): Promise<UtteranceLogits> {
  // Features at the rate the model was trained at: other rates and stereo are converted first.
  const rate = m.config.features.sampleRate ?? 16000;
  const f = computeFeatures(readAudioAt(path, rate), { ...m.config.features, sampleRate: rate });
  using _scope = new TensorScope();
  const { logits, lengths } = noGrad(() =>
    m.model.forward(tensor(f.data, [1, f.nFeatures, f.nFrames]), Int32Array.of(f.nFrames))
  );
  const data = await logits.data() as Float32Array;
  return { logits: data.slice(0, lengths[0] * m.vocab.size), nFrames: lengths[0] };
}

/** Greedy transcript of an audio file with word times from the frames that emitted each character. */
export async function transcribeFile(m: LoadedModel, path: string): Promise<Transcript> {
  return greedyTranscript(await audioLogits(m, path), m.vocab, m.frameStepS);
}

/** Options of `inferFiles`. */
export interface InferFilesOptions {
  /** Turns each batch's logits into transcripts (greedy or beam search on Workers). */
  decoder: TranscriptDecoder;
  /** Files whose logits are held and decoded together (default 32): memory grows with this, not the file count. */
  batchSize?: number;
  /** Where each file's logits go, keyed by its path, before they are dropped (scripts/decode.ts reads the file). */
  logitsWriter?: LogitsFileWriter;
}

/**
 * Transcripts of `paths`, in order, computed a batch at a time: a batch's logits are decoded
 * (one `decoder.decode` call, so beam search uses every Worker), written to `logitsWriter` and
 * dropped before the next batch starts.
 */
export async function* inferFiles(
  m: LoadedModel,
  paths: readonly string[],
  options: InferFilesOptions,
): AsyncGenerator<{ path: string; transcript: Transcript }> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`inferFiles: batchSize must be a positive integer, got ${batchSize}`);
  }
  for (let start = 0; start < paths.length; start += batchSize) {
    const batch = paths.slice(start, start + batchSize);
    const logits: UtteranceLogits[] = [];
    for (const p of batch) logits.push(await audioLogits(m, p));
    const transcripts = await options.decoder.decode(logits);
    for (let i = 0; i < batch.length; i++) {
      await options.logitsWriter?.add(batch[i], {
        data: logits[i].logits,
        T: logits[i].nFrames,
        V: m.vocab.size,
      });
      yield { path: batch[i], transcript: transcripts[i] };
    }
  }
}

/**
 * Writes the logits of `paths` in the format scripts/decode.ts reads (decode/logits_file.ts),
 * one file at a time.
 */
export async function writeInferenceLogits(
  m: LoadedModel,
  paths: readonly string[],
  out: string,
): Promise<void> {
  await using writer = await LogitsFileWriter.create(out, {
    vocabulary: m.vocab.chars,
    stepSize: m.frameStepS,
  });
  for (const p of paths) {
    const u = await audioLogits(m, p);
    await writer.add(p, { data: u.logits, T: u.nFrames, V: m.vocab.size });
  }
  await writer.close();
}
