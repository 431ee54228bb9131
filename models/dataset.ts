/**
 * In-process utterance store for training and evaluation: reads a manifest, decodes the audio,
 * computes features once and keeps them in memory, encoded targets beside them. Enough for
 * corpora that fit in memory (the demo, fine-tuning); the Worker-based loader in data/ feeds
 * larger runs.
 */
import { readAudioAt } from "../data/audio/model_audio.ts";
import { computeFeatures, type FeatureConfig } from "../data/features/compute_features.ts";
import { readManifest } from "../data/pipeline/manifest.ts";
import type { UtteranceFeatures } from "../data/pipeline/batches.ts";
import type { Vocabulary } from "../data/pipeline/vocabulary.ts";

/** Utterances with their features, targets and durations. */
export interface UtteranceSet {
  /** Features, encoded targets, transcript and audio path of each utterance, in manifest order. */
  items: UtteranceFeatures[];
  /** Audio duration of each utterance in seconds, aligned with `items`. */
  durations: Float64Array;
}

/** Options of `loadUtterances`. */
export interface LoadUtterancesOptions {
  /** Called after each utterance's features (for a progress line). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Loads every row of the manifests. Transcripts with characters outside the vocabulary are
 * an error naming the manifest and row; a manifest without rows is an error.
 */
export function loadUtterances(
  manifests: readonly string[],
  vocab: Vocabulary,
  features: FeatureConfig,
  options: LoadUtterancesOptions = {},
): UtteranceSet {
  const items: UtteranceFeatures[] = [];
  const durations: number[] = [];
  const rate = features.sampleRate ?? 16000;
  if (manifests.length === 0) throw new RangeError("loadUtterances: no manifest given");
  const lists = manifests.map((m) => readManifest(m));
  const total = lists.reduce((n, l) => n + l.length, 0);
  for (const [i, manifest] of manifests.entries()) {
    lists[i].forEach((e, row) => {
      const bad = vocab.unknownChars(e.transcript);
      if (bad.length) {
        throw new Error(
          `${
            e.source ?? `${manifest}: row ${row + 1}`
          } (${e.audioPath}): characters outside the vocabulary: ${JSON.stringify(bad)}`,
        );
      }
      // At the features' rate: a file at another rate or in stereo is converted, with one note.
      const samples = readAudioAt(e.audioPath, rate);
      const f = computeFeatures(samples, { ...features, sampleRate: rate });
      items.push({
        features: f.data,
        nFeatures: f.nFeatures,
        nFrames: f.nFrames,
        targets: vocab.encode(e.transcript),
        transcript: e.transcript,
        path: e.audioPath,
      });
      durations.push(samples.length / rate);
      options.onProgress?.(items.length, total);
    });
  }
  return { items, durations: Float64Array.from(durations) };
}
