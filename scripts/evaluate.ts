/**
 * evaluate: one table of a checkpoint's accuracy on every development set
 * (data/corpora/dev_sets.ts: unseen espeak-ng voices, each flite training voice, each FSDD
 * speaker, the real clips) × greedy and, with `--lm`, beam search with the LM × WER and CER,
 * and for the FSDD sets closed-vocabulary decoding over the ten digit words. A row whose audio
 * files the checkpoint's training manifests list says so. The sets are made on first use in
 * `--sets` and reused; the table is printed and written as JSON.
 *
 *   deno task evaluate --checkpoint models/pretrained/small_wide_mixed.safetensors [--lm lm.bin [--alpha 2 --beta 2]]
 */
import { runCommand, UsageError } from "../cli/args.ts";
import { resolveDecoderConfig } from "../cli/decoder_flags.ts";
import { sharedDataDirOrNull } from "../cli/shared_data.ts";
import { loadModel } from "../models/inference.ts";
import { evaluateOnDevSets, formatEvaluationTable, UnknownDevSetError } from "../models/evaluation_table.ts";
import { BACKEND_CHOICES, type BackendChoice, setBackend } from "../ops/backends/mod.ts";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

const command = {
  name: "deno task evaluate",
  summary: "Score a checkpoint on every development set: greedy and beam + LM, WER and CER.",
  flags: {
    checkpoint: {
      type: "string",
      default: "models/pretrained/small_wide_mixed.safetensors",
      valueName: "CKPT",
      help: "checkpoint to evaluate",
    },
    lm: { type: "string", valueName: "LM", help: "ARPA or binary n-gram LM: adds beam-search columns" },
    alpha: {
      type: "number",
      min: 0,
      help: "LM weight (default: the checkpoint's; required with --lm otherwise)",
    },
    beta: { type: "number", help: "word insertion bonus (default: the checkpoint's, else 0)" },
    beam_width: { type: "number", integer: true, min: 1, help: "beam width (default 128)" },
    sets: {
      type: "string",
      default: "work/dev_sets",
      valueName: "DIR",
      help: "where the dev sets are made and kept",
    },
    only: { type: "string", valueName: "a,b", help: "evaluate only these sets (names as in the table)" },
    prompts: { type: "number", default: 200, integer: true, min: 1, help: "utterances per synthetic set" },
    out: {
      type: "string",
      valueName: "JSON",
      help: "where the table goes as JSON (default: beside the sets)",
    },
    backend: { type: "string", default: "auto", choices: BACKEND_CHOICES, help: "where tensors live" },
  },
  examples: [
    "deno task evaluate --checkpoint models/pretrained/small_wide_mixed.safetensors",
    "deno task evaluate --checkpoint ckpt.safetensors --lm work/lm.bin --alpha 2 --beta 0 --only espeak_unseen,fsdd_lucas",
  ],
} as const;

await runCommand(command, async ({ values }) => {
  await setBackend(values.backend as BackendChoice);
  const m = await loadModel(values.checkpoint);
  const decoder = values.lm === undefined ? undefined : resolveDecoderConfig({
    isGreedy: false,
    lm: values.lm,
    alpha: values.alpha,
    beta: values.beta,
    beamWidth: values.beam_width,
  }, m.config.decoder);
  const sharedDataDir = sharedDataDirOrNull();
  const table = await evaluateOnDevSets(m, values.checkpoint, {
    outDir: values.sets,
    promptText: await Deno.readTextFile(`${root}data/corpora/text/gutenberg_sentences.txt`),
    sharedDataDir,
    nPrompts: values.prompts,
    only: values.only?.split(",").map((s) => s.trim()),
    decoder,
    onSet: (r) => console.error(`[evaluate] ${r.set}: greedy WER ${(100 * r.greedy.wer).toFixed(2)} %`),
    onNote: (note) => console.error(`[evaluate] ${note}`),
  }).catch((e) => {
    throw e instanceof UnknownDevSetError ? new UsageError(`--only: ${e.message}`) : e;
  });
  console.log(formatEvaluationTable(table));
  const out = values.out ?? `${values.sets}/evaluation.json`;
  await Deno.writeTextFile(out, JSON.stringify(table, null, 2) + "\n");
  console.error(`[evaluate] wrote ${out}`);
});
