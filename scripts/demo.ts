/**
 * The main job, end to end on a fresh machine (the README's first command):
 * synthesise a speech corpus with espeak-ng from the sentences the repo carries (training
 * voices and generated accents, plus a held-out split spoken by voices the model never hears),
 * fine-tune the checkpoint the repo ships (models/pretrained/, trained on the same training
 * corpus and nothing of the held-out voices) or, with `--scratch`, train from scratch, within a
 * time budget; transcribe the held-out split and print its WER, greedy and with beam search + a
 * 3-gram LM built from the training transcripts.
 *
 *   ./deno task demo [--minutes 60] [--train 19000] [--heldout 200] [--out work] [--config small_wide]
 *                    [--scratch | --init CHECKPOINT] [--lr 0.008]
 *
 * The budget covers everything from start to the printed WER. The learning-rate schedule is
 * fitted to it: a short first run measures the step time, and the cosine decay is set to end
 * when the budget does (the plan is kept in the run folder); should the steps later slow down,
 * the decay follows the clock instead (`budgetedLearningRate`). Re-running reuses the synthesised
 * audio and the plan and resumes from the newest checkpoint.
 */
import { parseArgs } from "node:util";
import { type BackendChoice, setBackend } from "../ops/backends/mod.ts";
import { fileURLToPath } from "node:url";
import { filterSentences, hasEspeak, synthesizeCorpus, VOICE_SPLITS } from "../data/corpora/synth.ts";
import { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { resolveConfig } from "../models/configs/mod.ts";
import { listCheckpoints } from "../models/checkpoint.ts";
import { budgetedLearningRate } from "../models/lr_policy.ts";
import { loadUtterances } from "../models/dataset.ts";
import { evaluate, train } from "../models/trainer.ts";
import { describeDecoder, TranscriptDecoder } from "../models/transcript_decoder.ts";
import { buildKneserNeyLm } from "../decode/build_lm.ts";
import { DEFAULT_DISCOUNT_FALLBACK } from "../decode/kneser_ney.ts";
import { writeLmBinary } from "../decode/lm_binary.ts";

/** Mean of the middle 80 % of `xs`. */
function trimmedMean(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 10);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/** LM weight and word bonus of the demo's beam search: the best of a grid on a dev split. */
const DEMO_LM_WEIGHTS = { alpha: 2.5, beta: 0 };

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "60" },
    train: { type: "string", default: "19000" },
    heldout: { type: "string", default: "200" },
    out: { type: "string", default: "work" },
    "max-chars": { type: "string", default: "80" },
    config: { type: "string", default: "small_wide" },
    backend: { type: "string", default: "auto" },
    scratch: { type: "boolean", default: false },
    init: { type: "string" },
    lr: { type: "string" },
  },
});

/** The checkpoint the repo ships for each config it ships one for (models/pretrained/README.md). */
const SHIPPED: Record<string, string> = {
  small_wide: fileURLToPath(new URL("../models/pretrained/small_wide_espeak.safetensors", import.meta.url)),
};
/**
 * Peak learning rate of a fine-tuning run. The shipped checkpoint sits at the end of a cosine
 * decay, so a warm restart first loses ground (held-out WER 27.5 % → 36.1 % after 1,000 steps at
 * 0.008), but a lower peak learned less in the hour: 0.003 kept 29.5 % at 1,000 steps and ended
 * at 26.7 %, against 26.0 % for 0.008 (BENCHMARKS.md).
 */
const FINE_TUNE_LR = 0.008;

const started = Date.now();
if (!hasEspeak()) {
  console.error(
    "error: espeak-ng is not installed (Debian: apt-get install espeak-ng sox); run bash .ci/setup",
  );
  Deno.exit(1);
}
try {
  await setBackend(values.backend as BackendChoice);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  Deno.exit(2);
}
const out = String(values.out);
const vocab = Vocabulary.english();
const text = await Deno.readTextFile(
  fileURLToPath(new URL("../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
);
const sentences = filterSentences(text.split("\n"), vocab, {
  maxChars: Number(values["max-chars"]),
  minChars: 10,
});
const nTrain = Number(values.train), nHeld = Number(values.heldout);
if (sentences.length < nTrain + nHeld) {
  throw new Error(`only ${sentences.length} usable sentences for ${nTrain}+${nHeld}`);
}
const elapsed = () => `${((Date.now() - started) / 60_000).toFixed(1)} min`;

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

const config = structuredClone(await resolveConfig(String(values.config)));
config.data.train = [trainSet.manifestPath];
config.data.eval = [heldSet.manifestPath];
config.data.infer = [heldSet.manifestPath];
config.training.logDir = `${out}/runs/demo`;
const init = values.scratch ? undefined : values.init ?? SHIPPED[String(values.config)];
if (init) {
  config.training.initCheckpoint = init;
  config.lrPolicy.lr = FINE_TUNE_LR;
  console.error(`[demo] fine-tuning ${init}`);
}
if (values.lr) config.lrPolicy.lr = Number(values.lr);
console.error(`[demo] computing features (${elapsed()}) ...`);
const trainUtts = loadUtterances(config.data.train, vocab, config.features);
const evalUtts = loadUtterances(config.data.eval, vocab, config.features);

// What is left of the budget once the final evaluations (greedy, then beam + LM) are set aside.
const deadline = started + Number(values.minutes) * 60_000 - 45_000;
const planPath = `${config.training.logDir}/plan.json`;
let plan: { steps: number } | null = null;
try {
  plan = JSON.parse(await Deno.readTextFile(planPath));
} catch {
  plan = null;
}
const onLog = (l: { step: number; loss: number; lr: number; audioSecondsPerSecond: number }) => {
  if (l.step % 100 === 0) {
    console.error(
      `[demo] ${elapsed()} step ${l.step} loss ${l.loss.toFixed(2)} lr ${l.lr.toExponential(2)} ${
        l.audioSecondsPerSecond.toFixed(0)
      } s/s`,
    );
  }
};
if (!plan) {
  if (listCheckpoints(config.training.logDir).length > 0) {
    throw new Error(
      `${config.training.logDir} has checkpoints but no plan.json; remove the folder to start over`,
    );
  }
  // Calibration: steps inside the warmup, whose learning rates do not depend on the decay length.
  // The step time is a trimmed mean of the logged steps after the first 20 (compilation and the
  // buffer pool filling up), so a moment of load on the machine does not shorten the schedule.
  const calibration = Math.min(200, (config.lrPolicy as { warmupSteps?: number }).warmupSteps ?? 200);
  const t0 = Date.now();
  const stepTimes: number[] = [];
  const done = await train({ ...config, training: { ...config.training, maxSteps: calibration } }, {
    resume: true,
    trainSet: trainUtts,
    deadline,
    onLog: (l) => {
      if (l.step >= 20) stepTimes.push(l.stepTimeS * 1000);
      onLog(l);
    },
  });
  const perStep = stepTimes.length >= 5
    ? trimmedMean(stepTimes)
    : (Date.now() - t0) / Math.max(1, done.steps);
  // 8 % set aside for the evaluations, checkpoints and logging on the way.
  const steps = done.steps + Math.max(0, Math.floor((deadline - Date.now()) / (perStep * 1.08)));
  plan = { steps };
  await Deno.writeTextFile(planPath, JSON.stringify(plan));
  console.error(`[demo] ${(perStep / 1000).toFixed(2)} s a step: the schedule ends at step ${steps}`);
}
config.training.maxSteps = plan.steps;
if (config.lrPolicy.kind === "cosine") config.lrPolicy.decaySteps = plan.steps;
// The plan rests on a step time measured in the first minutes. If the machine slows down later,
// the clock moves the decay on, so that the run still ends annealed when the budget does.
let budgetStart: { step: number; time: number } | null = null;
const scheduled = (step: number): number => {
  budgetStart ??= { step, time: Date.now() };
  return budgetedLearningRate(config.lrPolicy, step, {
    plannedSteps: plan!.steps,
    startStep: budgetStart.step,
    startTime: budgetStart.time,
    deadline,
    now: Date.now(),
  });
};

const r = await train(config, {
  resume: true,
  learningRate: scheduled,
  trainSet: trainUtts,
  evalSet: evalUtts,
  withEval: true,
  deadline,
  onLog,
  onEval: (step, ev) =>
    console.error(
      `[demo] ${elapsed()} step ${step}: held-out WER ${(100 * ev.wer).toFixed(1)}% CER ${
        (100 * ev.cer).toFixed(1)
      }%`,
    ),
});
const ev = r.lastEval ??
  await evaluate(r.model, evalUtts, vocab, { batchSize: 16, padTo: config.features.padTo });
for (let i = 0; i < Math.min(5, ev.references.length); i++) {
  console.log(`REF: ${ev.references[i]}\nHYP: ${ev.hypotheses[i]}`);
}
console.log(
  `Held-out voices (${evalUtts.items.length} utterances): WER ${(100 * ev.wer).toFixed(2)}%  CER ${
    (100 * ev.cer).toFixed(2)
  }%  after ${r.steps} steps, ${elapsed()} in all (greedy)`,
);

// The same logits through beam search with a 3-gram LM of the training transcripts (the
// held-out sentences never enter it), at LM weights tuned once on a separate dev split of the
// held-out voices (BENCHMARKS.md); built and decoded in seconds.
const lmPath = `${config.training.logDir}/train_transcripts_3gram.bin`;
// The fallback discounts only apply where a tiny corpus leaves them undefined (lmplz --discount_fallback).
const { lm } = buildKneserNeyLm(trainUtts.items.map((u) => u.transcript), {
  order: 3,
  source: "training transcripts",
  discountFallback: DEFAULT_DISCOUNT_FALLBACK,
});
await writeLmBinary(lm, lmPath);
const beamConfig = { kind: "beam" as const, beamWidth: 128, lm: lmPath, ...DEMO_LM_WEIGHTS };
using decoder = await TranscriptDecoder.create(beamConfig, vocab, {
  frameStepS: (config.features.windowStride ?? 0.01) * r.model.timeStride,
});
const withLm = await evaluate(r.model, evalUtts, vocab, {
  batchSize: 16,
  padTo: config.features.padTo,
  decoder,
});
console.log(
  `Held-out voices, ${describeDecoder(beamConfig)}: WER ${(100 * withLm.wer).toFixed(2)}%  CER ${
    (100 * withLm.cer).toFixed(2)
  }%`,
);
