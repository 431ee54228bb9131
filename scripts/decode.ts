/**
 * CTC decoding and LM-weight tuning from saved logits: the counterpart of OpenSeq2Seq's
 * scripts/decode.py. Run it with read access to its inputs and write access for its outputs:
 *
 *   deno run --allow-read --allow-write scripts/decode.ts --logits logits.safetensors \
 *     --labels dev.csv --lm lm.bin --alpha 1.5 --alpha_max 2.5 --beta 0 --beta_max 2
 *
 * (`deno task decode …` runs exactly that; narrower --allow-read=… / --allow-write=… lists of
 * the files involved also work.)
 *
 * Inputs: `--logits` a safetensors file, one [T, V] tensor per utterance keyed by wav filename,
 * metadata `vocab` (JSON array) and `step_size` (decode/logits_file.ts); `--labels` an
 * OpenSeq2Seq CSV (`wav_filename,wav_filesize,transcript`); `--lm` an ARPA file (plain or
 * gzip) or the toolkit's binary; `--vocab` a one-character-per-line alphabet (overrides the
 * metadata; the blank is last).
 * Eval mode prints the greedy WER, the WER at every (alpha, beta) of the grid and
 * `BEST: alpha=…, beta=…, WER=…`; infer mode decodes at (alpha, beta). Outputs:
 * `--infer_output_file` (CSV `wav_filename,transcript`, best grid point), `--dump_all_beams_to`
 * (OpenSeq2Seq's `B=>>>>>>>>` / `score 0.0 0.0 text` / `E=>>>>>>>>` blocks, best grid point).
 * Exit code 0 on success, 1 on an input error, 2 on a bad flag (cli/args.ts).
 *
 * @module
 */
import { basename } from "node:path";
import { runCommand, UsageError } from "../cli/args.ts";
import { formatCsvField, readManifest } from "../data/pipeline/manifest.ts";
import { DecoderPool } from "../decode/decoder_pool.ts";
import { ctcGreedyDecode } from "../decode/greedy.ts";
import { readLogitsFile } from "../decode/logits_file.ts";
import { setCheckpointDecoder } from "../models/checkpoint.ts";
import { loadLanguageModel } from "../decode/lm_binary.ts";
import { wordErrorRate } from "../decode/metrics.ts";
import type { CtcHypothesis } from "../decode/beam_search.ts";
import type { CtcLogits } from "../decode/ctc_logits.ts";

const command = {
  name: "deno task decode",
  summary: "CTC beam-search decoding and LM-weight grid search from saved logits (OpenSeq2Seq's decode.py).",
  flags: {
    logits: { type: "string", valueName: "FILE.safetensors", help: "logits file (required)" },
    labels: {
      type: "string",
      valueName: "CSV",
      help: "manifest with the reference transcripts (required for eval)",
    },
    lm: { type: "string", valueName: "LM", help: "ARPA (plain or gzip) or binary LM" },
    vocab: {
      type: "string",
      valueName: "FILE",
      help: "alphabet, one character a line (default: the logits metadata)",
    },
    mode: { type: "string", default: "eval", choices: ["eval", "infer"], help: "eval needs --labels" },
    alpha: { type: "number", min: 0, help: "LM weight (required with --lm)" },
    beta: { type: "number", help: "word insertion bonus (required with --lm)" },
    alpha_max: { type: "number", min: 0, help: "grid search: largest alpha (default --alpha)" },
    alpha_step: { type: "number", default: 0.1, min: 0, exclusiveMin: true, help: "grid search: alpha step" },
    beta_max: { type: "number", help: "grid search: largest beta (default --beta)" },
    beta_step: { type: "number", default: 0.1, min: 0, exclusiveMin: true, help: "grid search: beta step" },
    beam_width: { type: "number", default: 128, integer: true, min: 1, help: "prefixes kept per frame" },
    cutoff_prob: {
      type: "number",
      default: 1,
      min: 0,
      max: 1,
      exclusiveMin: true,
      help: "cumulative probability pruning",
    },
    cutoff_top_n: { type: "number", default: 40, integer: true, min: 1, help: "labels considered per frame" },
    workers: {
      type: "number",
      integer: true,
      min: 0,
      help: "decoder Workers, 0 to decode in this thread (default: one per core)",
    },
    dump_all_beams_to: { type: "string", valueName: "FILE", help: "write every beam (best grid point)" },
    infer_output_file: { type: "string", valueName: "CSV", help: "write transcripts (best grid point)" },
    save_decoder_to: {
      type: "string",
      valueName: "CKPT",
      help:
        "eval: store the LM, beam width and best alpha/beta in this checkpoint (then --lm alone uses them)",
    },
  },
  examples: [
    "deno task decode --logits logits.safetensors --labels dev.csv --lm lm.bin --alpha 1.5 --alpha_max 2.5 --beta 0 --beta_max 2",
  ],
} as const;

/** grid(a, b, s): a, a+s, … ≤ b (with decode.py's s/10 slack so b itself is included). */
function grid(lo: number, hi: number, step: number, name: string): number[] {
  if (hi < lo) throw new UsageError(`--${name}_max (${hi}) is below --${name} (${lo})`);
  const out: number[] = [];
  for (let k = 0; lo + k * step <= hi + step / 10; k++) out.push(Number((lo + k * step).toFixed(10)));
  return out;
}

async function readVocab(path: string): Promise<string[]> {
  const lines = (await Deno.readTextFile(path)).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  // decode.py keeps the first character of each line (a line " " is the space).
  return lines.map((l, i) => {
    if (l.length === 0) throw new Error(`${path}:${i + 1}: empty line (one character a line expected)`);
    return l[0];
  });
}

function progress(label: string): (done: number, total: number) => void {
  let last = 0;
  const enc = new TextEncoder();
  return (done, total) => {
    const now = performance.now();
    if (done !== total && now - last < 100) return;
    last = now;
    const width = 30;
    const fill = Math.round((width * done) / Math.max(1, total));
    const bar = `\r${label} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${done}/${total}`;
    Deno.stderr.writeSync(enc.encode(done === total ? `${bar}\n` : bar));
  };
}

await runCommand(command, async ({ values: a }) => {
  if (a.logits === undefined) throw new UsageError("--logits is required");
  const mode = a.mode;
  if (mode === "eval" && a.labels === undefined) throw new UsageError("--mode eval needs --labels");
  if (a.save_decoder_to !== undefined && (mode !== "eval" || a.lm === undefined)) {
    throw new UsageError(
      "--save_decoder_to stores the best LM weights of a grid search: needs --mode eval and --lm",
    );
  }
  const hasLm = a.lm !== undefined;
  if (hasLm && (a.alpha === undefined || a.beta === undefined)) {
    throw new UsageError(
      `--lm needs --alpha and --beta (the LM weight and word bonus); a logits file stores neither`,
    );
  }
  const alpha = a.alpha ?? 0;
  const beta = a.beta ?? 0;
  const alphas = mode === "infer" ? [alpha] : grid(alpha, a.alpha_max ?? alpha, a.alpha_step, "alpha");
  const betas = mode === "infer" ? [beta] : grid(beta, a.beta_max ?? beta, a.beta_step, "beta");
  const beamWidth = a.beam_width;
  const workers = a.workers;

  const logitsFile = await readLogitsFile(a.logits);
  const vocabulary = a.vocab !== undefined ? await readVocab(a.vocab) : logitsFile.vocabulary;
  if (vocabulary === null) throw new Error(`${a.logits}: no "vocab" metadata; give --vocab`);
  const step = logitsFile.stepSize ?? 0.02;

  // Utterances in label order (eval, or infer with labels), else in file order.
  const names: string[] = [];
  const refs: string[] = [];
  if (a.labels !== undefined) {
    const byBase = new Map<string, string>();
    for (const k of logitsFile.utterances.keys()) byBase.set(basename(k), k);
    // The manifest reader everywhere: RFC 4180 quoting, malformed rows and empty files are errors.
    for (const row of readManifest(a.labels)) {
      const written = row.writtenPath ?? row.audioPath;
      const key = [written, row.audioPath].find((k) => logitsFile.utterances.has(k)) ??
        byBase.get(basename(written));
      if (key === undefined) throw new Error(`${row.source}: no logits for "${written}" in ${a.logits}`);
      names.push(key);
      refs.push(row.transcript.toLowerCase());
    }
  } else names.push(...logitsFile.utterances.keys());
  const utts: CtcLogits[] = names.map((n) => logitsFile.utterances.get(n)!);
  const V = utts.length > 0 ? utts[0].V : vocabulary.length + 1;
  if (vocabulary.length !== V - 1) {
    throw new Error(
      `${a.logits}: the logits have ${V} labels (blank last) but the vocabulary has ${vocabulary.length} entries`,
    );
  }

  if (mode === "eval") {
    const greedy = utts.map((u) => ctcGreedyDecode(u, { vocabulary }).text.toLowerCase());
    console.log(`Greedy WER = ${wordErrorRate(refs, greedy).rate.toFixed(4)}`);
  }

  const lm = hasLm ? await loadLanguageModel(a.lm!) : null;
  const wantBeams = a.dump_all_beams_to !== undefined;
  const pool = await DecoderPool.create({
    vocabulary,
    beamWidth,
    cutoffProb: a.cutoff_prob,
    cutoffTopN: a.cutoff_top_n,
    lm,
    frameStepSeconds: step,
    nBest: wantBeams ? beamWidth : 1,
    workers,
  });
  let best: { alpha: number; beta: number; wer: number; results: CtcHypothesis[][] } | null = null;
  try {
    for (const al of alphas) {
      for (const be of betas) {
        const label = `alpha=${al.toFixed(2)}, beta=${be.toFixed(2)}`;
        const results = await pool.decodeBatch(utts, { alpha: al, beta: be, onProgress: progress(label) });
        if (mode === "eval") {
          const hyps = results.map((r) => (r.length > 0 ? r[0].text.toLowerCase() : ""));
          const wer = wordErrorRate(refs, hyps).rate;
          console.log(`${label}: WER=${wer.toFixed(4)}`);
          if (best === null || wer < best.wer) best = { alpha: al, beta: be, wer, results };
        } else best = { alpha: al, beta: be, wer: NaN, results };
      }
    }
  } finally {
    pool.close();
  }
  if (best === null) return;
  if (mode === "eval") {
    console.log(
      `BEST: alpha=${best.alpha.toFixed(2)}, beta=${best.beta.toFixed(2)}, WER=${best.wer.toFixed(4)}`,
    );
    if (a.save_decoder_to !== undefined) {
      await setCheckpointDecoder(a.save_decoder_to, {
        kind: "beam",
        lm: a.lm,
        beamWidth,
        alpha: best.alpha,
        beta: best.beta,
      }, { vocabulary });
      console.error(
        `[decode] stored alpha ${best.alpha}, beta ${best.beta} and ${a.lm} in ${a.save_decoder_to}`,
      );
    }
  }
  if (a.infer_output_file !== undefined) {
    const rows = names.map((n, i) =>
      `${formatCsvField(n)},${formatCsvField(best.results[i].length > 0 ? best.results[i][0].text : "")}`
    );
    await Deno.writeTextFile(a.infer_output_file, `wav_filename,transcript\n${rows.join("\n")}\n`);
  }
  if (a.dump_all_beams_to !== undefined) {
    let out = "";
    for (const r of best.results) {
      out += "B=>>>>>>>>\n";
      for (const h of r) out += `${h.score} 0.0 0.0 ${h.text}\n`;
      out += "E=>>>>>>>>\n";
    }
    await Deno.writeTextFile(a.dump_all_beams_to, out);
  }
});
