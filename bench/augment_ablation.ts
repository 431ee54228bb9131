/**
 * A small augmentation ablation: fine-tune the shipped checkpoint (small_wide_espeak) for the
 * same few steps with no augmentation, each augmentation alone, and all of them together, on
 * one synthetic training set (espeak-ng + flite rms/awb, VOICE_SPLITS.train, speaking training
 * prompts of data/corpora/text/gutenberg_sentences.txt), then score every run on the development
 * sets of data/corpora/dev_sets.ts (greedy WER/CER). Every run trains from the Worker loader
 * with the same seed, so all see the same batch order; only the augmentation differs.
 *
 *   ./deno run -A bench/augment_ablation.ts --steps 150 --out work/ablation
 *
 * Prints a Markdown table (and writes <out>/ablation.json). A run this short shows direction at
 * best: differences of a few points WER are within the noise of one seed. Not done here: more
 * seeds, longer runs, a beam search with an LM.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { makeDevSets } from "../data/corpora/dev_sets.ts";
import {
  drawSpeaker,
  filterSentences,
  hasEspeak,
  synthesizeCorpus,
  VOICE_SPLITS,
} from "../data/corpora/synth.ts";
import { trainingPrompts } from "../data/corpora/text_split.ts";
import type { AugmentConfig } from "../data/pipeline/extract.ts";
import { readManifest, writeManifest } from "../data/pipeline/manifest.ts";
import { Vocabulary } from "../data/pipeline/vocabulary.ts";
import { config as smallWide } from "../models/configs/small_wide.ts";
import type { SpeechConfig } from "../models/configs/types.ts";
import { evaluateSets, type SetScores } from "../models/evaluation_table.ts";
import { loadModel } from "../models/inference.ts";
import { train } from "../models/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "work/ablation" },
    steps: { type: "string", default: "150" },
    "batch-size": { type: "string", default: "8" },
    "train-count": { type: "string", default: "400" },
    "dev-prompts": { type: "string", default: "100" },
    "fsdd-per-speaker": { type: "string", default: "30" },
    workers: { type: "string", default: "1" },
    init: { type: "string", default: "models/pretrained/small_wide_espeak.safetensors" },
    only: { type: "string" },
    lr: { type: "string", default: "0.005" },
  },
});
const steps = Number(values.steps);
const batchSize = Number(values["batch-size"]);
const trainCount = Number(values["train-count"]);
const devPrompts = Number(values["dev-prompts"]);
const fsddPerSpeaker = Number(values["fsdd-per-speaker"]);
const nWorkers = Number(values.workers);
const out = values.out;
if (!hasEspeak()) {
  console.error(
    "bench/augment_ablation.ts: espeak-ng is not installed (apt-get install espeak-ng flite sox)",
  );
  Deno.exit(1);
}

/** The settings compared; "all" chains every part in augmentWaveform's fixed order. */
const PARTS: Required<Omit<AugmentConfig, "noise">> = {
  speed: { range: [0.9, 1.1], filter: "kaiser_fast" },
  bandLimit: { probability: 0.5 },
  noiseSnr: { minSnrDb: 5, maxSnrDb: 30 },
  reverb: { probability: 0.5, minRt60S: 0.2, maxRt60S: 0.8 },
  gain: { minDb: -6, maxDb: 6 },
  specAugment: { nFreqMasks: 2, freqWidth: 8, nTimeMasks: 2, timeWidth: 15 },
};
// "shipped" scores the checkpoint as it is, without fine-tuning: the reference for the others.
const settings: [string, AugmentConfig | undefined][] = [
  ["shipped", undefined],
  ["none", undefined],
  ...Object.entries(PARTS).map(([k, v]) => [k, { [k]: v }] as [string, AugmentConfig]),
  ["all", PARTS],
];

const vocab = Vocabulary.english();
const text = Deno.readTextFileSync("data/corpora/text/gutenberg_sentences.txt");
const t0 = performance.now();
const prompts = filterSentences(trainingPrompts(text.split("\n")), vocab, { maxChars: 80 }).slice(
  0,
  trainCount,
);
const trainSet = await synthesizeCorpus(prompts, {
  outDir: join(out, "train"),
  voiceSet: VOICE_SPLITS.train,
  seed: 1,
});
const nFlite = prompts.filter((_, i) => drawSpeaker(VOICE_SPLITS.train, 1, i).engine === "flite").length;
console.error(
  `[ablation] training set: ${prompts.length} utterances, ${nFlite} by flite (${
    ((performance.now() - t0) / 1000).toFixed(0)
  } s)`,
);
const sharedDataDir = existsSync("../shared/data/real") ? "../shared/data" : null;
const devSets = await makeDevSets({
  outDir: join(out, "dev"),
  promptText: text,
  vocab,
  sharedDataDir,
  nPrompts: devPrompts,
  onSkip: (name, why) => console.error(`[ablation] ${name} left out: ${why}`),
});
// Every k-th file of each FSDD speaker (digits in turn), to keep evaluation short; flite_rms is
// a training voice and left out here.
const scored = [];
for (const s of devSets) {
  if (s.name === "flite_rms") continue;
  if (s.name.startsWith("fsdd_") && s.nUtterances > fsddPerSpeaker) {
    const all = readManifest(s.manifestPath);
    const step = all.length / fsddPerSpeaker;
    const some = Array.from({ length: fsddPerSpeaker }, (_, i) => all[Math.floor(i * step)]);
    const path = join(out, "dev", `${s.name}_${fsddPerSpeaker}.csv`);
    writeManifest(path, some);
    scored.push({ name: s.name, manifestPath: path });
  } else scored.push({ name: s.name, manifestPath: s.manifestPath });
}
console.error(`[ablation] dev sets ready (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

const results: { setting: string; trainS: number; finalLoss: number | null; rows: SetScores[] }[] = [];
const resultsPath = join(out, "ablation.json");
if (values.only !== undefined && existsSync(resultsPath)) {
  results.push(...JSON.parse(Deno.readTextFileSync(resultsPath)));
}
const base: SpeechConfig = {
  ...smallWide,
  data: {
    ...smallWide.data,
    train: [trainSet.manifestPath],
    batchSize,
    freqMasks: undefined,
    timeMasks: undefined,
    nWorkers,
  },
  lrPolicy: {
    kind: "cosine",
    lr: Number(values.lr),
    warmupSteps: Math.ceil(steps / 5),
    decaySteps: steps,
    minLr: 1e-5,
  },
  training: {
    ...smallWide.training,
    maxSteps: steps,
    logEvery: 10,
    saveEvery: 1_000_000,
    keepCheckpoints: 1,
    initCheckpoint: values.init,
  },
};
for (const [name, augment] of settings) {
  if (values.only !== undefined && !values.only.split(",").includes(name)) continue;
  const config: SpeechConfig = {
    ...base,
    name: `ablation_${name}`,
    data: { ...base.data, augment },
    training: { ...base.training, logDir: join(out, "runs", name) },
  };
  if (name === "shipped") {
    const rows = await evaluateSets(await loadModel(values.init), scored, { batchSize: 16 });
    record({ setting: name, trainS: 0, finalLoss: null, rows });
    continue;
  }
  await Deno.remove(config.training.logDir, { recursive: true }).catch(() => {});
  const started = performance.now();
  // The mean of the last five logged losses (each one batch's): less noisy than the last alone.
  const losses: number[] = [];
  await train(config, { useLoader: true, onLog: (l) => losses.push(l.loss) });
  const lastFive = losses.slice(-5);
  const finalLoss = lastFive.reduce((a, b) => a + b, 0) / lastFive.length;
  const trainS = (performance.now() - started) / 1000;
  const m = await loadModel(
    join(config.training.logDir, `ckpt-${String(steps).padStart(8, "0")}.safetensors`),
  );
  const rows = await evaluateSets(m, scored, { batchSize: 16 });
  const line = rows.map((r) => `${r.set} ${(100 * r.greedy.wer).toFixed(1)}`).join(", ");
  console.error(`[ablation] ${name}: ${trainS.toFixed(0)} s, loss ${finalLoss.toFixed(2)}; WER ${line}`);
  record({ setting: name, trainS, finalLoss, rows });
}

/** Keeps one result per setting (a re-run replaces it) and writes them all. */
function record(r: (typeof results)[number]): void {
  const k = results.findIndex((x) => x.setting === r.setting);
  if (k >= 0) results.splice(k, 1);
  results.push(r);
  Deno.writeTextFileSync(resultsPath, JSON.stringify(results, null, 2) + "\n");
}

// The table: one row per setting (in the order above), greedy WER (CER) per set in percent.
const order = settings.map(([name]) => name);
results.sort((a, b) => order.indexOf(a.setting) - order.indexOf(b.setting));
const setNames = results[0]?.rows.map((r) => r.set) ?? [];
const head = ["setting", "train s", "loss, last 5 logs", ...setNames.map((s) => `${s} WER (CER)`)];
console.log(`| ${head.join(" | ")} |`);
console.log(`| ${head.map(() => "---").join(" | ")} |`);
for (const r of results) {
  const cells = r.rows.map((x) => `${(100 * x.greedy.wer).toFixed(1)} (${(100 * x.greedy.cer).toFixed(1)})`);
  console.log(
    `| ${
      [r.setting, r.trainS.toFixed(0), r.finalLoss === null ? "–" : r.finalLoss.toFixed(2), ...cells].join(
        " | ",
      )
    } |`,
  );
}
console.log(`\nutterances: ${results[0]?.rows.map((r) => `${r.set} ${r.nUtterances}`).join(", ")}`);
