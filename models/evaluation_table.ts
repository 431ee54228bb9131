/**
 * One table of a checkpoint's accuracy: every development set × (greedy, beam search with the
 * LM when one is given) × (WER, CER), as `deno task evaluate` prints it and writes it as JSON.
 * The beam figures come from the same forward pass as the greedy ones.
 */
import type { DecoderConfig } from "./configs/types.ts";
import { loadUtterances } from "./dataset.ts";
import type { LoadedModel } from "./inference.ts";
import { evaluate } from "./trainer.ts";
import { describeDecoder, TranscriptDecoder } from "./transcript_decoder.ts";

/** Word and character error rates, as fractions. */
export interface ErrorRates {
  /** Corpus WER. */
  wer: number;
  /** Corpus CER. */
  cer: number;
}

/** One row of the table: a development set. */
export interface SetScores {
  /** The set's name. */
  set: string;
  /** Utterances scored. */
  nUtterances: number;
  /** Greedy decoding. */
  greedy: ErrorRates;
  /** Beam search (with the LM), when a beam decoder was given. */
  beam?: ErrorRates;
}

/** The whole table, as written to JSON. */
export interface EvaluationTable {
  /** The checkpoint evaluated. */
  checkpoint: string;
  /** The beam decoder, as `describeDecoder` writes it, or null for greedy only. */
  decoder: string | null;
  /** One row per set. */
  rows: SetScores[];
}

/** Options of `evaluateSets`. */
export interface EvaluateSetsOptions {
  /** A beam decoder (kind "beam", with `lm`, `alpha`, `beta`) scored beside greedy; greedy only when absent. */
  decoder?: DecoderConfig;
  /** Utterances per forward pass (default 16). */
  batchSize?: number;
  /** Called after each set, for progress. */
  onSet?: (row: SetScores) => void;
}

/** Scores `m` on each named manifest. */
export async function evaluateSets(
  m: LoadedModel,
  sets: readonly { name: string; manifestPath: string }[],
  options: EvaluateSetsOptions = {},
): Promise<SetScores[]> {
  using decoder = options.decoder && options.decoder.kind === "beam"
    ? await TranscriptDecoder.create(options.decoder, m.vocab, { frameStepS: m.frameStepS })
    : undefined;
  const rows: SetScores[] = [];
  for (const s of sets) {
    const utts = loadUtterances([s.manifestPath], m.vocab, m.config.features);
    const r = await evaluate(m.model, utts, m.vocab, {
      batchSize: options.batchSize ?? 16,
      padTo: m.config.features.padTo,
      decoder,
    });
    const row: SetScores = {
      set: s.name,
      nUtterances: utts.items.length,
      greedy: r.greedy ?? { wer: r.wer, cer: r.cer },
      ...(decoder ? { beam: { wer: r.wer, cer: r.cer } } : {}),
    };
    rows.push(row);
    options.onSet?.(row);
  }
  return rows;
}

/** The table as aligned text: one line per set, WER and CER in percent. */
export function formatEvaluationTable(table: EvaluationTable): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const head = [
    "set",
    "utts",
    "greedy WER",
    "greedy CER",
    ...(table.decoder ? ["beam WER", "beam CER"] : []),
  ];
  const lines = table.rows.map((r) => [
    r.set,
    String(r.nUtterances),
    pct(r.greedy.wer),
    pct(r.greedy.cer),
    ...(r.beam ? [pct(r.beam.wer), pct(r.beam.cer)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  const title = `${table.checkpoint}${table.decoder ? ` (beam: ${table.decoder})` : ""}`;
  return [title, fmt(head), ...lines.map(fmt)].join("\n");
}

/** The decoder's description for the table, or null for greedy only. */
export function tableDecoder(decoder: DecoderConfig | undefined): string | null {
  return decoder && decoder.kind === "beam" ? describeDecoder(decoder) : null;
}
