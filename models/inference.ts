/**
 * Inference with a trained checkpoint: load the model from a self-contained checkpoint,
 * compute features with the checkpoint's own feature settings, and return greedy transcripts
 * with word start/end times, or raw logits for scripts/decode.ts.
 */
import { readAudioAt } from "../data/audio/model_audio.ts";
import { computeFeatures } from "../data/features/compute_features.ts";
import { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { writeLogitsFile } from "../decode/logits_file.ts";
import { noGrad, Rng, tensor, TensorScope } from "../ops/mod.ts";
import { loadCheckpoint } from "./checkpoint.ts";
import type { SpeechConfig } from "./configs/types.ts";
import { CtcModel } from "./ctc_model.ts";
import { greedyTranscript, type TimedWord, type Transcript } from "./transcript_decoder.ts";

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

/** Logits [T', V] of one audio file. */
export function audioLogits(m: LoadedModel, path: string): { logits: Float32Array; nFrames: number } {
  // Features at the rate the model was trained at: other rates and stereo are converted first.
  const rate = m.config.features.sampleRate ?? 16000;
  const f = computeFeatures(readAudioAt(path, rate), { ...m.config.features, sampleRate: rate });
  using _scope = new TensorScope();
  const { logits, lengths } = noGrad(() =>
    m.model.forward(tensor(f.data, [1, f.nFeatures, f.nFrames]), Int32Array.of(f.nFrames))
  );
  const data = logits.dataSync() as Float32Array;
  return { logits: data.slice(0, lengths[0] * m.vocab.size), nFrames: lengths[0] };
}

/** Greedy transcript of an audio file with word times from the frames that emitted each character. */
export function transcribeFile(m: LoadedModel, path: string): Transcript {
  return greedyTranscript(audioLogits(m, path), m.vocab, m.frameStepS);
}

/**
 * Writes logits of many files in the format scripts/decode.ts reads (decode/logits_file.ts);
 * `logits[i]` are `paths[i]`'s, as `audioLogits` gives them (computed here when omitted).
 */
export async function writeInferenceLogits(
  m: LoadedModel,
  paths: readonly string[],
  out: string,
  logits: readonly { logits: Float32Array; nFrames: number }[] = paths.map((p) => audioLogits(m, p)),
): Promise<void> {
  const utterances = new Map<string, { data: Float32Array; T: number; V: number }>();
  paths.forEach((p, i) =>
    utterances.set(p, { data: logits[i].logits, T: logits[i].nFrames, V: m.vocab.size })
  );
  await writeLogitsFile(out, utterances, { vocabulary: m.vocab.chars, stepSize: m.frameStepS });
}
