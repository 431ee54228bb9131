/**
 * The main job, end to end on a fresh machine (the README's first command), within a time
 * budget (`--minutes`, default 10; `--minutes 60` for the full run):
 * synthesise a held-out split with espeak-ng voices the model never hears, evaluate the
 * checkpoint the repo ships (models/pretrained/) on it, synthesise as many training utterances
 * as the budget allows with the shipped model's recipe (models/pretrain_recipe.ts: espeak-ng and
 * flite rms voices, FSDD less its held-out speaker, the config's waveform augmentation),
 * fine-tune the shipped checkpoint (or, with `--scratch`, train from scratch), and evaluate
 * again, greedy and with beam search + a 3-gram LM of the training transcripts. The better of
 * the starting and the trained model is the demo's result (result.safetensors); it is scored on
 * the development sets in the table `deno task evaluate` prints, and the last lines say where
 * every output is and how big.
 *
 *   ./deno task demo [--minutes 10] [--train 18000] [--heldout 200] [--out work] [--config small_wide_mixed]
 *                    [--scratch | --init CHECKPOINT] [--lr 0.008] [--backend auto]
 *
 * The budget arithmetic is cli/demo_plan.ts: data is scaled to about a third of the budget
 * (audio synthesised by an earlier run is reused), the step count is fitted to the measured step
 * time, and a budget too small for any of it is an error naming the --minutes that fits.
 * Re-running with the same flags reuses the audio and the plan (run folder runs/demo-<N>min)
 * and resumes from the newest checkpoint; another --minutes makes a new plan.
 */
import { fileURLToPath } from "node:url";
import { runCommand, UsageError } from "../cli/args.ts";
import {
  CALIBRATION_SHARE,
  DEFAULT_DEMO_RATES,
  type DemoPlan,
  type DemoPlanKey,
  type DemoRates,
  isSamePlanRequest,
  planDemoData,
  planDemoSteps,
  shortRunWarmup,
} from "../cli/demo_plan.ts";
import { diskUsage, formatBytes } from "../cli/disk_usage.ts";
import { phaseProgress } from "../cli/phase_progress.ts";
import { sharedDataDirOrNull } from "../cli/shared_data.ts";
import { FSDD_HELD_OUT_SPEAKER } from "../models/configs/small_wide_mixed.ts";
import {
  PRETRAIN_SYNTH_SEED,
  pretrainVoiceSet,
  writeFsddTrainingManifest,
} from "../models/pretrain_recipe.ts";
import { usesLoader } from "../models/training_data.ts";
import {
  filterSentences,
  hasEspeak,
  hasFlite,
  synthesizeCorpus,
  VOICE_SPLITS,
} from "../data/corpora/synth.ts";
import { splitRepoPrompts } from "../data/corpora/text_split.ts";
import { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { buildKneserNeyLm } from "../decode/build_lm.ts";
import { DEFAULT_DISCOUNT_FALLBACK } from "../decode/kneser_ney.ts";
import { writeLmBinary } from "../decode/lm_binary.ts";
import { listCheckpoints } from "../models/checkpoint.ts";
import { configs, resolveConfig } from "../models/configs/mod.ts";
import { loadUtterances } from "../models/dataset.ts";
import { loadModel } from "../models/inference.ts";
import { evaluateOnDevSets, formatEvaluationTable } from "../models/evaluation_table.ts";
import { budgetedLearningRate } from "../models/lr_policy.ts";
import { type EvalResult, evaluate, train } from "../models/trainer.ts";
import { describeDecoder, TranscriptDecoder } from "../models/transcript_decoder.ts";
import { BACKEND_CHOICES, type BackendChoice, setBackend } from "../ops/backends/mod.ts";

/** The checkpoint the repo ships for each config it ships one for (models/pretrained/README.md). */
const SHIPPED: Record<string, string> = {
  small_wide: fileURLToPath(new URL("../models/pretrained/small_wide_espeak.safetensors", import.meta.url)),
  small_wide_mixed: fileURLToPath(
    new URL("../models/pretrained/small_wide_mixed.safetensors", import.meta.url),
  ),
};
/**
 * Peak learning rate of a fine-tuning run. The shipped checkpoint sits at the end of a cosine
 * decay, so a warm restart first loses ground (held-out WER 27.5 % → 36.1 % after 1,000 steps at
 * 0.008), but a lower peak learned less in the hour: 0.003 kept 29.5 % at 1,000 steps and ended
 * at 26.7 %, against 26.0 % for 0.008 (BENCHMARKS.md).
 */
const FINE_TUNE_LR = 0.008;
/**
 * LM weight and word bonus of the demo's beam search: the best of a grid on a dev split for
 * small_wide_espeak; for small_wide_mixed they give 22.3 % WER on that split against the grid's
 * best 22.2 % (α 2.5, β 1; BENCHMARKS.md "The shipped checkpoints on the development sets").
 */
const DEMO_LM_WEIGHTS = { alpha: 2.5, beta: 0 };
/** Utterances per synthetic development set in the demo's closing table (`deno task evaluate` uses 200). */
const DEMO_DEV_PROMPTS = 100;
/** Below this budget the warmup (and so the calibration) is shortened to fit a short run. */
const SHORT_RUN_MINUTES = 30;

const command = {
  name: "deno task demo",
  summary:
    "Synthesise speech, evaluate the shipped model, fine-tune it within a time budget and evaluate again.",
  flags: {
    minutes: {
      type: "number",
      default: 10,
      min: 1,
      max: 24 * 60,
      help: "the whole budget, start to last WER",
    },
    train: { type: "number", default: 18000, integer: true, min: 10, help: "most training utterances" },
    heldout: { type: "number", default: 200, integer: true, min: 1, help: "held-out utterances" },
    out: { type: "string", default: "work", valueName: "DIR", help: "output folder" },
    "max-chars": { type: "number", default: 80, integer: true, min: 10, help: "longest sentence" },
    config: { type: "string", default: "small_wide_mixed", valueName: "NAME|FILE.ts", help: "model config" },
    scratch: { type: "boolean", help: "train from scratch instead of fine-tuning" },
    init: { type: "string", valueName: "CKPT", help: "checkpoint to fine-tune (default: the shipped one)" },
    lr: {
      type: "number",
      min: 0,
      exclusiveMin: true,
      max: 1,
      help: `peak learning rate (fine-tuning: ${FINE_TUNE_LR})`,
    },
    backend: { type: "string", default: "auto", choices: BACKEND_CHOICES, help: "where tensors live" },
  },
  examples: ["./deno task demo", "./deno task demo --minutes 60"],
} as const;

/** Mean of the middle 80 % of `xs`. */
function trimmedMean(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 10);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/** How many of `<dir>/wav/utt<i>.wav`, i = 0, 1, …, exist already (an earlier run's audio). */
function countCachedUtterances(dir: string, most: number): number {
  const width = Math.max(5, String(most).length);
  let n = 0;
  for (; n < most; n++) {
    try {
      if (Deno.statSync(`${dir}/wav/utt${String(n).padStart(width, "0")}.wav`).size <= 44) break;
    } catch {
      break;
    }
  }
  return n;
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return null;
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

await runCommand(command, async ({ values }) => {
  const started = Date.now();
  const budgetS = values.minutes * 60;
  const elapsedS = (): number => (Date.now() - started) / 1000;
  const clock = (): string => `${(elapsedS() / 60).toFixed(1)} min`;
  if (values.scratch && values.init !== undefined) {
    throw new UsageError("--scratch and --init exclude each other");
  }
  if (!configs[values.config] && !/\.(ts|js)$/.test(values.config)) {
    throw new UsageError(
      `--config: unknown config "${values.config}" (named: ${Object.keys(configs).join(", ")})`,
    );
  }
  if (values.init !== undefined) {
    try {
      Deno.statSync(values.init);
    } catch (e) {
      throw new UsageError(`--init ${values.init}: cannot read it (${(e as Error).message})`);
    }
  }
  if (!hasEspeak()) {
    throw new Error("espeak-ng is not installed (Debian: apt-get install espeak-ng sox); run bash .ci/setup");
  }
  if (!hasFlite()) {
    throw new Error(
      "flite is not installed (Debian: apt-get install flite), the recipe's second synthesiser; run bash .ci/setup",
    );
  }
  await setBackend(values.backend as BackendChoice);
  const out = values.out;
  const vocab = Vocabulary.english();
  const text = await Deno.readTextFile(
    fileURLToPath(new URL("../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
  );
  // Training prompts and held-out prompts from disjoint parts of the text (data/corpora/text_split.ts):
  // the held-out ones were never trained on, by the shipped checkpoint either, nor are in any LM text.
  const split = splitRepoPrompts(text.split("\n"));
  const lengths = { maxChars: values["max-chars"], minChars: 10 };
  const sentences = filterSentences(split.training, vocab, lengths);
  const heldSentences = filterSentences(split.evaluation, vocab, lengths);
  const nHeld = values.heldout;
  if (sentences.length < values.train || heldSentences.length < nHeld) {
    throw new UsageError(
      `--train ${values.train} or --heldout ${nHeld} exceed the ${sentences.length} training and ` +
        `${heldSentences.length} held-out sentences of at most ${values["max-chars"]} characters`,
    );
  }
  const init = values.scratch ? undefined : values.init ?? SHIPPED[values.config];
  // Whatever is trained, it is measured against the checkpoint the repo ships, when there is one.
  const baselinePath = init ?? SHIPPED[values.config];
  const lr = values.lr ?? (init ? FINE_TUNE_LR : undefined);

  // 1. The held-out split: evaluation sentences, voices never trained on.
  const ratesPath = `${out}/synth/rates.json`;
  let rates: DemoRates = readJson<DemoRates>(ratesPath) ?? DEFAULT_DEMO_RATES;
  console.error(`[demo] synthesising ${nHeld} held-out utterances with espeak-ng ...`);
  let t0 = performance.now();
  const heldSet = await synthesizeCorpus(heldSentences.slice(0, nHeld), {
    outDir: `${out}/synth/heldout`,
    voiceSet: VOICE_SPLITS.heldOut,
    seed: 2,
    onProgress: phaseProgress("[demo] synthesising held-out audio"),
  });
  if (heldSet.nSynthesized >= 50) {
    rates = { ...rates, synthUttPerS: heldSet.nSynthesized / ((performance.now() - t0) / 1000) };
  }
  const config = structuredClone(await resolveConfig(values.config));
  t0 = performance.now();
  const evalUtts = loadUtterances([heldSet.manifestPath], vocab, config.features, {
    onProgress: phaseProgress("[demo] held-out features"),
  });
  rates = { ...rates, featureUttPerS: evalUtts.items.length / ((performance.now() - t0) / 1000) };
  await Deno.writeTextFile(ratesPath, JSON.stringify(rates));

  // 2. The model the demo starts from (or is compared with), on the held-out split.
  let baseline: EvalResult | null = null;
  t0 = performance.now();
  if (baselinePath) {
    const m = await loadModel(baselinePath);
    baseline = await evaluate(m.model, evalUtts, vocab, { batchSize: 16, padTo: m.config.features.padTo });
    console.error(
      `[demo] ${clock()} ${baselinePath}: held-out WER ${pct(baseline.wer)} CER ${
        pct(baseline.cer)
      } (greedy)`,
    );
  }
  const evalS = baselinePath ? (performance.now() - t0) / 1000 : evalUtts.items.length / 10;
  // Kept for the final evaluations: greedy (in train()), beam + LM, the LM itself and saving, and
  // the table on the dev sets (three synthetic sets of at most DEMO_DEV_PROMPTS, one FSDD speaker
  // scored twice, the real clips, with beam search: about six held-out evaluations).
  const reserveS = 2.5 * evalS + 20 + 6 * evalS + 15;

  // 3. A plan: reused when the same request made it, else data scaled to the budget.
  const runDir = `${out}/runs/demo-${values.minutes}min`;
  const planPath = `${runDir}/plan.json`;
  const key: DemoPlanKey = {
    minutes: values.minutes,
    config: values.config,
    init: init ?? null,
    lr: lr ?? config.lrPolicy.lr,
    requestedTrain: values.train,
  };
  const kept = readJson<Partial<DemoPlan>>(planPath);
  const planned = isSamePlanRequest(kept, key) ? kept : null;
  if (!planned && listCheckpoints(runDir).length > 0) {
    throw new UsageError(
      `${runDir} holds checkpoints of another request (${
        JSON.stringify(kept)
      }); remove the folder or pass another --out`,
    );
  }
  // The recipe's voices (flite rms beside espeak-ng) in a folder of their own: a folder holds one voice set.
  const trainDir = `${out}/synth/train_mixed`;
  const cached = countCachedUtterances(trainDir, values.train);
  const nTrain = planned?.nTrain ?? planDemoData({
    budgetS,
    elapsedS: elapsedS(),
    reserveS,
    requestedTrain: values.train,
    cachedTrain: cached,
    rates,
  }).nTrain;
  console.error(
    `[demo] ${clock()} ${nTrain} training utterances (${Math.min(cached, nTrain)} already synthesised) ` +
      `for a ${values.minutes}-minute budget`,
  );
  t0 = performance.now();
  const trainSet = await synthesizeCorpus(sentences.slice(0, nTrain), {
    outDir: trainDir,
    voiceSet: pretrainVoiceSet(),
    seed: PRETRAIN_SYNTH_SEED,
    onProgress: phaseProgress("[demo] synthesising training audio"),
  });
  if (trainSet.nSynthesized >= 50) {
    rates = { ...rates, synthUttPerS: trainSet.nSynthesized / ((performance.now() - t0) / 1000) };
    await Deno.writeTextFile(ratesPath, JSON.stringify(rates));
  }
  config.data.train = [trainSet.manifestPath];
  // The recipe's FSDD share: every speaker but the held-out one, from ../shared when it is there.
  if (config.data.mix?.length) {
    const shared = sharedDataDirOrNull();
    if (shared === null) {
      console.error(`[demo] ../shared/data is absent: training without the FSDD share of ${values.config}`);
      delete config.data.mix;
    } else {
      const mixManifest = `${out}/fsdd_train/manifest.csv`;
      await writeFsddTrainingManifest(mixManifest, shared);
      config.data.mix = [{ manifest: mixManifest, share: config.data.mix[0].share }];
    }
  }
  // Waveform augmentation or a mix: features afresh each epoch in Workers; otherwise once, here.
  const trainUtts = usesLoader(config)
    ? undefined
    : loadUtterances([trainSet.manifestPath], vocab, config.features, {
      onProgress: phaseProgress("[demo] training features"),
    });

  config.data.eval = [heldSet.manifestPath];
  config.data.infer = [heldSet.manifestPath];
  config.training.logDir = runDir;
  if (init) config.training.initCheckpoint = init;
  config.lrPolicy.lr = key.lr;
  const configWarmup = (config.lrPolicy as { warmupSteps?: number }).warmupSteps ?? 200;
  const isShortRun = values.minutes < SHORT_RUN_MINUTES && config.lrPolicy.kind !== "fixed";
  const calibration = Math.min(configWarmup, isShortRun ? 50 : 200);
  // The calibration runs inside this warmup; the plan then ends it early enough to decay (shortRunWarmup).
  if (isShortRun) (config.lrPolicy as { warmupSteps?: number }).warmupSteps = calibration;
  const deadline = started + (budgetS - reserveS) * 1000;
  const onLog = (l: { step: number; loss: number; lr: number; audioSecondsPerSecond: number }): void => {
    if (l.step % 50 === 0) {
      console.error(
        `[demo] ${clock()} step ${l.step} loss ${l.loss.toFixed(2)} lr ${l.lr.toExponential(2)} ${
          l.audioSecondsPerSecond.toFixed(0)
        } s/s`,
      );
    }
  };

  // 4. Calibration (steps inside the warmup, whose rates do not depend on the decay length), then
  // the step count. The step time is a trimmed mean of the steps after the first 20 (3 in a short
  // run; compilation, the buffer pool filling up), so a moment of load does not shorten the schedule.
  let plan: DemoPlan;
  if (planned) plan = planned;
  else {
    const stepTimes: number[] = [];
    const t1 = Date.now();
    // At most a quarter of the training time, so that most of a short run follows the fitted schedule.
    const calibrationDeadline = t1 + CALIBRATION_SHARE * Math.max(0, deadline - t1);
    // Every calibration step is logged, so that even a short calibration has step times to average.
    const firstTimedStep = isShortRun ? 3 : 20;
    const calibrating = { ...config, training: { ...config.training, maxSteps: calibration, logEvery: 1 } };
    const done = await train(calibrating, {
      resume: true,
      trainSet: trainUtts,
      deadline: calibrationDeadline,
      onLog: (l) => {
        if (l.step >= firstTimedStep) stepTimes.push(l.stepTimeS);
        onLog(l);
      },
    });
    const stepS = stepTimes.length >= 5
      ? trimmedMean(stepTimes)
      : (Date.now() - t1) / 1000 / Math.max(1, done.steps);
    const steps = planDemoSteps({
      doneSteps: done.steps,
      stepS,
      leftS: (deadline - Date.now()) / 1000,
      budgetS,
    });
    plan = { ...key, nTrain, steps };
    if (isShortRun) {
      plan.warmupSteps = shortRunWarmup({ plannedSteps: steps, doneSteps: done.steps, configWarmup });
    }
    await Deno.writeTextFile(planPath, JSON.stringify(plan));
    console.error(
      `[demo] ${stepS.toFixed(2)} s a step: the schedule ends at step ${steps}` +
        `${plan.warmupSteps !== undefined ? `, warmup ${plan.warmupSteps} steps` : ""} (${planPath})`,
    );
  }
  config.training.maxSteps = plan.steps;
  if (config.lrPolicy.kind === "cosine") config.lrPolicy.decaySteps = plan.steps;
  if (plan.warmupSteps !== undefined && config.lrPolicy.kind !== "fixed") {
    config.lrPolicy.warmupSteps = plan.warmupSteps;
  }
  // The plan rests on a step time measured in the first minutes. If the machine slows down later,
  // the clock moves the decay on, so that the run still ends annealed when the budget does.
  let budgetStart: { step: number; time: number } | null = null;
  const scheduled = (step: number): number => {
    budgetStart ??= { step, time: Date.now() };
    return budgetedLearningRate(config.lrPolicy, step, {
      plannedSteps: plan.steps,
      startStep: budgetStart.step,
      startTime: budgetStart.time,
      deadline,
      now: Date.now(),
    });
  };

  // 5. Training, then the greedy evaluation of what it made.
  const r = await train(config, {
    resume: true,
    learningRate: scheduled,
    trainSet: trainUtts,
    evalSet: evalUtts,
    withEval: true,
    deadline,
    onLog,
    onEval: (step, ev) =>
      console.error(`[demo] ${clock()} step ${step}: held-out WER ${pct(ev.wer)} CER ${pct(ev.cer)}`),
  });
  const trained = r.lastEval ??
    await evaluate(r.model, evalUtts, vocab, { batchSize: 16, padTo: config.features.padTo });
  const trainedPath = listCheckpoints(runDir).at(-1);
  const isTrainedBetter = baseline === null || trained.wer < baseline.wer;
  const resultPath = `${runDir}/result.safetensors`;
  const keptPath = isTrainedBetter ? trainedPath : baselinePath;
  if (!keptPath) throw new Error(`${runDir}: training wrote no checkpoint`);
  await Deno.copyFile(keptPath, resultPath);
  const resultModel = isTrainedBetter ? r.model : (await loadModel(baselinePath!)).model;
  const resultEval = isTrainedBetter ? trained : baseline!;
  for (let i = 0; i < Math.min(5, resultEval.references.length); i++) {
    console.log(`REF: ${resultEval.references[i]}\nHYP: ${resultEval.hypotheses[i]}`);
  }
  console.log(
    `Held-out voices (${evalUtts.items.length} utterances), after ${r.steps} steps on ${nTrain} utterances: ` +
      `WER ${pct(trained.wer)} CER ${pct(trained.cer)} (greedy)` +
      (baseline ? `; the starting model: WER ${pct(baseline.wer)} CER ${pct(baseline.cer)}` : ""),
  );

  // 6. The result's logits through beam search with a 3-gram LM of the training transcripts (the
  // held-out sentences never enter it), at weights tuned once on a dev split (BENCHMARKS.md).
  const lmPath = `${runDir}/train_transcripts_3gram.bin`;
  // The fallback discounts only apply where a tiny corpus leaves them undefined (lmplz --discount_fallback).
  const { lm } = buildKneserNeyLm(trainSet.entries.map((e) => e.transcript), {
    order: 3,
    source: "training transcripts",
    discountFallback: DEFAULT_DISCOUNT_FALLBACK,
  });
  await writeLmBinary(lm, lmPath);
  const beamConfig = { kind: "beam" as const, beamWidth: 128, lm: lmPath, ...DEMO_LM_WEIGHTS };
  using decoder = await TranscriptDecoder.create(beamConfig, vocab, {
    frameStepS: (config.features.windowStride ?? 0.01) * resultModel.timeStride,
  });
  const withLm = await evaluate(resultModel, evalUtts, vocab, {
    batchSize: 16,
    padTo: config.features.padTo,
    decoder,
  });
  console.log(
    `Held-out voices, ${describeDecoder(beamConfig)}: WER ${pct(withLm.wer)} CER ${
      pct(withLm.cer)
    } (${clock()} in all)`,
  );

  // 7. The result on the development sets, in the table `deno task evaluate` prints.
  const table = await evaluateOnDevSets(await loadModel(resultPath), resultPath, {
    outDir: `${out}/dev_sets`,
    promptText: text,
    sharedDataDir: sharedDataDirOrNull(),
    nPrompts: Math.min(nHeld, DEMO_DEV_PROMPTS),
    fsddSpeakers: [FSDD_HELD_OUT_SPEAKER],
    decoder: beamConfig,
    onNote: (note) => console.error(`[demo] ${note}`),
  });
  console.log(formatEvaluationTable(table));
  await Deno.writeTextFile(`${runDir}/evaluation.json`, JSON.stringify(table, null, 2) + "\n");

  // 8. Which model is the result, and where everything went.
  if (baseline === null) console.log(`Result: the model trained here, ${resultPath}`);
  else if (isTrainedBetter) {
    console.log(
      `Result: the trained model beat ${baselinePath} (WER ${pct(trained.wer)} < ${
        pct(baseline.wer)
      }); kept as ${resultPath}`,
    );
  } else {
    console.log(
      `Result: the trained model (WER ${pct(trained.wer)}) did not beat ${baselinePath} (WER ${
        pct(baseline.wer)
      }); ` +
        `the demo's result is that checkpoint, copied to ${resultPath}` +
        (values.minutes < 60 ? " (a longer budget, e.g. --minutes 60, gives training more steps)" : ""),
    );
  }
  const outputs: [string, string][] = [
    [trainDir, "training audio and manifest"],
    [`${out}/synth/heldout`, "held-out audio and manifest"],
    [runDir, "checkpoints, log, training.svg, plan.json, the LM, result.safetensors, evaluation.json"],
    [`${out}/dev_sets`, "development sets of the table"],
  ];
  console.log(`Outputs (${formatBytes(diskUsage(out).nBytes)} in ${out} in all):`);
  for (const [path, what] of outputs) {
    const { nBytes, nFiles } = diskUsage(path);
    console.log(`  ${path}: ${formatBytes(nBytes)} in ${nFiles} files (${what})`);
  }
  console.log(
    `Transcribe with it: ./deno task transcribe --checkpoint ${resultPath} ${heldSet.entries[0].audioPath}`,
  );
});
