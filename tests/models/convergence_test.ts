/**
 * OpenSeq2Seq's kind of convergence test (open_seq2seq/test_utils/test_speech_configs), for
 * every model family: on a handful of short espeak-ng utterances an untrained model has WER
 * ≥ 0.9 and a large loss, and after overfitting those same utterances with the toolkit's
 * trainer its greedy eval WER is < 0.1. Tiny versions of Jasper (dense residual),
 * Wave2Letter+ (clipped ReLU, no residual), QuartzNet (separable, residual) and DeepSpeech2
 * (conv2d + biGRU), 5–20 s each on 2 CPU cores, so they run with the default tests. Needs
 * espeak-ng and sox (skips loudly).
 *
 * Run alone: `./deno test -A tests/models/convergence_test.ts` (CONVERGENCE_FAMILY=quartznet
 * runs one family).
 */
import assert from "node:assert/strict";
import { hasEspeak, synthesizeCorpus } from "../../data/corpora/synth.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { Rng } from "../../ops/mod.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { CtcModel, type EncoderConfig } from "../../models/ctc_model.ts";
import { loadUtterances, type UtteranceSet } from "../../models/dataset.ts";
import { evaluate, train } from "../../models/trainer.ts";

const haveEspeak = hasEspeak();
if (!haveEspeak) console.warn("SKIPPED: tests/models/convergence_test.ts needs espeak-ng and sox");

const SENTENCES = [
  "go forward ten meters",
  "turn left at the door",
  "stop the red car",
  "open the window now",
  "yes please come back",
];

const FEATURES: SpeechConfig["features"] = {
  inputType: "logfbank",
  numFeatures: 40,
  backend: "librosa",
  windowSize: 0.02,
  windowStride: 0.01,
  normPerFeature: true,
  padTo: 8,
};

const bn = { bnMomentum: 0.1, bnEps: 1e-3 };

interface Family {
  name: string;
  encoder: EncoderConfig;
  optimizer: SpeechConfig["optimizer"];
  lr: number;
  steps: number;
}

const families: Family[] = [
  {
    name: "jasper",
    encoder: {
      kind: "tdnn",
      activation: "relu",
      ...bn,
      blocks: [
        { repeat: 1, kernel: 11, stride: 2, channels: 96, dropout: 0 },
        { repeat: 2, kernel: 11, channels: 96, dropout: 0, residual: true, residualDense: true },
        { repeat: 2, kernel: 13, channels: 96, dropout: 0, residual: true, residualDense: true },
        { repeat: 2, kernel: 15, channels: 128, dropout: 0, residual: true, residualDense: true },
        { repeat: 1, kernel: 1, channels: 160, dropout: 0 },
      ],
    },
    optimizer: { kind: "novograd", beta1: 0.9, beta2: 0.5, weightDecay: 0.001 },
    lr: 0.02,
    steps: 150,
  },
  {
    name: "wav2letter+",
    encoder: {
      kind: "tdnn",
      activation: "clipped_relu",
      ...bn,
      blocks: [
        { repeat: 1, kernel: 11, stride: 2, channels: 96, dropout: 0 },
        { repeat: 2, kernel: 11, channels: 96, dropout: 0 },
        { repeat: 2, kernel: 13, channels: 128, dropout: 0 },
        { repeat: 1, kernel: 15, dilation: 2, channels: 128, dropout: 0 },
        { repeat: 1, kernel: 1, channels: 160, dropout: 0 },
      ],
    },
    optimizer: { kind: "novograd", beta1: 0.9, beta2: 0.5, weightDecay: 0.001 },
    lr: 0.02,
    steps: 150,
  },
  {
    name: "quartznet",
    encoder: {
      kind: "tdnn",
      activation: "relu",
      ...bn,
      blocks: [
        { repeat: 1, kernel: 33, stride: 2, channels: 96, dropout: 0, separable: true },
        { repeat: 3, kernel: 33, channels: 96, dropout: 0, residual: true, separable: true },
        { repeat: 3, kernel: 39, channels: 96, dropout: 0, residual: true, separable: true },
        { repeat: 1, kernel: 41, dilation: 2, channels: 128, dropout: 0, separable: true },
        { repeat: 1, kernel: 1, channels: 160, dropout: 0 },
      ],
    },
    optimizer: { kind: "novograd", beta1: 0.9, beta2: 0.5, weightDecay: 0.001 },
    lr: 0.02,
    steps: 250,
  },
  {
    name: "deepspeech2",
    encoder: {
      kind: "ds2",
      convLayers: [{ kernel: [11, 21], stride: [2, 2], channels: 16 }],
      rnnLayers: 1,
      rnnUnits: 96,
      bidirectional: true,
      hidden: 128,
      dropout: 0,
      activation: "clipped_relu",
      bnMomentum: 0.1,
      bnEps: 1e-3,
    },
    optimizer: { kind: "adam", beta1: 0.9, beta2: 0.999 },
    lr: 0.01,
    steps: 450,
  },
];

function configOf(f: Family, logDir: string): SpeechConfig {
  return {
    name: `convergence-${f.name}`,
    vocabulary: "english",
    features: FEATURES,
    encoder: f.encoder,
    data: { train: [], eval: [], infer: [], batchSize: SENTENCES.length },
    optimizer: f.optimizer,
    lrPolicy: { kind: "cosine", lr: f.lr, warmupSteps: 10, decaySteps: f.steps, minLr: f.lr / 50 },
    training: {
      maxSteps: f.steps,
      iterSize: 1,
      logEvery: 10,
      evalEvery: 25,
      saveEvery: 1_000_000,
      keepCheckpoints: 1,
      maxNonFiniteSteps: 5,
      seed: 1,
      logDir,
    },
    decoder: { kind: "greedy" },
  };
}

let corpus: Promise<{ dir: string; set: UtteranceSet }> | null = null;

/** The utterances, synthesised once for all families. */
function utterances(): Promise<{ dir: string; set: UtteranceSet }> {
  corpus ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "convergence_" });
    // Removed when the test module ends, whichever of the tests ran (--filter, CONVERGENCE_FAMILY).
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const res = await synthesizeCorpus(SENTENCES, { outDir: `${dir}/data`, seed: 2, concurrency: 2 });
    return { dir, set: loadUtterances([res.manifestPath], Vocabulary.english(), FEATURES) };
  })();
  return corpus;
}

const only = Deno.env.get("CONVERGENCE_FAMILY");
const selected = families.filter((f) => !only || f.name === only);

for (const family of selected) {
  Deno.test({
    name:
      `${family.name}: untrained WER ≥ 0.9, and eval WER < 0.1 after overfitting ${SENTENCES.length} utterances`,
    ignore: !haveEspeak,
    async fn() {
      const { dir, set } = await utterances();
      const vocab = Vocabulary.english();
      const config = configOf(family, `${dir}/${family.name}`);
      // The trainer builds its model from Rng(seed) as here, so this is the run's initial model.
      const untrained = new CtcModel(set.items[0].nFeatures, vocab.size, family.encoder, new Rng(1));
      const before = await evaluate(untrained, set, vocab, { batchSize: SENTENCES.length, padTo: 8 });
      const started = performance.now();
      const r = await train(config, {
        trainSet: set,
        evalSet: set,
        withEval: true,
        onEval: (step, e) =>
          console.log(`${family.name} step ${step}: WER ${e.wer.toFixed(3)} loss ${e.loss.toFixed(2)}`),
      });
      const seconds = (performance.now() - started) / 1000;
      const after = r.lastEval!;
      console.log(
        `${family.name}: ${untrained.parameterCount()} parameters; WER ${before.wer.toFixed(3)} → ${
          after.wer.toFixed(3)
        }, loss ${before.loss.toFixed(1)} → ${after.loss.toFixed(2)} in ${r.steps} steps, ${
          seconds.toFixed(0)
        } s`,
      );
      assert.ok(before.wer >= 0.9, `untrained WER ${before.wer}`);
      // Summed per utterance: ~20 characters at ≥ 1 nat each before training.
      assert.ok(before.loss > 20, `untrained loss ${before.loss}`);
      assert.ok(
        after.wer < 0.1,
        `WER after ${r.steps} steps: ${after.wer} (${after.hypotheses.join(" | ")})`,
      );
      assert.ok(after.loss < before.loss / 10, `loss ${before.loss} → ${after.loss}`);
    },
  });
}
