/**
 * The recipe of the shipped model (`deno task pretrain`): the data it trains on, made
 * reproducibly and re-used when present, and its config (models/configs/small_wide_mixed.ts)
 * with every path under one output folder, so the run can stop at any checkpoint and continue in
 * a later sitting (`train(..., { resume: true })`).
 *
 * Data: the first `nSentences` training prompts of the repository (data/corpora/text_split.ts,
 * at most 80 characters) spoken by the espeak-ng training voices and, for 30 % of them, flite
 * `rms` (flite `awb` stays unseen), seed 1; and the FSDD utterances of every speaker except
 * `FSDD_HELD_OUT_SPEAKER`. Not here: the training loop (models/trainer.ts), the evaluation
 * (models/evaluation_table.ts, data/corpora/dev_sets.ts).
 */
import { dirname, join } from "node:path";
import { fsddTrainingEntries } from "../data/corpora/dev_sets.ts";
import { filterSentences, synthesizeCorpus, VOICE_SPLITS, type VoiceSet } from "../data/corpora/synth.ts";
import { promptsOfSplit } from "../data/corpora/text_split.ts";
import { writeManifest } from "../data/pipeline/manifest.ts";
import type { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { config as recipe, FSDD_HELD_OUT_SPEAKER } from "./configs/small_wide_mixed.ts";
import type { SpeechConfig } from "./configs/types.ts";

/** The folder the recipe's config names; `recipeConfig` moves it. */
const RECIPE_DIR = "work/pretrain";

/** Training prompts the recipe speaks (of the repository's prompt file). */
export const PRETRAIN_SENTENCES = 9000;

/** Seed of the training corpus's speaker draws. */
export const PRETRAIN_SYNTH_SEED = 1;

/** The recipe's voices: the espeak-ng training split, 30 % of utterances by flite `rms` only. */
export function pretrainVoiceSet(): VoiceSet {
  return { ...VOICE_SPLITS.train, flite: { voices: ["rms"], share: 0.3 } };
}

/** The recipe's config with its data and log folders under `outDir`. */
export function recipeConfig(outDir: string): SpeechConfig {
  const move = (p: string): string =>
    p.startsWith(`${RECIPE_DIR}/`) ? join(outDir, p.slice(RECIPE_DIR.length + 1)) : p;
  const c = structuredClone(recipe);
  c.data.train = c.data.train.map(move);
  c.data.eval = c.data.eval.map(move);
  c.data.infer = c.data.infer.map(move);
  c.data.mix = c.data.mix?.map((m) => ({ ...m, manifest: move(m.manifest) }));
  c.training.logDir = move(c.training.logDir);
  return c;
}

/** Options of `preparePretrainData`. */
export interface PretrainDataOptions {
  /** The recipe's output folder. */
  outDir: string;
  /** The repository's prompt file's text (data/corpora/text/gutenberg_sentences.txt). */
  promptText: string;
  /** The model's vocabulary. */
  vocab: Vocabulary;
  /** ../shared/data (FSDD is read from it). */
  sharedDataDir: string;
  /** Prompts to speak (default PRETRAIN_SENTENCES). */
  nSentences?: number;
  /** Progress of the synthesis. */
  onProgress?: (done: number, total: number) => void;
}

/** What `preparePretrainData` made. */
export interface PretrainData {
  /** The synthetic corpus's manifest. */
  trainManifest: string;
  /** Its utterances. */
  nSynthetic: number;
  /** Of them, spoken by this call (the others' WAVs were there already). */
  nSpokenNow: number;
  /** The FSDD training side's manifest (every speaker but the held-out one). */
  fsddManifest: string;
  /** Its utterances. */
  nFsdd: number;
}

/** Makes (or re-uses) the recipe's training data in `outDir`. */
export async function preparePretrainData(options: PretrainDataOptions): Promise<PretrainData> {
  const config = recipeConfig(options.outDir);
  const prompts = promptsOfSplit(options.promptText.split("\n"), "train", { isRepositoryPrompts: true });
  const sentences = filterSentences(prompts, options.vocab, { maxChars: 80, minChars: 10 })
    .slice(0, options.nSentences ?? PRETRAIN_SENTENCES);
  const synth = await synthesizeCorpus(sentences, {
    outDir: join(options.outDir, "train"),
    voiceSet: pretrainVoiceSet(),
    seed: PRETRAIN_SYNTH_SEED,
    onProgress: options.onProgress,
  });
  const mix = config.data.mix?.[0];
  if (!mix) throw new Error("models/configs/small_wide_mixed.ts: the recipe has no FSDD mix");
  return {
    trainManifest: synth.manifestPath,
    nSynthetic: synth.entries.length,
    nSpokenNow: synth.nSynthesized,
    fsddManifest: mix.manifest,
    nFsdd: await writeFsddTrainingManifest(mix.manifest, options.sharedDataDir),
  };
}

/**
 * Writes the recipe's FSDD training side (every speaker but `FSDD_HELD_OUT_SPEAKER`, from
 * `sharedDataDir`) as the manifest `path`, making its folder; returns its number of clips.
 */
export async function writeFsddTrainingManifest(path: string, sharedDataDir: string): Promise<number> {
  const entries = fsddTrainingEntries(sharedDataDir, FSDD_HELD_OUT_SPEAKER);
  await Deno.mkdir(dirname(path), { recursive: true });
  writeManifest(path, entries);
  return entries.length;
}
