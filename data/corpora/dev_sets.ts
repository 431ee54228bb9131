/**
 * The development sets a model is judged on, made reproducibly from the evaluation prompts
 * (data/corpora/text_split.ts) and the real recordings in ../shared/data/real:
 * - `espeak_unseen`: espeak-ng voices and variants never used in training (VOICE_SPLITS.heldOut);
 * - `flite_awb`, `flite_rms`: one flite training voice each, to measure the step to a speaker of
 *   another engine when a model was trained on the other voice only;
 * - `fsdd_<speaker>`: each Free Spoken Digit Dataset speaker alone (leave-one-speaker-out: train
 *   on the other four, with `fsddTrainingManifest`);
 * - `real_clips`: the other real recordings (pocketsphinx test data, LJ Speech, TIMIT, ARCTIC,
 *   JFK), hard and few: a smoke test of real speech, not a benchmark.
 *
 * The synthetic sets speak the evaluation prompts of the repository's prompt file
 * (`splitRepoPrompts`: its tail, which no shipped checkpoint trained on and no LM text or
 * training prompt contains). Sets whose source is missing (no ../shared, no flite) are left out and named.
 */
import { join } from "node:path";
import { type ManifestEntry, readManifest, writeManifest } from "../pipeline/manifest.ts";
import type { Vocabulary } from "../pipeline/vocabulary.ts";
import { filterSentences, hasFlite, synthesizeCorpus, VOICE_SPLITS, type VoiceSet } from "./synth.ts";
import { splitRepoPrompts } from "./text_split.ts";

/** The five FSDD speakers in ../shared/data/real/fsdd. */
export const FSDD_SPEAKERS: readonly string[] = ["george", "jackson", "lucas", "nicolas", "yweweler"];

/** Every transcript of an FSDD clip: the lexicon of its closed-vocabulary decoding. */
export const DIGIT_WORDS: readonly string[] = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
];

/** The real-speech folders of ../shared/data/real other than FSDD. */
export const REAL_CLIP_FOLDERS: readonly string[] = ["pocketsphinx_misc", "ljspeech", "misc_clips"];

/** One development set. */
export interface DevSet {
  /** Short name, e.g. "espeak_unseen". */
  name: string;
  /** Its manifest (audio paths in it are absolute). */
  manifestPath: string;
  /** Utterances. */
  nUtterances: number;
  /** Every transcript the set can hold, for a closed-vocabulary set (FSDD: DIGIT_WORDS). */
  lexicon?: readonly string[];
}

/** Options of `makeDevSets`. */
export interface DevSetOptions {
  /** Output folder; each set gets a subfolder. */
  outDir: string;
  /** The repository's prompt file (data/corpora/text/gutenberg_sentences.txt), one sentence a line. */
  promptText: string;
  /** The model's vocabulary: prompts with other characters are left out. */
  vocab: Vocabulary;
  /** ../shared/data, or null when absent (the real sets are then left out). */
  sharedDataDir: string | null;
  /** Prompts per synthetic set (default 200). */
  nPrompts?: number;
  /** Seed of the speaker draws (default 20261203). */
  seed?: number;
  /** The FSDD speakers to make sets of (default all five). */
  fsddSpeakers?: readonly string[];
  /** Called when a set is left out, with why. */
  onSkip?: (name: string, why: string) => void;
}

/** A voice set of one flite voice only. */
function fliteOnly(voice: "rms" | "awb"): VoiceSet {
  const { speeds, pitches } = VOICE_SPLITS.heldOut;
  return { voices: ["en-us"], variants: [""], speeds, pitches, flite: { voices: [voice], share: 1 } };
}

/** Entries of a shared manifest with absolute audio paths. */
function sharedEntries(dir: string): ManifestEntry[] {
  return readManifest(join(dir, "manifest.csv"));
}

/** FSDD utterances of every speaker except `heldOut`: the training side of leave-one-speaker-out. */
export function fsddTrainingEntries(sharedDataDir: string, heldOut: string): ManifestEntry[] {
  if (!FSDD_SPEAKERS.includes(heldOut)) {
    throw new RangeError(
      `fsddTrainingEntries: unknown FSDD speaker "${heldOut}" (${FSDD_SPEAKERS.join(", ")})`,
    );
  }
  return sharedEntries(join(sharedDataDir, "real", "fsdd")).filter((e) =>
    fsddSpeaker(e.audioPath) !== heldOut
  );
}

/** The speaker of an FSDD file name `{digit}_{speaker}_{take}.wav`. */
export function fsddSpeaker(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const parts = name.split("_");
  if (parts.length !== 3) {
    throw new RangeError(`${path}: not an FSDD file name ({digit}_{speaker}_{take}.wav)`);
  }
  return parts[1];
}

/** Makes (or, where its files exist, re-uses) every development set and writes `<outDir>/dev_sets.json`. */
export async function makeDevSets(options: DevSetOptions): Promise<DevSet[]> {
  const n = options.nPrompts ?? 200;
  const seed = options.seed ?? 20261203;
  const prompts = filterSentences(
    splitRepoPrompts(options.promptText.split("\n")).evaluation,
    options.vocab,
    {
      maxChars: 90,
    },
  ).slice(0, n);
  if (prompts.length < n) {
    throw new RangeError(`makeDevSets: only ${prompts.length} evaluation prompts in the text, ${n} wanted`);
  }
  const sets: DevSet[] = [];
  const add = (name: string, manifestPath: string, nUtterances: number, lexicon?: readonly string[]) =>
    sets.push({ name, manifestPath, nUtterances, ...(lexicon ? { lexicon } : {}) });
  const espeak = await synthesizeCorpus(prompts, {
    outDir: join(options.outDir, "espeak_unseen"),
    voiceSet: VOICE_SPLITS.heldOut,
    seed,
  });
  add("espeak_unseen", espeak.manifestPath, espeak.entries.length);
  if (hasFlite()) {
    for (const voice of ["awb", "rms"] as const) {
      const r = await synthesizeCorpus(prompts, {
        outDir: join(options.outDir, `flite_${voice}`),
        voiceSet: fliteOnly(voice),
        seed,
      });
      add(`flite_${voice}`, r.manifestPath, r.entries.length);
    }
  } else {
    options.onSkip?.("flite_awb, flite_rms", "flite is not installed (apt-get install flite)");
  }
  const shared = options.sharedDataDir;
  if (shared === null) {
    options.onSkip?.("fsdd_*, real_clips", "../shared/data is absent");
  } else {
    const fsdd = sharedEntries(join(shared, "real", "fsdd"));
    for (const speaker of options.fsddSpeakers ?? FSDD_SPEAKERS) {
      if (!FSDD_SPEAKERS.includes(speaker)) {
        throw new RangeError(`makeDevSets: unknown FSDD speaker "${speaker}" (${FSDD_SPEAKERS.join(", ")})`);
      }
      const entries = fsdd.filter((e) => fsddSpeaker(e.audioPath) === speaker);
      const path = join(options.outDir, `fsdd_${speaker}`, "manifest.csv");
      await Deno.mkdir(join(options.outDir, `fsdd_${speaker}`), { recursive: true });
      writeManifest(path, entries);
      add(`fsdd_${speaker}`, path, entries.length, DIGIT_WORDS);
    }
    const clips = REAL_CLIP_FOLDERS.flatMap((f) => sharedEntries(join(shared, "real", f)));
    const path = join(options.outDir, "real_clips", "manifest.csv");
    await Deno.mkdir(join(options.outDir, "real_clips"), { recursive: true });
    writeManifest(path, clips);
    add("real_clips", path, clips.length);
  }
  await Deno.writeTextFile(join(options.outDir, "dev_sets.json"), JSON.stringify(sets, null, 2) + "\n");
  return sets;
}
