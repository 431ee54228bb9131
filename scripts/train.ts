/**
 * Train, evaluate or run inference with a speech model, like OpenSeq2Seq's run.py.
 *
 *   deno task train --config small --mode train_eval [--continue] [--training.maxSteps=500]
 *   deno task train --config small --mode eval [--checkpoint work/runs/small/ckpt-00000500.safetensors]
 *   deno task train --config small --mode infer --infer_output_file out.csv [--logits_output_file logits.safetensors]
 *
 * Any config field can be overridden with --section.key=value (JSON values, or bare strings),
 * checked against the config's types and ranges (cli/config_overrides.ts).
 * eval prints the greedy WER and, when the config's decoder is a beam search
 * (`--decoder.kind=beam --decoder.lm=lm.bin --decoder.alpha=0.5`), the beam search's too;
 * infer transcribes with the config's decoder.
 */
import { runCommand, UsageError } from "../cli/args.ts";
import { applyConfigOverrides } from "../cli/config_overrides.ts";
import { formatCsvField, readManifests } from "../data/pipeline/manifest.ts";
import { configs, resolveConfig } from "../models/configs/mod.ts";
import { listCheckpoints } from "../models/checkpoint.ts";
import { inferFiles, loadModel } from "../models/inference.ts";
import { LogitsFileWriter } from "../decode/logits_file.ts";
import { describeDecoder, TranscriptDecoder } from "../models/transcript_decoder.ts";
import { evaluate, train, vocabularyOf } from "../models/trainer.ts";
import { loadUtterances } from "../models/dataset.ts";
import { BACKEND_CHOICES, type BackendChoice, setBackend } from "../ops/backends/mod.ts";

const command = {
  name: "deno task train",
  summary: "Train, evaluate or run inference with a speech model (OpenSeq2Seq's run.py).",
  flags: {
    config: {
      type: "string",
      default: "small",
      valueName: "NAME|FILE.ts",
      help: `${Object.keys(configs).join(", ")}, or a .ts file exporting \`config\``,
    },
    mode: {
      type: "string",
      default: "train_eval",
      choices: ["train", "eval", "train_eval", "infer"],
      help: "what to do",
    },
    backend: { type: "string", default: "auto", choices: BACKEND_CHOICES, help: "where tensors live" },
    continue: { type: "boolean", help: "resume from the newest checkpoint in training.logDir" },
    checkpoint: {
      type: "string",
      valueName: "PATH",
      help: "checkpoint for eval/infer (default: the newest in training.logDir)",
    },
    infer_output_file: {
      type: "string",
      valueName: "CSV",
      help: "infer: transcripts (default training.logDir/infer.csv)",
    },
    logits_output_file: {
      type: "string",
      valueName: "SAFETENSORS",
      help: "infer: also write each file's logits",
    },
  },
  allowOverrides: true,
  examples: [
    "deno task train --config small --mode train_eval --training.maxSteps=500",
    "deno task train --config small --mode eval --decoder.kind=beam --decoder.lm=work/lm.bin --decoder.alpha=0.5",
  ],
} as const;

await runCommand(command, async ({ values, overrides }) => {
  if (!configs[values.config] && !/\.(ts|js)$/.test(values.config)) {
    throw new UsageError(
      `--config: unknown config "${values.config}" (named: ${
        Object.keys(configs).join(", ")
      }, or a .ts file)`,
    );
  }
  const config = applyConfigOverrides(await resolveConfig(values.config), overrides, values.config);
  await setBackend(values.backend as BackendChoice);
  const newest = (): string => {
    const path = values.checkpoint ?? listCheckpoints(config.training.logDir).at(-1);
    if (!path) {
      throw new UsageError(`no checkpoint in ${config.training.logDir}; train first or pass --checkpoint`);
    }
    return path;
  };
  const mode = values.mode;
  if (mode === "train" || mode === "train_eval") {
    const { lastEval, steps } = await train(config, {
      resume: values.continue,
      withEval: mode === "train_eval",
      onLog: (l) => console.log(JSON.stringify(l)),
      onEval: (step, r) =>
        console.log(JSON.stringify({ step, evalWer: r.wer, evalCer: r.cer, evalLoss: r.loss })),
    });
    console.error(`[deno-ctc] trained ${steps} steps; plot: ${config.training.logDir}/training.svg`);
    if (lastEval) {
      console.log(`EVAL WER=${(100 * lastEval.wer).toFixed(2)}% CER=${(100 * lastEval.cer).toFixed(2)}%`);
    }
  } else if (mode === "eval") {
    const m = await loadModel(newest());
    const vocab = vocabularyOf(m.config);
    const set = loadUtterances(config.data.eval, vocab, m.config.features);
    // One forward pass: a beam decoder's result comes with the greedy figures of the same logits.
    using decoder = config.decoder.kind === "beam"
      ? await TranscriptDecoder.create(config.decoder, vocab, { frameStepS: m.frameStepS })
      : null;
    const r = await evaluate(m.model, set, vocab, {
      batchSize: config.data.batchSize,
      padTo: m.config.features.padTo,
      decoder: decoder ?? undefined,
    });
    const greedy = r.greedy ?? r;
    console.log(
      `EVAL WER=${(100 * greedy.wer).toFixed(2)}% CER=${(100 * greedy.cer).toFixed(2)}% loss=${
        r.loss.toFixed(3)
      } on ${set.items.length} utterances`,
    );
    if (decoder) {
      console.log(
        `EVAL ${describeDecoder(config.decoder)} WER=${(100 * r.wer).toFixed(2)}% CER=${
          (100 * r.cer).toFixed(2)
        }%`,
      );
    }
  } else {
    const m = await loadModel(newest());
    const paths = readManifests(config.data.infer).map((e) => e.audioPath);
    using decoder = await TranscriptDecoder.create(config.decoder, m.vocab, { frameStepS: m.frameStepS });
    const out = values.infer_output_file ?? `${config.training.logDir}/infer.csv`;
    // A batch of files at a time: transcripts and logits go to disk as they are decoded, so
    // memory does not grow with the number of files.
    await using logitsWriter = values.logits_output_file
      ? await LogitsFileWriter.create(values.logits_output_file, {
        vocabulary: m.vocab.chars,
        stepSize: m.frameStepS,
      })
      : undefined;
    await using rows = await Deno.open(`${out}.tmp`, { write: true, create: true, truncate: true });
    const enc = new TextEncoder();
    await rows.write(enc.encode("wav_filename,transcript\n"));
    for await (const { path, transcript } of inferFiles(m, paths, { decoder, logitsWriter })) {
      await rows.write(enc.encode(`${formatCsvField(path)},${formatCsvField(transcript.text)}\n`));
    }
    await Deno.rename(`${out}.tmp`, out);
    console.error(`[deno-ctc] wrote ${paths.length} transcripts to ${out}`);
    await logitsWriter?.close();
  }
});
