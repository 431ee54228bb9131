/**
 * Synthesises a speech corpus from a text file with espeak-ng (see data/synth.ts).
 *
 *   deno task synth --out work/synth/train --count 2000 --split train
 *   deno task synth --out work/synth/heldout --count 200 --offset 2000 --split held-out
 *
 * Options: --text FILE (one sentence a line; default data/corpora/text/gutenberg_sentences.txt),
 * --out DIR, --count N, --offset K (skip the first K usable sentences, for disjoint splits),
 * --split train|held-out (disjoint voice sets), --voices a,b --variants x,y --speeds --pitches
 * (override the split's sets), --seed S, --jobs N, --max-chars N, --min-chars N (default 10, as the demo), --vocab FILE,
 * --resampler sox|toolkit, --manifest NAME.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import {
  filterSentences,
  hasEspeak,
  synthesizeCorpus,
  VOICE_SPLITS,
  type VoiceSet,
} from "../data/corpora/synth.ts";
import { readVocabulary, Vocabulary } from "../data/pipeline/vocabulary.ts";

const list = (s: string | undefined): string[] | undefined => s?.split(",").map((x) => x.trim());
const nums = (s: string | undefined): number[] | undefined => list(s)?.map(Number);

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      text: {
        type: "string",
        default: fileURLToPath(new URL("../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
      },
      out: { type: "string" },
      count: { type: "string" },
      offset: { type: "string", default: "0" },
      split: { type: "string", default: "train" },
      voices: { type: "string" },
      variants: { type: "string" },
      speeds: { type: "string" },
      pitches: { type: "string" },
      accents: { type: "string" },
      "accent-share": { type: "string" },
      seed: { type: "string", default: "0" },
      jobs: { type: "string" },
      "max-chars": { type: "string", default: "200" },
      "min-chars": { type: "string", default: "10" },
      vocab: { type: "string" },
      resampler: { type: "string", default: "sox" },
      manifest: { type: "string", default: "manifest.csv" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || values.out === undefined) {
    console.log(
      "usage: deno task synth --out DIR [--text FILE] [--count N] [--offset K] [--split train|held-out] [--accents N] [--accent-share F] ...",
    );
    return values.help ? 0 : 2;
  }
  if (values.split !== "train" && values.split !== "held-out") {
    console.error(`synth_speech: --split must be train or held-out, got ${values.split}`);
    return 2;
  }
  if (values.resampler !== "sox" && values.resampler !== "toolkit") {
    console.error(`synth_speech: --resampler must be sox or toolkit, got ${values.resampler}`);
    return 2;
  }
  if (!hasEspeak()) {
    console.error("synth_speech: espeak-ng not found; install it (apt-get install espeak-ng sox)");
    return 1;
  }
  const base = values.split === "train" ? VOICE_SPLITS.train : VOICE_SPLITS.heldOut;
  const voiceSet: VoiceSet = {
    voices: list(values.voices) ?? base.voices,
    variants: list(values.variants) ?? base.variants,
    speeds: nums(values.speeds) ?? base.speeds,
    pitches: nums(values.pitches) ?? base.pitches,
  };
  // --accents N: N generated accents (0: none), in --accent-share of the utterances.
  const nAccents = values.accents === undefined ? base.generatedAccents?.count ?? 0 : Number(values.accents);
  if (nAccents > 0) {
    voiceSet.generatedAccents = {
      count: nAccents,
      seed: base.generatedAccents?.seed ?? 7,
      share: Number(values["accent-share"] ?? base.generatedAccents?.share ?? 0.5),
    };
  }
  const vocab = values.vocab ? readVocabulary(values.vocab) : Vocabulary.english();
  const all = filterSentences(Deno.readTextFileSync(values.text).split("\n"), vocab, {
    maxChars: Number(values["max-chars"]),
    minChars: Number(values["min-chars"]),
  });
  const offset = Number(values.offset);
  const sentences = all.slice(offset, values.count ? offset + Number(values.count) : undefined);
  if (sentences.length === 0) {
    console.error(`synth_speech: no usable sentences in ${values.text} after offset ${offset}`);
    return 1;
  }
  const t0 = performance.now();
  const res = await synthesizeCorpus(sentences, {
    outDir: values.out,
    voiceSet,
    seed: Number(values.seed),
    concurrency: values.jobs ? Number(values.jobs) : undefined,
    resampler: values.resampler,
    manifestName: values.manifest,
    onProgress: (done, total) => {
      if (done % 100 === 0 || done === total) console.error(`synth_speech: ${done}/${total}`);
    },
  });
  console.log(
    `synth_speech: ${res.nSynthesized} made, ${res.nSkipped} skipped, manifest ${res.manifestPath} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
