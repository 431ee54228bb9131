/**
 * The value rules of a `SpeechConfig`: which fields are integers, which must be positive, and
 * which strings are one of fixed choices. `validateConfig` checks a whole config (a named one
 * after `--section.key=value` overrides, or a user's config file) and names the first field
 * that breaks a rule, so `--training.maxSteps=-5` or `--decoder.kind=bogus` stop at the
 * command line instead of training for nothing or silently decoding greedily, and a beam
 * search LM without an `alpha` is not decoded at weight 0.
 *
 * Not here: parsing override text (models/configs/mod.ts `overrideConfig`).
 */
import type { SpeechConfig } from "./types.ts";

/** A rule for one dotted config field. */
export type FieldRule =
  | { kind: "integer"; min: number }
  | { kind: "number"; min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean }
  | { kind: "choice"; choices: readonly string[] };

const positive = { kind: "number", min: 0, exclusiveMin: true } as const;
const nonNegative = { kind: "number", min: 0 } as const;
const count = { kind: "integer", min: 1 } as const;
const fraction = { kind: "number", min: 0, max: 1, exclusiveMax: true } as const;

/** Rules by dotted field path; a field absent from the config is not checked. */
export const CONFIG_FIELD_RULES: Readonly<Record<string, FieldRule>> = {
  "features.inputType": { kind: "choice", choices: ["logfbank", "spectrogram", "mfcc"] },
  "features.backend": { kind: "choice", choices: ["librosa", "psf"] },
  "features.numFeatures": count,
  "features.windowSize": positive,
  "features.windowStride": positive,
  "features.sampleRate": count,
  "features.padTo": { kind: "integer", min: 0 },
  "data.batchSize": count,
  "data.maxDuration": positive,
  "optimizer.kind": { kind: "choice", choices: ["novograd", "sgd", "adamw", "adam"] },
  "optimizer.beta1": fraction,
  "optimizer.beta2": fraction,
  "optimizer.epsilon": positive,
  "optimizer.momentum": { kind: "number", min: 0, max: 1 },
  "optimizer.weightDecay": nonNegative,
  "optimizer.clipNorm": positive,
  "lrPolicy.kind": { kind: "choice", choices: ["poly", "exp", "cosine", "fixed"] },
  "lrPolicy.lr": positive,
  "lrPolicy.minLr": nonNegative,
  "lrPolicy.warmupSteps": { kind: "integer", min: 0 },
  "lrPolicy.decaySteps": count,
  "lrPolicy.power": positive,
  "lrPolicy.decayRate": positive,
  "lrPolicy.beginDecayAt": { kind: "integer", min: 0 },
  "training.maxSteps": count,
  "training.epochs": count,
  "training.iterSize": count,
  "training.logEvery": count,
  "training.evalEvery": count,
  "training.saveEvery": count,
  "training.keepCheckpoints": count,
  "training.maxNonFiniteSteps": { kind: "integer", min: 0 },
  "training.seed": { kind: "integer", min: 0 },
  "decoder.kind": { kind: "choice", choices: ["greedy", "beam"] },
  "decoder.beamWidth": count,
  "decoder.alpha": nonNegative,
  "decoder.beta": { kind: "number" },
};

function describe(rule: FieldRule): string {
  if (rule.kind === "choice") return `one of ${rule.choices.join(", ")}`;
  if (rule.kind === "integer") return `an integer >= ${rule.min}`;
  const lo = rule.min === undefined ? "" : `${rule.exclusiveMin ? ">" : ">="} ${rule.min}`;
  const hi = rule.max === undefined ? "" : `${rule.exclusiveMax ? "<" : "<="} ${rule.max}`;
  return `a number${lo ? ` ${lo}` : ""}${lo && hi ? " and" : ""}${hi ? ` ${hi}` : ""}`;
}

/** Whether `value` satisfies `rule`. */
export function satisfiesRule(value: unknown, rule: FieldRule): boolean {
  if (rule.kind === "choice") return typeof value === "string" && rule.choices.includes(value);
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (rule.kind === "integer") return Number.isInteger(value) && value >= rule.min;
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) return false;
  if (rule.max !== undefined && (rule.exclusiveMax ? value >= rule.max : value > rule.max)) return false;
  return true;
}

function lookup(config: SpeechConfig, path: string): unknown {
  let node: unknown = config;
  for (const k of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}

/**
 * The problems of `config` as `field: must be …, got …` lines (empty when it is valid).
 *
 * @example
 * ```ts
 * validateConfig({ ...config, training: { ...config.training, maxSteps: -5 } });
 * // ["training.maxSteps must be an integer >= 1, got -5"]
 * ```
 */
export function validateConfig(config: SpeechConfig): string[] {
  const problems: string[] = [];
  for (const [path, rule] of Object.entries(CONFIG_FIELD_RULES)) {
    const value = lookup(config, path);
    if (value === undefined) continue;
    if (!satisfiesRule(value, rule)) {
      problems.push(`${path} must be ${describe(rule)}, got ${JSON.stringify(value)}`);
    }
  }
  const d = config.decoder;
  if (d?.kind === "beam" && d.lm !== undefined && typeof d.lm !== "string") {
    problems.push(`decoder.lm must be a path, got ${JSON.stringify(d.lm)}`);
  }
  // An LM at weight 0 does nothing: decoding "with" it silently would mislead.
  if (d?.kind === "beam" && typeof d.lm === "string" && d.alpha === undefined) {
    problems.push(
      `decoder.lm needs decoder.alpha (the LM weight; LM files store none), got ${JSON.stringify(d.lm)}`,
    );
  }
  return problems;
}
