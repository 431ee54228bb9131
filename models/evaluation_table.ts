/**
 * One table of a checkpoint's accuracy: every development set × (greedy, beam search with the
 * LM when one is given) × (WER, CER), as `deno task evaluate` prints it and writes it as JSON.
 * The beam figures come from the same forward pass as the greedy ones. A set that names a
 * lexicon (the FSDD digit sets) also gets a closed-vocabulary column: the lexicon entry with the
 * highest CTC probability (models/lexicon_decoder.ts), from a second pass.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type DevSetOptions, makeDevSets } from "../data/corpora/dev_sets.ts";
import { readManifest } from "../data/pipeline/manifest.ts";
import type { DecoderConfig, SpeechConfig } from "./configs/types.ts";
import { loadUtterances } from "./dataset.ts";
import type { LoadedModel } from "./inference.ts";
import { evaluate } from "./trainer.ts";
import { LexiconDecoder } from "./lexicon_decoder.ts";
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
  /** Closed-vocabulary decoding with the set's lexicon, when it has one. */
  lexicon?: ErrorRates;
  /** Utterances whose audio file is in the model's training manifests (absent: none, or unknown). */
  nSeenInTraining?: number;
}

/** A set to score: its manifest and, for a closed-vocabulary set, the transcripts it can hold. */
export interface EvaluationSet {
  /** The set's name. */
  name: string;
  /** Its manifest. */
  manifestPath: string;
  /** Every transcript the set can hold (e.g. the ten digit words), for the lexicon column. */
  lexicon?: readonly string[];
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

/** What `trainingOverlap` found. */
export interface TrainingOverlap {
  /** Per set name, how many of its audio files the training manifests list. */
  nSeen: Map<string, number>;
  /** Training manifests that could not be read here (the overlap with them is unknown). */
  unreadable: string[];
}

/**
 * How many of each set's audio files a model trained on, from the training and mix manifests its
 * config (stored in the checkpoint) names, where they can be read: a set that shares files with
 * training data is no test of the model, and the table says so beside it.
 */
export function trainingOverlap(
  config: SpeechConfig,
  sets: readonly EvaluationSet[],
): TrainingOverlap {
  const manifests = [...config.data.train, ...(config.data.mix ?? []).map((m) => m.manifest)];
  const unreadable = manifests.filter((p) => !existsSync(p));
  const trained = new Set(
    manifests.filter((p) => existsSync(p)).flatMap((p) =>
      readManifest(p, { allowEmpty: true }).map((e) => resolve(e.audioPath))
    ),
  );
  const nSeen = new Map<string, number>();
  for (const s of sets) {
    const n = readManifest(s.manifestPath, { allowEmpty: true }).filter((e) =>
      trained.has(resolve(e.audioPath))
    )
      .length;
    if (n > 0) nSeen.set(s.name, n);
  }
  return { nSeen, unreadable };
}

/** Options of `evaluateSets`. */
export interface EvaluateSetsOptions {
  /** A beam decoder (kind "beam", with `lm`, `alpha`, `beta`) scored beside greedy; greedy only when absent. */
  decoder?: DecoderConfig;
  /** Utterances per forward pass (default 16). */
  batchSize?: number;
  /** Called after each set, for progress. */
  onSet?: (row: SetScores) => void;
  /** Audio files each set shares with the model's training data (`trainingOverlap`), noted in its row. */
  overlap?: TrainingOverlap;
}

/** Scores `m` on each named manifest. */
export async function evaluateSets(
  m: LoadedModel,
  sets: readonly EvaluationSet[],
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
    const lexicon = s.lexicon
      ? await evaluate(m.model, utts, m.vocab, {
        batchSize: options.batchSize ?? 16,
        padTo: m.config.features.padTo,
        decoder: new LexiconDecoder(s.lexicon, m.vocab, { frameStepS: m.frameStepS }),
      })
      : undefined;
    const row: SetScores = {
      set: s.name,
      nUtterances: utts.items.length,
      greedy: r.greedy ?? { wer: r.wer, cer: r.cer },
      ...(decoder ? { beam: { wer: r.wer, cer: r.cer } } : {}),
      ...(lexicon ? { lexicon: { wer: lexicon.wer, cer: lexicon.cer } } : {}),
      ...(options.overlap?.nSeen.has(s.name) ? { nSeenInTraining: options.overlap.nSeen.get(s.name) } : {}),
    };
    rows.push(row);
    options.onSet?.(row);
  }
  return rows;
}

/** `only` named a set that does not exist. */
export class UnknownDevSetError extends RangeError {}

/** Options of `evaluateOnDevSets`: where the sets are made, and how they are scored. */
export interface DevSetEvaluationOptions extends Omit<DevSetOptions, "vocab"> {
  /** Only these sets (names as in the table); unknown names are an error. */
  only?: readonly string[];
  /** Beam decoder scored beside greedy. */
  decoder?: DecoderConfig;
  /** Called after each set. */
  onSet?: (row: SetScores) => void;
  /** Called with what the reader should know (sets left out, training data not found). */
  onNote?: (note: string) => void;
}

/**
 * The evaluation table of a loaded checkpoint on the development sets (made or re-used by
 * `makeDevSets`), each row checked against the checkpoint's training manifests.
 */
export async function evaluateOnDevSets(
  m: LoadedModel,
  checkpoint: string,
  options: DevSetEvaluationOptions,
): Promise<EvaluationTable> {
  const note = options.onNote ?? (() => {});
  const all = await makeDevSets({
    ...options,
    vocab: m.vocab,
    onSkip: (name, why) => {
      options.onSkip?.(name, why);
      note(`no ${name}: ${why}`);
    },
  });
  const unknown = options.only?.filter((n) => !all.some((s) => s.name === n)) ?? [];
  if (unknown.length > 0) {
    throw new UnknownDevSetError(
      `no set called ${unknown.join(", ")} (sets: ${all.map((s) => s.name).join(", ")})`,
    );
  }
  const sets = options.only ? all.filter((s) => options.only!.includes(s.name)) : all;
  const overlap = trainingOverlap(m.config, sets);
  if (overlap.unreadable.length > 0) {
    note(
      `the checkpoint's training manifests ${
        overlap.unreadable.join(", ")
      } are not here: rows cannot be checked against its training data`,
    );
  }
  const rows = await evaluateSets(m, sets, { decoder: options.decoder, onSet: options.onSet, overlap });
  return { checkpoint, decoder: tableDecoder(options.decoder), rows };
}

/** The table as aligned text: one line per set, WER and CER in percent. */
export function formatEvaluationTable(table: EvaluationTable): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const hasLexicon = table.rows.some((r) => r.lexicon);
  const head = [
    "set",
    "utts",
    "greedy WER",
    "greedy CER",
    ...(table.decoder ? ["beam WER", "beam CER"] : []),
    ...(hasLexicon ? ["lexicon WER"] : []),
  ];
  const lines = table.rows.map((r) => [
    r.nSeenInTraining ? `${r.set} (${r.nSeenInTraining} trained on)` : r.set,
    String(r.nUtterances),
    pct(r.greedy.wer),
    pct(r.greedy.cer),
    ...(table.decoder ? (r.beam ? [pct(r.beam.wer), pct(r.beam.cer)] : ["–", "–"]) : []),
    ...(hasLexicon ? [r.lexicon ? pct(r.lexicon.wer) : "–"] : []),
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
