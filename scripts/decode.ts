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
 * Exit code 0 on success, 1 on a usage or input error, 2 on a bad flag.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename } from "node:path";
import { DecoderPool } from "../decode/decoder_pool.ts";
import { ctcGreedyDecode } from "../decode/greedy.ts";
import { readLogitsFile } from "../decode/logits_file.ts";
import { loadLanguageModel } from "../decode/lm_binary.ts";
import { wordErrorRate } from "../decode/metrics.ts";
import type { CtcHypothesis } from "../decode/beam_search.ts";
import type { CtcLogits } from "../decode/ctc_logits.ts";

const HELP = `Usage: deno task decode --logits FILE.safetensors [--labels CSV] [--lm LM] [options]
  --mode eval|infer        eval needs --labels (default eval)
  --vocab FILE             alphabet, one character per line (default: the logits metadata)
  --alpha A --beta B       LM weight and word bonus (required with --lm)
  --alpha_max, --alpha_step (0.1), --beta_max, --beta_step (0.1)   grid search
  --beam_width N           (default 128)
  --cutoff_prob P          (default 1.0)   --cutoff_top_n N (default 40)
  --workers N              (default: one per core)
  --dump_all_beams_to FILE --infer_output_file FILE`;

function fail(message: string, code = 1): never {
  console.error(`scripts/decode.ts: ${message}`);
  Deno.exit(code);
}

function num(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) fail(`--${name} is required`, 2);
    return fallback;
  }
  const x = Number(value);
  if (!Number.isFinite(x)) fail(`--${name} must be a number, got "${value}"`, 2);
  return x;
}

/** grid(a, b, s): a, a+s, … ≤ b (with decode.py's s/10 slack so b itself is included). */
function grid(lo: number, hi: number, step: number): number[] {
  if (!(step > 0)) fail(`grid steps must be positive, got ${step}`, 2);
  if (hi < lo) fail(`a grid's maximum (${hi}) is below its start (${lo})`, 2);
  const out: number[] = [];
  for (let k = 0; lo + k * step <= hi + step / 10; k++) out.push(Number((lo + k * step).toFixed(10)));
  return out;
}

async function readLabels(path: string): Promise<{ wav: string; transcript: string }[]> {
  const lines = (await Deno.readTextFile(path)).split(/\r?\n/).filter((l) => l.trim() !== "");
  // Header row skipped, as decode.py's np.loadtxt(skiprows=1); first column is the wav, last
  // column the transcript (so transcripts cannot hold commas, as in OpenSeq2Seq).
  return lines.slice(1).map((line, i) => {
    const cols = line.split(",");
    if (cols.length < 2) fail(`${path}: line ${i + 2} has no transcript column`);
    return { wav: cols[0], transcript: cols[cols.length - 1] };
  });
}

async function readVocab(path: string): Promise<string[]> {
  const lines = (await Deno.readTextFile(path)).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  // decode.py keeps the first character of each line (a line " " is the space).
  return lines.map((l, i) => {
    if (l.length === 0) fail(`${path}: line ${i + 1} is empty`);
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

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        logits: { type: "string" },
        labels: { type: "string" },
        lm: { type: "string" },
        vocab: { type: "string" },
        mode: { type: "string", default: "eval" },
        alpha: { type: "string" },
        beta: { type: "string" },
        alpha_max: { type: "string" },
        alpha_step: { type: "string" },
        beta_max: { type: "string" },
        beta_step: { type: "string" },
        beam_width: { type: "string" },
        cutoff_prob: { type: "string" },
        cutoff_top_n: { type: "string" },
        workers: { type: "string" },
        dump_all_beams_to: { type: "string" },
        infer_output_file: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${HELP}`, 2);
  }
  const a = parsed;
  if (a.help) {
    console.log(HELP);
    return;
  }
  if (a.logits === undefined) fail(`--logits is required\n${HELP}`, 2);
  const mode = a.mode;
  if (mode !== "eval" && mode !== "infer") fail(`--mode must be eval or infer, got "${mode}"`, 2);
  if (mode === "eval" && a.labels === undefined) fail("--mode eval needs --labels", 2);
  const hasLm = a.lm !== undefined;
  const alpha = num(a.alpha, "alpha", hasLm ? undefined : 0);
  const beta = num(a.beta, "beta", hasLm ? undefined : 0);
  const alphas = mode === "infer"
    ? [alpha]
    : grid(alpha, num(a.alpha_max, "alpha_max", alpha), num(a.alpha_step, "alpha_step", 0.1));
  const betas = mode === "infer"
    ? [beta]
    : grid(beta, num(a.beta_max, "beta_max", beta), num(a.beta_step, "beta_step", 0.1));
  const beamWidth = num(a.beam_width, "beam_width", 128);
  const workers = a.workers === undefined ? undefined : num(a.workers, "workers");

  const logitsFile = await readLogitsFile(a.logits);
  const vocabulary = a.vocab !== undefined ? await readVocab(a.vocab) : logitsFile.vocabulary;
  if (vocabulary === null) fail(`${a.logits}: no "vocab" metadata; give --vocab`);
  const step = logitsFile.stepSize ?? 0.02;

  // Utterances in label order (eval, or infer with labels), else in file order.
  const names: string[] = [];
  const refs: string[] = [];
  if (a.labels !== undefined) {
    const byBase = new Map<string, string>();
    for (const k of logitsFile.utterances.keys()) byBase.set(basename(k), k);
    for (const row of await readLabels(a.labels)) {
      const key = logitsFile.utterances.has(row.wav) ? row.wav : byBase.get(basename(row.wav));
      if (key === undefined) fail(`${a.logits}: no logits for "${row.wav}" from ${a.labels}`);
      names.push(key);
      refs.push(row.transcript.toLowerCase());
    }
  } else names.push(...logitsFile.utterances.keys());
  const utts: CtcLogits[] = names.map((n) => logitsFile.utterances.get(n)!);
  const V = utts.length > 0 ? utts[0].V : vocabulary.length + 1;
  if (vocabulary.length !== V - 1) {
    fail(`the logits have ${V} labels (blank last) but the vocabulary has ${vocabulary.length} entries`);
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
    cutoffProb: num(a.cutoff_prob, "cutoff_prob", 1),
    cutoffTopN: num(a.cutoff_top_n, "cutoff_top_n", 40),
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
  }
  if (a.infer_output_file !== undefined) {
    const rows = names.map((n, i) => `${n},${best.results[i].length > 0 ? best.results[i][0].text : ""}`);
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
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    fail((e as Error).message);
  }
}
