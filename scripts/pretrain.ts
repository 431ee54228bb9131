/**
 * pretrain: makes the shipped model with its recipe (models/pretrain_recipe.ts,
 * models/configs/small_wide_mixed.ts): synthesises the training corpus and writes the FSDD
 * training side (both re-used when present), trains (resuming from the newest checkpoint, so
 * it can run across sittings: `--minutes` ends this sitting at a checkpoint), and when the
 * schedule is done exports the float16 checkpoint and scores it on every development set.
 *
 *   deno task pretrain                       # all of it, ~1.5 h on 2 cores
 *   deno task pretrain --minutes 30          # one sitting; run again to continue
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand, UsageError } from "../cli/args.ts";
import { sharedDataDirOrNull } from "../cli/shared_data.ts";
import { hasEspeak, hasFlite } from "../data/corpora/synth.ts";
import { exportCheckpoint, listCheckpoints } from "../models/checkpoint.ts";
import { evaluateOnDevSets, formatEvaluationTable } from "../models/evaluation_table.ts";
import { loadModel } from "../models/inference.ts";
import { preparePretrainData, recipeConfig } from "../models/pretrain_recipe.ts";
import { train, vocabularyOf } from "../models/trainer.ts";
import { BACKEND_CHOICES, type BackendChoice, setBackend } from "../ops/backends/mod.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

const command = {
  name: "deno task pretrain",
  summary: "Make the shipped model with its recipe: data, training (resumable), export, evaluation.",
  flags: {
    out: { type: "string", default: "work/pretrain", valueName: "DIR", help: "data, checkpoints and table" },
    minutes: { type: "number", min: 0.1, help: "end this sitting after this long (at a checkpoint)" },
    ship: {
      type: "string",
      default: "models/pretrained/small_wide_mixed.safetensors",
      valueName: "FILE",
      help: "where the finished model is exported (float16)",
    },
    backend: { type: "string", default: "auto", choices: BACKEND_CHOICES, help: "where tensors live" },
  },
  examples: ["deno task pretrain", "deno task pretrain --minutes 30 --backend cuda"],
} as const;

await runCommand(command, async ({ values }) => {
  if (!hasEspeak()) throw new Error("espeak-ng not found; install it (apt-get install espeak-ng flite sox)");
  if (!hasFlite()) throw new Error("flite not found; install it (apt-get install flite)");
  const shared = sharedDataDirOrNull();
  if (shared === null || !existsSync(join(shared, "real", "fsdd", "manifest.csv"))) {
    throw new UsageError(
      "the recipe trains on FSDD (../shared/data/real/fsdd), which is not here; set DENO_CTC_SHARED_DATA to the folder holding real/fsdd",
    );
  }
  const deadline = values.minutes === undefined ? undefined : Date.now() + values.minutes * 60_000;
  await setBackend(values.backend as BackendChoice);
  const config = recipeConfig(values.out);
  const vocab = vocabularyOf(config);
  const promptText = await Deno.readTextFile(join(root, "data/corpora/text/gutenberg_sentences.txt"));
  const data = await preparePretrainData({
    outDir: values.out,
    promptText,
    vocab,
    sharedDataDir: shared,
    onProgress: (done, total) => {
      if (done % 500 === 0 || done === total) console.error(`[pretrain] synthesis ${done}/${total}`);
    },
  });
  console.error(
    `[pretrain] data: ${data.nSynthetic} synthetic utterances (${data.trainManifest}), ` +
      `${data.nFsdd} FSDD (${data.fsddManifest})`,
  );
  const { steps } = await train(config, {
    resume: true,
    deadline,
    onLog: (l) => console.log(JSON.stringify(l)),
  });
  if (steps < config.training.maxSteps) {
    console.error(
      `[pretrain] this sitting ended at step ${steps} of ${config.training.maxSteps}; run the same command to continue`,
    );
    return;
  }
  const last = listCheckpoints(config.training.logDir).at(-1);
  if (!last) throw new Error(`no checkpoint in ${config.training.logDir} after training`);
  const meta = await exportCheckpoint(last, values.ship, { dtype: "F16" });
  console.error(`[pretrain] exported step ${meta.step} to ${values.ship}`);
  const m = await loadModel(values.ship);
  const table = await evaluateOnDevSets(m, values.ship, {
    outDir: join(values.out, "dev_sets"),
    promptText,
    sharedDataDir: shared,
    onSet: (r) => console.error(`[pretrain] ${r.set}: greedy WER ${(100 * r.greedy.wer).toFixed(2)} %`),
    onNote: (note) => console.error(`[pretrain] ${note}`),
  });
  console.log(formatEvaluationTable(table));
  const out = join(values.out, "evaluation.json");
  await Deno.writeTextFile(out, JSON.stringify(table, null, 2) + "\n");
  console.error(`[pretrain] wrote ${out}`);
});
