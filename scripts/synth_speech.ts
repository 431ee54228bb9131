/**
 * Synthesises a speech corpus from a text file with espeak-ng (see data/synth.ts).
 *
 *   deno task synth --out work/synth/train --count 2000 --split train
 *   deno task synth --out work/synth/heldout --count 200 --split held-out
 *
 * Options: --text FILE (one sentence a line; default data/corpora/text/gutenberg_sentences.txt),
 * --out DIR, --count N, --offset K (skip the first K usable sentences of the split's own),
 * --split train|held-out (disjoint voice sets), --voices a,b --variants x,y --speeds --pitches
 * (override the split's sets), --flite-voices rms,awb and --flite-share F (which flite training voices speak
 * which share of the utterances; 0 for espeak-ng only), --seed S, --jobs N, --max-chars N, --min-chars N (default 10, as the demo), --vocab FILE,
 * --resampler sox|toolkit, --manifest NAME.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand, UsageError } from "../cli/args.ts";
import {
  filterSentences,
  FLITE_TRAINING_VOICES,
  type FliteVoice,
  hasEspeak,
  synthesizeCorpus,
  VOICE_SPLITS,
  type VoiceSet,
} from "../data/corpora/synth.ts";
import { readVocabulary, Vocabulary } from "../data/pipeline/vocabulary.ts";
import { promptsOfSplit } from "../data/corpora/text_split.ts";

const REPO_PROMPTS = fileURLToPath(new URL("../data/corpora/text/gutenberg_sentences.txt", import.meta.url));
const list = (s: string | undefined): string[] | undefined => s?.split(",").map((x) => x.trim());

const command = {
  name: "deno task synth",
  summary: "Synthesise a speech corpus (16 kHz WAV + manifest) from a text file with espeak-ng.",
  flags: {
    out: { type: "string", valueName: "DIR", help: "output folder (required)" },
    text: {
      type: "string",
      default: REPO_PROMPTS,
      valueName: "FILE",
      help: "sentences, one a line",
    },
    count: { type: "number", integer: true, min: 1, help: "sentences to speak (default: all usable)" },
    offset: { type: "number", default: 0, integer: true, min: 0, help: "skip the first K usable sentences" },
    split: {
      type: "string",
      default: "train",
      choices: ["train", "held-out"],
      help: "voice set and sentences (disjoint splits: held-out speaks only evaluation sentences)",
    },
    voices: { type: "string", valueName: "a,b", help: "override the split's voices" },
    variants: { type: "string", valueName: "x,y", help: "override the split's voice variants" },
    speeds: { type: "numbers", min: 1, help: "override the split's speeds (words a minute)" },
    pitches: { type: "numbers", min: 0, help: "override the split's pitches" },
    accents: {
      type: "number",
      integer: true,
      min: 0,
      help: "generated accents (0: none; default the split's)",
    },
    "accent-share": { type: "number", min: 0, max: 1, help: "share of utterances with a generated accent" },
    "flite-voices": {
      type: "string",
      valueName: "rms,awb",
      help:
        "flite training voices to draw from (default the split's; train only on one to keep the other unseen)",
    },
    "flite-share": {
      type: "number",
      min: 0,
      max: 1,
      help: "share of utterances spoken by flite instead of espeak-ng (0: espeak-ng only)",
    },
    seed: { type: "number", default: 0, integer: true, min: 0, help: "random seed" },
    jobs: { type: "number", integer: true, min: 1, help: "parallel espeak-ng processes" },
    "max-chars": { type: "number", default: 200, integer: true, min: 1, help: "longest sentence" },
    "min-chars": { type: "number", default: 10, integer: true, min: 0, help: "shortest sentence" },
    vocab: { type: "string", valueName: "FILE", help: "vocabulary file (default English)" },
    resampler: {
      type: "string",
      default: "sox",
      choices: ["sox", "toolkit"],
      help: "22.05 to 16 kHz conversion",
    },
    manifest: { type: "string", default: "manifest.csv", valueName: "NAME", help: "manifest file name" },
  },
  examples: [
    "deno task synth --out work/synth/train --count 2000 --split train",
    "deno task synth --out work/synth/heldout --count 200 --split held-out",
  ],
} as const;

await runCommand(command, async ({ values }) => {
  if (values.out === undefined) throw new UsageError("--out is required");
  if (!hasEspeak()) throw new Error("espeak-ng not found; install it (apt-get install espeak-ng sox)");
  const base = values.split === "train" ? VOICE_SPLITS.train : VOICE_SPLITS.heldOut;
  const voiceSet: VoiceSet = {
    voices: list(values.voices) ?? base.voices,
    variants: list(values.variants) ?? base.variants,
    speeds: values.speeds ?? base.speeds,
    pitches: values.pitches ?? base.pitches,
  };
  // --accents N: N generated accents (0: none), in --accent-share of the utterances.
  const nAccents = values.accents ?? base.generatedAccents?.count ?? 0;
  if (nAccents > 0) {
    voiceSet.generatedAccents = {
      count: nAccents,
      seed: base.generatedAccents?.seed ?? 7,
      share: values["accent-share"] ?? base.generatedAccents?.share ?? 0.5,
    };
  }
  const fliteVoices = list(values["flite-voices"]) ?? base.flite?.voices ?? [];
  for (const v of fliteVoices) {
    if (!FLITE_TRAINING_VOICES.includes(v as FliteVoice)) {
      throw new UsageError(
        `--flite-voices: "${v}" is not a flite training voice (${FLITE_TRAINING_VOICES.join(", ")})`,
      );
    }
  }
  const fliteShare = values["flite-share"] ?? base.flite?.share ?? 0;
  if (fliteShare > 0 && fliteVoices.length === 0) {
    throw new UsageError("--flite-share: no flite voices to speak with; give --flite-voices rms,awb");
  }
  if (fliteShare > 0) voiceSet.flite = { voices: fliteVoices as FliteVoice[], share: fliteShare };
  const vocab = values.vocab ? readVocabulary(values.vocab) : Vocabulary.english();
  // Each split speaks only its own sentences (data/corpora/text_split.ts), so no held-out prompt is trained on.
  const isRepositoryPrompts = resolve(values.text) === REPO_PROMPTS;
  const lines = promptsOfSplit(
    Deno.readTextFileSync(values.text).split("\n"),
    values.split as "train" | "held-out",
    {
      isRepositoryPrompts,
    },
  );
  const all = filterSentences(lines, vocab, {
    maxChars: values["max-chars"],
    minChars: values["min-chars"],
  });
  const offset = values.offset;
  const sentences = all.slice(offset, values.count ? offset + values.count : undefined);
  if (sentences.length === 0) throw new Error(`no usable sentences in ${values.text} after offset ${offset}`);
  const t0 = performance.now();
  const res = await synthesizeCorpus(sentences, {
    outDir: values.out,
    voiceSet,
    seed: values.seed,
    concurrency: values.jobs,
    resampler: values.resampler as "sox" | "toolkit",
    manifestName: values.manifest,
    onProgress: (done, total) => {
      if (done % 100 === 0 || done === total) console.error(`synth_speech: ${done}/${total}`);
    },
  });
  console.log(
    `synth_speech: ${res.nSynthesized} made, ${res.nSkipped} skipped, manifest ${res.manifestPath} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
});
