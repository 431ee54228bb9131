/**
 * A synthetic speech corpus from text with espeak-ng (formant synthesis) and flite (statistical
 * parametric voices trained on recorded speakers, a different kind of synthesiser, so that a
 * model learns speech rather than one engine): each sentence is spoken by an engine, voice,
 * variant, speed and pitch drawn (seeded, per utterance, so the draw does not depend on the
 * number of parallel processes) from configurable sets, converted to 16 kHz 16-bit mono WAV
 * (by sox, or by the toolkit's own resampler), and listed in an OpenSeq2Seq CSV manifest.
 * Re-running skips utterances whose WAV already exists; files are written under a temporary
 * name and renamed, so an interrupted run never leaves a truncated WAV behind. WAVs are named
 * by sentence index, so a re-run must use the same sentence list: when the folder's manifest
 * gives another transcript for an existing WAV, synthesizeCorpus refuses to run.
 *
 * `VOICE_SPLITS` gives disjoint voice/variant sets for training and for a held-out split
 * "spoken by voices the model never trained on".
 *
 * Training uses flite's `rms` and `awb` voices only; flite's other voices are kept for evaluation
 * outside this repository and appear nowhere in it.
 *
 * Not handled: MBROLA voices (Debian ships none), SSML, text normalisation beyond filtering
 * sentences to the vocabulary (digits must already be spelled out).
 */
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { readAudio } from "../audio/audio.ts";
import { readAudioHeader } from "../audio/audio_duration.ts";
import { type ManifestEntry, readManifest, writeManifest } from "../pipeline/manifest.ts";
import { resample } from "../audio/resample.ts";
import { accentName, type AccentOptions, generateAccents, prepareEspeakData } from "./synth_accents.ts";
import { Rng } from "../pipeline/rng.ts";
import type { Vocabulary } from "../pipeline/vocabulary.ts";
import { encodeWav } from "../audio/wav.ts";

/** The sets each utterance's speaker settings are drawn from. */
export interface VoiceSet {
  /** espeak-ng voices, e.g. "en-us". */
  voices: string[];
  /** Variants appended with "+", e.g. "f3"; "" means the voice's default. */
  variants: string[];
  /** Speeds in words per minute (espeak-ng -s). */
  speeds: number[];
  /** Pitches 0-99 (espeak-ng -p). */
  pitches: number[];
  /**
   * Generated accents (data/synth_accents.ts) that replace the drawn voice in a `share` of the
   * utterances; the variant, speed and pitch are drawn as without them.
   */
  generatedAccents?: AccentOptions & { share: number };
  /**
   * flite voices that speak a `share` of the utterances instead of espeak-ng (drawn last, so the
   * other draws stay as they are); the drawn speed and pitch map onto flite's duration stretch
   * and mean F0.
   */
  flite?: { voices: FliteVoice[]; share: number };
}

/** The flite voices this toolkit trains on. */
export type FliteVoice = "rms" | "awb";

/** Every flite voice training may use; the others are kept for evaluation outside this repository. */
export const FLITE_TRAINING_VOICES: readonly FliteVoice[] = ["rms", "awb"];

/** The speech synthesisers `speak` drives. */
export type SynthEngine = "espeak-ng" | "flite";

/**
 * Disjoint voice/variant sets: train on `train`, evaluate on `heldOut` to measure how a model
 * does on voices it never heard. Speeds and pitches are shared on purpose: only the speaker differs.
 */
export const VOICE_SPLITS: { train: VoiceSet; heldOut: VoiceSet } = {
  train: {
    voices: ["en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-029"],
    // Every espeak-ng variant that sounds like a person, less the held-out ones: more
    // speakers per sentence is what carries a model over to voices it never heard.
    variants: [
      ...["", "m1", "m2", "m3", "m4", "m6", "m8", "f1", "f2", "f4", "klatt", "klatt2", "klatt4"],
      ...["Alex", "Andy", "Annie", "aunty", "belinda", "benjamin", "caleb", "david", "ed", "edward"],
      ...["Gene", "john", "linda", "max", "Michael", "Mike", "paul", "rob", "robert", "steph", "zac"],
      ...["norbert", "travis", "victor", "quincy", "grandpa", "grandma", "shelby", "Lee"],
    ],
    speeds: [140, 160, 175, 190, 210],
    pitches: [30, 40, 50, 60, 70],
    // Half the utterances in accents recombined from the training voices, with vowel shifts:
    // five espeak-ng accents are too few for a model to carry over to the held-out three.
    generatedAccents: { count: 60, seed: 7, share: 0.5 },
    // A quarter in flite's recorded-speaker voices: a second kind of synthesiser.
    flite: { voices: ["rms", "awb"], share: 0.25 },
  },
  heldOut: {
    voices: ["en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd"],
    variants: ["m5", "m7", "f3", "f5", "klatt3"],
    speeds: [140, 160, 175, 190, 210],
    pitches: [30, 40, 50, 60, 70],
  },
};

/** The settings one utterance is spoken with. */
export interface SpeakerDraw {
  /** Synthesiser (default espeak-ng). */
  engine?: SynthEngine;
  /** espeak-ng voice, e.g. "en-us", or the flite voice when `engine` is "flite". */
  voice: string;
  /** Variant appended with "+", or "" for none. */
  variant: string;
  /** Words per minute (-s). */
  speed: number;
  /** Pitch 0-99 (-p). */
  pitch: number;
}

/** Draws utterance `index`'s speaker; depends only on (seed, index). */
export function drawSpeaker(set: VoiceSet, seed: number, index: number): SpeakerDraw {
  const rng = new Rng((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) | 0);
  return {
    voice: rng.choice(set.voices),
    variant: set.variants.length > 0 ? rng.choice(set.variants) : "",
    speed: rng.choice(set.speeds),
    pitch: rng.choice(set.pitches),
    // Drawn after the others, so adding accents to a set leaves its other draws as they were.
    ...(set.generatedAccents && rng.uniform() < set.generatedAccents.share
      ? { voice: accentName(rng.int(set.generatedAccents.count), set.generatedAccents.count) }
      : {}),
    ...(set.flite && rng.uniform() < set.flite.share
      ? { engine: "flite" as const, voice: rng.choice(set.flite.voices), variant: "" }
      : {}),
  };
}

/** flite's arguments for a draw: espeak-ng's speed (words/minute) and pitch (0-99) mapped onto flite's. */
export function fliteArgs(speaker: SpeakerDraw, textFile: string, out: string): string[] {
  if (!FLITE_TRAINING_VOICES.includes(speaker.voice as FliteVoice)) {
    throw new RangeError(
      `data/corpora/synth.ts: flite voice "${speaker.voice}" is not a training voice (${
        FLITE_TRAINING_VOICES.join(", ")
      })`,
    );
  }
  // 175 wpm is both engines' default rate; espeak-ng's pitch 50 is its default, flite's mean F0 ~100 Hz.
  const stretch = 175 / speaker.speed;
  const f0 = 100 * Math.pow(2, (speaker.pitch - 50) / 50);
  return [
    "-voice",
    speaker.voice,
    "--setf",
    `duration_stretch=${stretch.toFixed(3)}`,
    "--setf",
    `int_f0_target_mean=${f0.toFixed(1)}`,
    "-f",
    textFile,
    "-o",
    out,
  ];
}

/**
 * Keeps sentences whose every character is in the vocabulary and whose length is within
 * [minChars, maxChars], after trimming and collapsing spaces; duplicates are dropped.
 */
export function filterSentences(
  lines: readonly string[],
  vocab: Vocabulary,
  options: { maxChars?: number; minChars?: number } = {},
): string[] {
  const maxChars = options.maxChars ?? 200;
  const minChars = options.minChars ?? 1;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const s = line.replace(/\s+/g, " ").trim();
    if (s.length < minChars || s.length > maxChars || seen.has(s)) continue;
    if (vocab.unknownChars(s).length > 0) continue;
    seen.add(s);
    out.push(s);
  }
  return out;
}

/** Options of {@link synthesizeCorpus}. */
export interface SynthOptions {
  /** Output folder; WAVs go to `<outDir>/wav/`, the manifest to `<outDir>/<manifestName>`. */
  outDir: string;
  /** Voice, variant, speed and pitch sets. Default VOICE_SPLITS.train. */
  voiceSet?: VoiceSet;
  /** Seed of the speaker draws. Default 0. */
  seed?: number;
  /** Concurrent espeak-ng processes. Default navigator.hardwareConcurrency. */
  concurrency?: number;
  /** Output sample rate. Default 16000. */
  sampleRate?: number;
  /** "sox" (default) or "toolkit" (data/resample.ts) for the 22,050 Hz -> 16 kHz conversion. */
  resampler?: "sox" | "toolkit";
  /** Manifest file name; `.json`/`.jsonl` writes NeMo JSON lines. Default "manifest.csv". */
  manifestName?: string;
  /** Prefix of the WAV names (`<prefix><index>.wav`). Default "utt". */
  idPrefix?: string;
  /** espeak-ng executable. Default "espeak-ng". */
  espeak?: string;
  /** flite executable. Default "flite". */
  flite?: string;
  /** sox executable. Default "sox". */
  sox?: string;
  /** Folder holding the espeak-ng-data to use (`espeak-ng --path`); default the system's. */
  espeakPath?: string;
  /** Called after each utterance, for progress display. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link synthesizeCorpus} did. */
export interface SynthResult {
  /** One entry per sentence, in input order. */
  entries: ManifestEntry[];
  /** Utterances made in this run. */
  nSynthesized: number;
  /** Utterances already present and skipped. */
  nSkipped: number;
  /** Path of the manifest written. */
  manifestPath: string;
}

async function run(cmd: string, args: string[], stdin?: string): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "null",
      stderr: "piped",
    })
      .spawn();
  } catch (e) {
    throw new Error(
      `data/corpora/synth.ts: cannot run ${cmd} (${
        (e as Error).message
      }); install it, e.g. apt-get install espeak-ng flite sox`,
    );
  }
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const { code, stderr } = await child.output();
  if (code !== 0) {
    throw new Error(
      `data/corpora/synth.ts: ${cmd} ${args.join(" ")} exited with ${code}: ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
}

/** True when the WAV exists and has at least a header and one sample. */
function isComplete(path: string): boolean {
  try {
    return Deno.statSync(path).size > 44;
  } catch {
    return false;
  }
}

/**
 * Speaks one sentence into a 16-bit mono WAV at `sampleRate`.
 *
 * @example
 * ```ts
 * await speak("hello world", "out.wav", { voice: "en-us", variant: "f3", speed: 175, pitch: 50 });
 * ```
 */
export async function speak(
  text: string,
  path: string,
  speaker: SpeakerDraw,
  options: Pick<SynthOptions, "sampleRate" | "resampler" | "espeak" | "flite" | "sox" | "espeakPath"> = {},
): Promise<void> {
  const rate = options.sampleRate ?? 16000;
  const raw = `${path}.engine.tmp.wav`;
  const tmp = `${path}.tmp.wav`;
  const textFile = `${path}.tmp.txt`;
  const voice = speaker.variant === "" ? speaker.voice : `${speaker.voice}+${speaker.variant}`;
  try {
    if (speaker.engine === "flite") {
      // Text from a file, so a sentence starting with "-" is never read as an option.
      Deno.writeTextFileSync(textFile, text);
      await run(options.flite ?? "flite", fliteArgs(speaker, textFile, raw));
    } else {
      // Text goes through stdin so a sentence starting with "-" is never read as an option.
      await run(options.espeak ?? "espeak-ng", [
        ...(options.espeakPath ? [`--path=${options.espeakPath}`] : []),
        "-v",
        voice,
        "-s",
        String(speaker.speed),
        "-p",
        String(speaker.pitch),
        "-w",
        raw,
        "--stdin",
      ], text);
    }
    if ((options.resampler ?? "sox") === "sox") {
      // -R: sox dithers the 16-bit output with a fresh random seed each run unless told to repeat
      // its default one, and then no corpus (and no training run on it) could be reproduced.
      await run(options.sox ?? "sox", ["-R", raw, "-r", String(rate), "-c", "1", "-b", "16", tmp]);
    } else {
      const audio = readAudio(raw);
      Deno.writeFileSync(tmp, encodeWav(resample(audio.samples, audio.sampleRate, rate), rate));
    }
    Deno.renameSync(tmp, path);
  } finally {
    for (const p of [raw, tmp, textFile]) {
      try {
        Deno.removeSync(p);
      } catch { /* already gone */ }
    }
  }
}

/**
 * Synthesises every sentence (in parallel), skipping WAVs that exist, and writes the manifest.
 *
 * @example
 * ```ts
 * const res = await synthesizeCorpus(["hello world", "good morning"], { outDir: "synth", seed: 1 });
 * console.log(res.manifestPath, res.nSynthesized);
 * ```
 */
export async function synthesizeCorpus(
  sentences: readonly string[],
  options: SynthOptions,
): Promise<SynthResult> {
  const set = options.voiceSet ?? VOICE_SPLITS.train;
  const seed = options.seed ?? 0;
  const prefix = options.idPrefix ?? "utt";
  const wavDir = join(options.outDir, "wav");
  Deno.mkdirSync(wavDir, { recursive: true });
  const width = Math.max(5, String(sentences.length).length);
  const paths = sentences.map((_, i) => join(wavDir, `${prefix}${String(i).padStart(width, "0")}.wav`));
  const manifestPath = join(options.outDir, options.manifestName ?? "manifest.csv");
  checkSameSentences(manifestPath, paths, sentences);
  checkSameSpeakers(join(options.outDir, "speakers.json"), set, seed);
  const accents = set.generatedAccents;
  const espeakPath = options.espeakPath ??
    (accents
      ? prepareEspeakData(join(options.outDir, "espeak"), generateAccents(accents), options.espeak)
      : undefined);
  let next = 0;
  let done = 0;
  let nSynthesized = 0;
  let nSkipped = 0;
  const concurrency = Math.max(1, options.concurrency ?? navigator.hardwareConcurrency ?? 1);
  const workerLoop = async (): Promise<void> => {
    while (next < sentences.length) {
      const i = next++;
      if (isComplete(paths[i])) nSkipped++;
      else {
        await speak(sentences[i], paths[i], drawSpeaker(set, seed, i), { ...options, espeakPath });
        nSynthesized++;
      }
      options.onProgress?.(++done, sentences.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sentences.length) }, workerLoop));
  // Durations from the WAV headers, so a NeMo JSON-lines manifest (`manifestName: "x.json"`)
  // can be written too and loaders need not open the files again.
  const entries: ManifestEntry[] = sentences.map((s, i) => ({
    audioPath: paths[i],
    transcript: s,
    nBytes: Deno.statSync(paths[i]).size,
    durationS: readAudioHeader(paths[i]).durationS,
  }));
  writeManifest(manifestPath, entries);
  return { entries, nSynthesized, nSkipped, manifestPath };
}

/** Throws when an earlier run's manifest gives an existing WAV another transcript. */
function checkSameSentences(manifestPath: string, paths: string[], sentences: readonly string[]): void {
  let old: ManifestEntry[];
  try {
    old = readManifest(manifestPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const before = new Map(old.map((e) => [e.audioPath, e.transcript]));
  for (let i = 0; i < paths.length; i++) {
    const t = before.get(paths[i]);
    if (t !== undefined && t !== sentences[i] && isComplete(paths[i])) {
      throw new Error(
        `${manifestPath}: ${paths[i]} was made for "${t}", not "${sentences[i]}"; ` +
          `use a new output folder for a different sentence list`,
      );
    }
  }
}

/**
 * Records the voice set and seed a folder's WAVs are drawn with, and throws when an earlier run
 * used others: a WAV that exists is never spoken again, so mixing the two would go unnoticed.
 */
function checkSameSpeakers(path: string, set: VoiceSet, seed: number): void {
  const now = { seed, ...set };
  let before: string;
  try {
    before = Deno.readTextFileSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    Deno.writeTextFileSync(path, JSON.stringify(now));
    return;
  }
  // Compared as values, so the same set written with its keys in another order still matches.
  if (!isDeepStrictEqual(JSON.parse(before), JSON.parse(JSON.stringify(now)))) {
    throw new Error(
      `${path}: this folder's audio was spoken with other voices or seed (${before}); use a new output folder`,
    );
  }
}

/** True when flite can be started (for tests and scripts that must skip without it). */
export function hasFlite(flite = "flite"): boolean {
  try {
    return new Deno.Command(flite, { args: ["-lv"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** True when espeak-ng can be started (for tests and scripts that must skip without it). */
export function hasEspeak(espeak = "espeak-ng"): boolean {
  try {
    return new Deno.Command(espeak, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}
