/**
 * The main job, end to end on a fresh machine (the README's first command):
 * synthesise a speech corpus with espeak-ng from the sentences the repo carries (training
 * voices, plus a held-out split spoken by voices the model never hears), train the small
 * model from scratch within a time budget, transcribe the held-out split and print its WER.
 *
 *   ./deno task demo [--minutes 60] [--train 3000] [--heldout 200] [--out work]
 *
 * Re-running reuses the synthesised audio and resumes training from the newest checkpoint.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { filterSentences, hasEspeak, synthesizeCorpus, VOICE_SPLITS } from "../data/synth.ts";
import { Vocabulary } from "../data/vocabulary.ts";
import { config as small } from "../models/configs/small.ts";
import { loadUtterances } from "../models/dataset.ts";
import { evaluate, train } from "../models/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "60" },
    train: { type: "string", default: "3000" },
    heldout: { type: "string", default: "200" },
    out: { type: "string", default: "work" },
    "max-chars": { type: "string", default: "80" },
  },
});

if (!hasEspeak()) {
  console.error(
    "error: espeak-ng is not installed (Debian: apt-get install espeak-ng sox); run bash .ci/setup",
  );
  Deno.exit(1);
}
const out = String(values.out);
const vocab = Vocabulary.english();
const text = await Deno.readTextFile(
  fileURLToPath(new URL("../data/corpus/gutenberg_sentences.txt", import.meta.url)),
);
const sentences = filterSentences(text.split("\n"), vocab, {
  maxChars: Number(values["max-chars"]),
  minChars: 10,
});
const nTrain = Number(values.train), nHeld = Number(values.heldout);
if (sentences.length < nTrain + nHeld) {
  throw new Error(`only ${sentences.length} usable sentences for ${nTrain}+${nHeld}`);
}

console.error(`[demo] synthesising ${nTrain} training and ${nHeld} held-out utterances with espeak-ng ...`);
const trainSet = await synthesizeCorpus(sentences.slice(0, nTrain), {
  outDir: `${out}/synth/train`,
  voiceSet: VOICE_SPLITS.train,
  seed: 1,
});
const heldSet = await synthesizeCorpus(sentences.slice(nTrain, nTrain + nHeld), {
  outDir: `${out}/synth/heldout`,
  voiceSet: VOICE_SPLITS.heldOut,
  seed: 2,
});

const config = structuredClone(small);
config.data.train = [trainSet.manifestPath];
config.data.eval = [heldSet.manifestPath];
config.training.logDir = `${out}/runs/small`;
const budgetMs = Number(values.minutes) * 60_000;
console.error(`[demo] computing features ...`);
const trainUtts = loadUtterances(config.data.train, vocab, config.features);
const evalUtts = loadUtterances(config.data.eval, vocab, config.features);

// Train in chunks so the time budget is honoured between checkpoints.
const started = Date.now();
let steps = 0;
while (Date.now() - started < budgetMs && steps < small.training.maxSteps) {
  config.training.maxSteps = Math.min(steps + config.training.saveEvery, small.training.maxSteps);
  const r = await train(config, {
    resume: true,
    trainSet: trainUtts,
    onLog: (l) => {
      if (l.step % 50 === 0) {
        console.error(
          `[demo] step ${l.step} loss ${l.loss.toFixed(2)} lr ${l.lr.toExponential(2)} ${
            l.audioSecondsPerSecond.toFixed(1)
          } s/s`,
        );
      }
    },
  });
  steps = r.steps;
  const ev = await evaluate(r.model, evalUtts, vocab, { batchSize: 16, padTo: config.features.padTo });
  console.error(
    `[demo] step ${steps}: held-out WER ${(100 * ev.wer).toFixed(1)}% CER ${(100 * ev.cer).toFixed(1)}%`,
  );
  if (Date.now() - started >= budgetMs || steps >= small.training.maxSteps) {
    for (let i = 0; i < Math.min(3, ev.references.length); i++) {
      console.log(`REF: ${ev.references[i]}\nHYP: ${ev.hypotheses[i]}`);
    }
    console.log(
      `Held-out voices (${evalUtts.items.length} utterances): WER ${(100 * ev.wer).toFixed(2)}%  CER ${
        (100 * ev.cer).toFixed(2)
      }%  after ${steps} steps`,
    );
  }
}
