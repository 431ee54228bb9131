/**
 * Train, evaluate or run inference with a speech model, like OpenSeq2Seq's run.py.
 *
 *   deno task train --config small --mode train_eval [--continue] [--training.maxSteps=500]
 *   deno task train --config small --mode eval [--checkpoint work/runs/small/ckpt-00000500.safetensors]
 *   deno task train --config small --mode infer --infer_output_file out.csv [--logits_output_file logits.safetensors]
 *
 * Any config field can be overridden with --section.key=value (JSON values, or bare strings).
 * eval prints the greedy WER and, when the config's decoder is a beam search
 * (`--decoder.kind=beam --decoder.lm=lm.bin --decoder.alpha=0.5`), the beam search's too;
 * infer transcribes with the config's decoder.
 */
import { parseArgs } from "node:util";
import { BACKEND_CHOICES, type BackendChoice, setBackend } from "../ops/backends/mod.ts";
import { readManifest } from "../data/pipeline/manifest.ts";
import { configs, overrideConfig, resolveConfig } from "../models/configs/mod.ts";
import { listCheckpoints } from "../models/checkpoint.ts";
import { audioLogits, loadModel, writeInferenceLogits } from "../models/inference.ts";
import { describeDecoder, TranscriptDecoder } from "../models/transcript_decoder.ts";
import { evaluate, train, vocabularyOf } from "../models/trainer.ts";
import { loadUtterances } from "../models/dataset.ts";

const known = [
  "config",
  "backend",
  "mode",
  "continue",
  "checkpoint",
  "infer_output_file",
  "logits_output_file",
  "help",
];
const { values, tokens } = parseArgs({
  args: Deno.args,
  strict: false,
  tokens: true,
  options: {
    config: { type: "string", default: "small" },
    backend: { type: "string", default: "auto" },
    mode: { type: "string", default: "train_eval" },
    continue: { type: "boolean", default: false },
    checkpoint: { type: "string" },
    infer_output_file: { type: "string" },
    logits_output_file: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(
    `Usage: deno task train --config <${
      Object.keys(configs).join("|")
    }|path.ts> --mode train|eval|train_eval|infer
  [--backend ${BACKEND_CHOICES.join("|")}]
  [--continue] [--checkpoint PATH] [--infer_output_file CSV] [--logits_output_file SAFETENSORS] [--section.key=value ...]`,
  );
  Deno.exit(0);
}

let config = await resolveConfig(String(values.config));
for (const t of tokens ?? []) {
  if (t.kind === "option" && !known.includes(t.name)) {
    if (t.value === undefined) throw new Error(`--${t.name} needs a value (--${t.name}=VALUE)`);
    config = overrideConfig(config, t.name, t.value);
  }
}
const mode = String(values.mode);
const newest = () => {
  const path = (values.checkpoint as string | undefined) ?? listCheckpoints(config.training.logDir).at(-1);
  if (!path) throw new Error(`No checkpoint in ${config.training.logDir}; train first or pass --checkpoint`);
  return path;
};

try {
  await setBackend(String(values.backend) as BackendChoice);
  if (mode === "train" || mode === "train_eval") {
    const { lastEval, steps } = await train(config, {
      resume: Boolean(values.continue),
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
  } else if (mode === "infer") {
    const m = await loadModel(newest());
    const paths = config.data.infer.flatMap((f) => readManifest(f).map((e) => e.audioPath));
    using decoder = await TranscriptDecoder.create(config.decoder, m.vocab, { frameStepS: m.frameStepS });
    // Each file's logits once, for the transcripts and the logits file; one batch for the decoder's Workers.
    const logits = paths.map((p) => audioLogits(m, p));
    const transcripts = await decoder.decode(logits);
    const rows = ["wav_filename,transcript", ...paths.map((p, i) => `${p},${transcripts[i].text}`)];
    const out = (values.infer_output_file as string | undefined) ?? `${config.training.logDir}/infer.csv`;
    await Deno.writeTextFile(out, rows.join("\n") + "\n");
    console.error(`[deno-ctc] wrote ${paths.length} transcripts to ${out}`);
    if (values.logits_output_file) {
      await writeInferenceLogits(m, paths, String(values.logits_output_file), logits);
    }
  } else {
    throw new Error(`--mode must be train, eval, train_eval or infer, got "${mode}"`);
  }
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  Deno.exit(1);
}
