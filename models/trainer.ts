/**
 * Training, evaluation and inference loops for CtcModel, driven by a SpeechConfig.
 *
 * A step: pad a batch → SpecAugment (train) → `trainStep` (models/train_step.ts: forward, CTC
 * loss, backward, gradient norm, clipping, the update every iterSize batches with the mean of
 * their gradients, and the NaN/Inf check, all on the device). A non-finite loss or gradient
 * skips the update on the device. Nothing is read back between log records: every `logEvery`
 * steps one read fetches the logged step's loss and gradient norm with the count of steps
 * skipped since the previous record (models/step_monitor.ts), and only then is
 * `maxNonFiniteSteps` in a row checked: at log granularity, so a run with logEvery > 1 may go
 * on a few steps past the limit before it stops with an error (the last good checkpoint stays
 * on disk). Each logged step is one JSON line in <logDir>/log.jsonl naming the backend (and a
 * progress bar with ETA goes to stderr when it is a terminal, models/progress.ts); eval WER is
 * logged on a schedule; checkpoints are atomic, record the backend, and resume exactly (same
 * data order, same random state).
 *
 * Two data paths (models/training_data.ts decides): features computed once in-process
 * (models/dataset.ts) with SpecAugment on the padded batch, or, when the config asks for
 * waveform augmentation or a mix (or `useLoader`), the Worker loader (data/pipeline/loader.ts),
 * which augments each utterance from its own seed and whose `state()` goes into every checkpoint.
 */
import { applySpecAugment } from "../data/augment/spec_augment.ts";
import { type Batch, padBatch, planEpoch } from "../data/pipeline/batches.ts";
import type { LoaderState } from "../data/pipeline/loader.ts";
import { readVocabulary, Vocabulary } from "../data/pipeline/vocabulary.ts";
import { ctcGreedyDecode } from "../decode/greedy.ts";
import { charErrorRate, wordErrorRate } from "../decode/metrics.ts";
import { describeBackend, noGrad, Rng, type RngState, type Tensor, tensor, TensorScope } from "../ops/mod.ts";
import {
  type CheckpointMeta,
  listCheckpoints,
  loadCheckpoint,
  loadOptimizerState,
  saveCheckpoint,
} from "./checkpoint.ts";
import type { SpeechConfig } from "./configs/types.ts";
import { CtcModel } from "./ctc_model.ts";
import { loadUtterances, type UtteranceSet } from "./dataset.ts";
import { learningRate } from "./lr_policy.ts";
import { AdamW } from "./optimizers/adamw.ts";
import { NovoGrad } from "./optimizers/novograd.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";
import { SGD } from "./optimizers/sgd.ts";
import { writeTrainingPlot } from "./plot.ts";
import type { UtteranceDecoder } from "./transcript_decoder.ts";
import { ProgressBar } from "./progress.ts";
import { StepMonitor } from "./step_monitor.ts";
import { trainStep } from "./train_step.ts";
import { BackoffLossScaler } from "./loss_scaler.ts";
import { resolvePrecision } from "./precision.ts";
import { makeTrainingLoader, resolveAugment, usesLoader, validateDataConfig } from "./training_data.ts";

/** One logged training step. */
export interface StepLog {
  /** 0-based training step (one batch; updates happen every iterSize steps). */
  step: number;
  /** 0-based epoch of the batch. */
  epoch: number;
  /** CTC loss of the batch: −log p(target) summed over utterances, divided by the batch size. */
  loss: number;
  /** Learning rate of the policy at this step. */
  lr: number;
  /** Global L2 norm of the accumulated gradients, before clipping (not finite for a skipped step). */
  gradNorm: number;
  /**
   * Mean wall-clock seconds per step (padding, SpecAugment, forward, backward, update) over the
   * steps since the previous record: on a GPU the work of unlogged steps is waited for at the
   * logged step's read, so a single step's time would mean little.
   */
  stepTimeS: number;
  /** Seconds of audio per second of step time, over the same steps as `stepTimeS`. */
  audioSecondsPerSecond: number;
  /** True when this step's loss or gradient norm was not finite: the gradients were dropped, no update made. */
  skipped?: boolean;
  /** Steps skipped as non-finite since the previous record, this one included; absent when none. */
  skippedSinceLastLog?: number;
  /** The backend the step ran on (`getBackend().name`: "cpu", "webgpu", ...). */
  backend: string;
  /** Its device, in words (`describeBackend`). */
  device: string;
}

/** Result of an evaluation pass. */
export interface EvalResult {
  /** Corpus word error rate as a fraction: Σ word edit distance / Σ reference words. */
  wer: number;
  /** Corpus character error rate as a fraction. */
  cer: number;
  /** Mean CTC loss per utterance. */
  loss: number;
  /** Reference transcripts, in set order. */
  references: string[];
  /** Decoded transcripts, aligned with `references`. */
  hypotheses: string[];
  /** Audio paths, aligned with `references`. */
  paths: string[];
  /** With a decoder: the greedy WER/CER of the same logits, beside the decoder's. */
  greedy?: { wer: number; cer: number };
}

/** The vocabulary a config names. */
export function vocabularyOf(config: SpeechConfig): Vocabulary {
  return config.vocabulary === "english" ? Vocabulary.english() : readVocabulary(config.vocabulary);
}

/** The optimizer a config names. */
export function makeOptimizer(config: SpeechConfig, params: Map<string, Tensor>): Optimizer {
  const o = config.optimizer;
  const common = { weightDecay: o.weightDecay, larc: o.larc, clipNorm: o.clipNorm };
  switch (o.kind) {
    case "novograd":
      return new NovoGrad(params, {
        ...common,
        beta1: o.beta1,
        beta2: o.beta2,
        epsilon: o.epsilon,
        gradAveraging: o.gradAveraging,
      });
    case "sgd":
      return new SGD(params, { ...common, momentum: o.momentum ?? 0.9 });
    case "adamw":
    case "adam":
      return new AdamW(params, {
        ...common,
        beta1: o.beta1,
        beta2: o.beta2,
        epsilon: o.epsilon,
        decoupled: o.kind === "adamw",
      });
  }
}

/** Tensors of a padded batch. */
function batchTensors(batch: Batch): Tensor {
  return tensor(batch.features, [batch.featureLengths.length, batch.nFeatures, batch.maxFrames]);
}

/** Greedy transcripts of logits [N, T', V] with per-utterance lengths. */
export async function greedyTranscripts(
  logits: Tensor,
  lengths: Int32Array,
  vocab: Vocabulary,
): Promise<string[]> {
  const [n, t, v] = logits.shape;
  const data = await logits.data() as Float32Array;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const view = data.subarray(i * t * v, (i * t + lengths[i]) * v);
    out.push(
      ctcGreedyDecode(view, { nFrames: lengths[i], blankIndex: vocab.blankIndex, vocabulary: vocab.chars })
        .text,
    );
  }
  return out;
}

/**
 * WER/CER and mean loss of `model` on `set` (eval mode), with greedy decoding or, when
 * `options.decoder` is given, with that decoder (beam search + LM as a config asks) and the
 * greedy figures of the same forward pass beside it.
 */
export async function evaluate(
  model: CtcModel,
  set: UtteranceSet,
  vocab: Vocabulary,
  options: { batchSize: number; padTo?: number; decoder?: UtteranceDecoder },
): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  const refs: string[] = [], greedyHyps: string[] = [], decodedHyps: string[] = [], paths: string[] = [];
  let lossSum = 0;
  for (let i = 0; i < set.items.length; i += options.batchSize) {
    const batch = padBatch(set.items.slice(i, i + options.batchSize), { padTo: options.padTo });
    using _scope = new TensorScope();
    const { logits, lengths } = noGrad(() => model.forward(batchTensors(batch), batch.featureLengths));
    const loss = noGrad(() => model.loss(logits, lengths, batch.targets, batch.targetLengths));
    lossSum += (await loss.item()) * batch.transcripts.length;
    greedyHyps.push(...await greedyTranscripts(logits, lengths, vocab));
    if (options.decoder) {
      const [n, t, v] = logits.shape;
      const data = await logits.data() as Float32Array;
      const utts = Array.from({ length: n }, (_, i) => ({
        logits: data.subarray(i * t * v, (i * t + lengths[i]) * v),
        nFrames: lengths[i],
      }));
      decodedHyps.push(...(await options.decoder.decode(utts)).map((r) => r.text));
    }
    refs.push(...batch.transcripts);
    paths.push(...batch.paths);
  }
  model.train(wasTraining);
  const hyps = options.decoder ? decodedHyps : greedyHyps;
  const greedy = { wer: wordErrorRate(refs, greedyHyps).rate, cer: charErrorRate(refs, greedyHyps).rate };
  return {
    wer: wordErrorRate(refs, hyps).rate,
    cer: charErrorRate(refs, hyps).rate,
    loss: lossSum / Math.max(refs.length, 1),
    references: refs,
    hypotheses: hyps,
    paths,
    ...(options.decoder ? { greedy } : {}),
  };
}

/** Options of `train`. */
export interface TrainOptions {
  /** Resume from the newest checkpoint in logDir. */
  resume?: boolean;
  /** Evaluate on config.data.eval on the schedule (train_eval mode). */
  withEval?: boolean;
  /** Called with each logged step (the JSON line is written regardless). */
  onLog?: (log: StepLog) => void;
  /** Called after each evaluation. */
  onEval?: (step: number, result: EvalResult) => void;
  /**
   * Wall-clock time (`Date.now()` milliseconds) after which no new step starts: training
   * stops early, saves a checkpoint and evaluates as at `maxSteps`.
   */
  deadline?: number;
  /**
   * The learning rate of each step, in place of `config.lrPolicy` (e.g. `budgetedLearningRate`
   * for a run with a time budget); what it returns is logged.
   */
  learningRate?: (step: number) => number;
  /**
   * Pre-loaded training data (otherwise read from config.data.train). Given, it is trained on
   * in-process even when the config asks for waveform augmentation or a mix (which need audio).
   */
  trainSet?: UtteranceSet;
  /**
   * Train from the Worker loader even without waveform augmentation or a mix: for a corpus too
   * large to hold in memory, or an ablation that wants one batch stream for every setting.
   * Ignored when `trainSet` is given.
   */
  useLoader?: boolean;
  /** Pre-loaded evaluation data (otherwise read from config.data.eval when `withEval`). */
  evalSet?: UtteranceSet;
}

/**
 * Keeps the records of a JSON-lines training log that precede a checkpoint at `step` (step
 * records before it, eval records up to it), rewriting the file atomically; returns them.
 */
async function rewindLog(path: string, step: number): Promise<Record<string, number>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const kept: Record<string, number>[] = [];
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let r: Record<string, number>;
    try {
      r = JSON.parse(line);
    } catch {
      continue; // a line cut short by the interruption
    }
    if ("evalWer" in r ? r.step <= step : r.step < step) {
      kept.push(r);
      lines.push(line);
    }
  }
  await Deno.writeTextFile(`${path}.tmp`, lines.map((l) => l + "\n").join(""));
  await Deno.rename(`${path}.tmp`, path);
  return kept;
}

/** Trains a model from scratch or from the newest checkpoint; returns the model and last eval. */
export async function train(
  config: SpeechConfig,
  options: TrainOptions = {},
): Promise<{ model: CtcModel; lastEval: EvalResult | null; steps: number }> {
  const t = config.training;
  const vocab = vocabularyOf(config);
  validateDataConfig(config);
  // Waveform augmentation or a mix: features afresh each epoch from Workers (models/training_data.ts).
  const fromLoader = options.trainSet === undefined && (options.useLoader || usesLoader(config));
  const trainSet = fromLoader
    ? null
    : options.trainSet ?? loadUtterances(config.data.train, vocab, config.features);
  const evalSet = options.withEval
    ? options.evalSet ?? loadUtterances(config.data.eval, vocab, config.features)
    : null;
  if (trainSet?.items.length === 0) {
    throw new Error(`${config.name}: the training manifests hold no utterances`);
  }
  const rng = new Rng(t.seed);
  const nFeatures = trainSet?.items[0].nFeatures ?? config.features.numFeatures;
  const model = new CtcModel(nFeatures, vocab.size, config.encoder, rng);
  console.error(`[deno-ctc] ${config.name}: ${model.parameterCount().toLocaleString("en-US")} parameters`);
  const optimizer = makeOptimizer(config, model.parameters());
  const backend = model.parameters().values().next().value?.backend;
  if (!backend) throw new Error(`${config.name}: the model has no parameters`);
  // Mixed precision: float16 GEMM inputs and a loss scaler, where the backend holds float16.
  const precision = resolvePrecision(t.precision ?? "f32", backend);
  model.setPrecision(precision);
  const lossScaler = precision === "f32" ? null : new BackoffLossScaler(backend.name, t.lossScaler);
  const dataRng = new Rng(t.seed + 1);
  let step = 0, epoch = 0, batchInEpoch = 0;
  let epochStartState = dataRng.state();
  // Set on resume mid-epoch: the data rng after the SpecAugment draws already made this epoch.
  let resumeAugmentState: number[] | null = null;
  let resumeLoaderState: LoaderState | undefined;
  let resumed = false;
  if (options.resume) {
    const last = listCheckpoints(t.logDir).at(-1);
    if (last) {
      const ckpt = await loadCheckpoint(last);
      model.loadStateDict(ckpt.state);
      await loadOptimizerState(last, optimizer, { lossScaler });
      ({ step, epoch, batchInEpoch } = ckpt.meta);
      rng.setState(ckpt.meta.rngState as RngState);
      epochStartState = ckpt.meta.dataRngState as typeof epochStartState;
      resumeAugmentState = ckpt.meta.augmentRngState ?? null;
      resumeLoaderState = ckpt.meta.loaderState;
      resumed = true;
      console.error(`[deno-ctc] resumed from ${last} at step ${step}`);
    }
  }
  if (!resumed && t.initCheckpoint) {
    const init = await loadCheckpoint(t.initCheckpoint);
    if (init.meta.vocabulary.join("") !== vocab.chars.join("") || init.meta.blankIndex !== vocab.blankIndex) {
      throw new Error(
        `${t.initCheckpoint}: its vocabulary ${
          JSON.stringify(init.meta.vocabulary.join(""))
        } is not the config's ${JSON.stringify(vocab.chars.join(""))}`,
      );
    }
    try {
      model.loadStateDict(init.state);
    } catch (e) {
      throw new Error(`${t.initCheckpoint}: does not fit ${config.name}'s model: ${(e as Error).message}`);
    }
    console.error(`[deno-ctc] starting from the weights of ${t.initCheckpoint} (step ${init.meta.step})`);
  }
  await Deno.mkdir(t.logDir, { recursive: true });
  using loader = fromLoader ? makeTrainingLoader(config, vocab, { resume: resumeLoaderState }) : null;
  const history: { step: number; loss: number }[] = [];
  const evals: { step: number; wer: number }[] = [];
  if (resumed) {
    // The log continues as if never interrupted: records after the checkpoint are dropped
    // (they will be written again), earlier ones go back into the plot.
    for (const r of await rewindLog(`${t.logDir}/log.jsonl`, step)) {
      if (typeof r.loss === "number") history.push({ step: r.step, loss: r.loss });
      if (typeof r.evalWer === "number") evals.push({ step: r.step, wer: r.evalWer });
    }
  }
  const log = await Deno.open(`${t.logDir}/log.jsonl`, { append: true, create: true });
  const enc = new TextEncoder();
  let lastEval: EvalResult | null = null;
  using monitor = new StepMonitor(backend.name);
  const device = describeBackend(backend);
  let lastLoss: number | undefined;
  // Host time and audio of the steps since the previous log record.
  let windowTimeS = 0, windowAudioS = 0, stepsSinceLog = 0;
  const checkNonFinite = (run: number, lastLossText: string) => {
    if (run >= t.maxNonFiniteSteps) {
      throw new Error(
        `${config.name}: ${run} non-finite steps in a row by step ${step} (${lastLossText}); the last checkpoint in ${t.logDir} is intact`,
      );
    }
  };
  // A bar with ETA only for a person watching; logs and pipes get the JSON lines alone.
  const progress = Deno.stderr.isTerminal() ? new ProgressBar(t.maxSteps, { startStep: step }) : null;
  const padTo = config.features.padTo ?? 8;
  const save = async () => {
    // A checkpoint is no later than the limit on non-finite steps: the check is due here too.
    checkNonFinite(await monitor.longestRun(), "checked at a checkpoint");
    const meta: CheckpointMeta = {
      config,
      vocabulary: [...vocab.chars],
      blankIndex: vocab.blankIndex,
      step,
      epoch,
      batchInEpoch,
      rngState: rng.state(),
      dataRngState: [...epochStartState],
      backend: backend.name,
      precision,
    };
    if (batchInEpoch > 0) meta.augmentRngState = dataRng.state();
    if (loader) {
      meta.loaderState = loader.state();
      meta.epoch = meta.loaderState.epoch;
      meta.batchInEpoch = meta.loaderState.position;
    }
    await saveCheckpoint(t.logDir, model, optimizer, meta, { keep: t.keepCheckpoints, lossScaler });
  };
  const specAugment = resolveAugment(config.data)?.specAugment;
  /** One training step on `batch`, its log record, evaluation and checkpoint when due. */
  const runStep = async (batch: Batch, audioS: number, started: number) => {
    const lr = options.learningRate?.(step) ?? learningRate(config.lrPolicy, step);
    using _stepScope = new TensorScope();
    // Windows counted in global steps, not within the epoch: they then span epoch ends
    // evenly, and a checkpoint at a multiple of iterSize holds no pending gradients.
    const result = trainStep(model, optimizer, {
      features: batchTensors(batch),
      featureLengths: batch.featureLengths,
      targets: batch.targets,
      targetLengths: batch.targetLengths,
    }, {
      lr,
      iterSize: t.iterSize,
      update: (step + 1) % t.iterSize === 0,
      lossScaler: lossScaler ?? undefined,
    });
    monitor.record(result);
    stepsSinceLog++;
    windowAudioS += audioS;
    if (step % t.logEvery === 0) {
      // The only read of a step: the loss, gradient norm and skip counts, together.
      const seen = await monitor.read(result);
      windowTimeS += (performance.now() - started) / 1000;
      checkNonFinite(seen.longestNonFiniteRun, `last loss ${seen.loss}`);
      const entry: StepLog = {
        step,
        epoch,
        loss: seen.loss,
        lr,
        gradNorm: seen.gradNorm,
        stepTimeS: windowTimeS / stepsSinceLog,
        audioSecondsPerSecond: windowAudioS / windowTimeS,
        backend: backend.name,
        device,
      };
      if (!seen.isFinite) entry.skipped = true;
      if (seen.skippedSinceLastRead > 0) entry.skippedSinceLastLog = seen.skippedSinceLastRead;
      await log.write(enc.encode(JSON.stringify(entry) + "\n"));
      progress?.clear();
      options.onLog?.(entry);
      history.push({ step, loss: seen.loss });
      lastLoss = seen.loss;
      windowTimeS = 0;
      windowAudioS = 0;
      stepsSinceLog = 0;
    } else {
      windowTimeS += (performance.now() - started) / 1000;
    }
    step++;
    progress?.update(step, { loss: lastLoss });
    if (evalSet && step % t.evalEvery === 0) {
      lastEval = await evaluate(model, evalSet, vocab, { batchSize: config.data.batchSize, padTo });
      evals.push({ step, wer: lastEval.wer });
      await log.write(
        enc.encode(
          JSON.stringify({
            step,
            evalWer: lastEval.wer,
            evalCer: lastEval.cer,
            evalLoss: lastEval.loss,
          }) + "\n",
        ),
      );
      progress?.clear();
      options.onEval?.(step, lastEval);
    }
    if (step % t.saveEvery === 0) {
      batchInEpoch++;
      await save();
      batchInEpoch--;
    }
  };
  try {
    const timeLeft = () => options.deadline === undefined || Date.now() < options.deadline;
    const hopS = config.features.windowStride ?? 0.01;
    while (loader && step < t.maxSteps && (t.epochs === undefined || epoch < t.epochs) && timeLeft()) {
      // The loader's state (saved in each checkpoint) carries the epoch, position and Rng.
      epoch = loader.state().epoch;
      let started = performance.now();
      for await (const batch of loader.epoch()) {
        // Audio seconds from frame counts: the loader's batches carry no durations, and a
        // speed-perturbed utterance is as long as its frames say.
        let frames = 0;
        for (let b = 0; b < batch.featureLengths.length; b++) frames += batch.featureLengths[b];
        await runStep(batch, frames * hopS, started);
        if (step >= t.maxSteps || !timeLeft()) break;
        started = performance.now();
      }
      epoch = loader.state().epoch;
    }
    while (trainSet && step < t.maxSteps && (t.epochs === undefined || epoch < t.epochs) && timeLeft()) {
      dataRng.setState(epochStartState);
      const plan = planEpoch(trainSet.durations, dataRng, { batchSize: config.data.batchSize, nBuckets: 4 });
      if (resumeAugmentState) {
        // The plan above repeats the interrupted epoch's; SpecAugment continues where it stopped.
        dataRng.setState(resumeAugmentState as typeof epochStartState);
        resumeAugmentState = null;
      }
      for (; batchInEpoch < plan.length && step < t.maxSteps && timeLeft(); batchInEpoch++) {
        const started = performance.now();
        const items = plan[batchInEpoch].map((i) => trainSet.items[i]);
        const batch = padBatch(items, { padTo });
        if (specAugment) {
          const perUtt = batch.nFeatures * batch.maxFrames;
          for (let b = 0; b < items.length; b++) {
            applySpecAugment(
              batch.features.subarray(b * perUtt, (b + 1) * perUtt),
              dataRng,
              { nFeatures: batch.nFeatures, nFrames: batch.featureLengths[b], stride: batch.maxFrames },
              specAugment,
            );
          }
        }
        await runStep(batch, plan[batchInEpoch].reduce((s, i) => s + trainSet.durations[i], 0), started);
      }
      if (batchInEpoch >= plan.length) {
        epoch++;
        batchInEpoch = 0;
        epochStartState = dataRng.state();
      }
    }
    progress?.done();
    await save();
    if (evalSet && (!lastEval || step % t.evalEvery !== 0)) {
      lastEval = await evaluate(model, evalSet, vocab, { batchSize: config.data.batchSize, padTo });
      evals.push({ step, wer: lastEval.wer });
      options.onEval?.(step, lastEval);
    }
  } finally {
    progress?.done();
    log.close();
    if (history.length > 1) {
      await writeTrainingPlot(`${t.logDir}/training.svg`, history, evals).catch(() => {});
    }
  }
  return { model, lastEval, steps: step };
}
