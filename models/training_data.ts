/**
 * The training data side of a config: `config.data.augment` (with the old fields
 * speedPerturbation, noiseDb, freqMasks and timeMasks mapped onto it), `config.data.mix`, their
 * validation, and the Worker loader (data/pipeline/loader.ts `BatchLoader`) that trains from them.
 *
 * Which path a run takes: with a waveform augmentation or a mix, every epoch's features are
 * computed afresh in Workers (the waveform changes each time); otherwise the trainer keeps
 * computing features once in-process (models/dataset.ts), faster, with SpecAugment applied to
 * the padded batch. Not handled here: the in-process path itself and evaluation data.
 */
import { BAND_LIMIT_KINDS } from "../data/augment/band_limit.ts";
import { NOISE_COLORS } from "../data/augment/colored_noise.ts";
import { type AugmentConfig, hasWaveformAugmentation } from "../data/pipeline/extract.ts";
import { BatchLoader, type LoaderState } from "../data/pipeline/loader.ts";
import { readManifest } from "../data/pipeline/manifest.ts";
import {
  normalizeTranscript,
  type TranscriptNormalizeOptions,
  type Vocabulary,
} from "../data/pipeline/vocabulary.ts";
import type { SpeechConfig } from "./configs/types.ts";

/** How the transcripts of mix manifests are normalised before they are checked. */
export const MIX_TRANSCRIPT_NORMALIZATION: TranscriptNormalizeOptions = {
  stripAccents: true,
  lowerCase: true,
  unknown: "drop",
  collapseSpaces: true,
};

/**
 * The augmentation a config asks for: `data.augment`, with the old fields filled in where it
 * leaves the part out (speedPerturbation → speed, noiseDb → noise, freqMasks/timeMasks →
 * specAugment). Undefined when there is none.
 */
export function resolveAugment(data: SpeechConfig["data"]): AugmentConfig | undefined {
  const a: AugmentConfig = { ...data.augment };
  const sp = data.speedPerturbation;
  if (a.speed === undefined && sp !== undefined && sp.length > 0) {
    a.speed = sp.length === 2 ? { range: [sp[0], sp[1]] } : { factors: [...sp] };
  }
  if (a.noise === undefined && data.noiseDb !== undefined) {
    a.noise = { minDb: data.noiseDb[0], maxDb: data.noiseDb[1] };
  }
  if (a.specAugment === undefined && (data.freqMasks || data.timeMasks)) {
    a.specAugment = {
      nFreqMasks: data.freqMasks?.count ?? 0,
      freqWidth: data.freqMasks?.width ?? 0,
      nTimeMasks: data.timeMasks?.count ?? 0,
      timeWidth: data.timeMasks?.width ?? 0,
    };
  }
  const parts = Object.values(a).filter((v) => v !== undefined);
  return parts.length > 0 ? a : undefined;
}

/** True when the config trains from the Worker loader: a waveform augmentation or a mix. */
export function usesLoader(config: SpeechConfig): boolean {
  const augment = resolveAugment(config.data);
  return (config.data.mix?.length ?? 0) > 0 ||
    hasWaveformAugmentation({ features: config.features, augment });
}

/** Collects the problems of one part of the config, named by its path. */
class Problems {
  readonly list: string[] = [];
  number(path: string, v: unknown, lo: number, hi: number, what = `a number in [${lo}, ${hi}]`): void {
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi) {
      this.list.push(`${path}: expected ${what}, got ${JSON.stringify(v)}`);
    }
  }
  integer(path: string, v: unknown, lo: number): void {
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo) {
      this.list.push(`${path}: expected an integer >= ${lo}, got ${JSON.stringify(v)}`);
    }
  }
  ordered(path: string, lo: unknown, hi: unknown): void {
    if (typeof lo === "number" && typeof hi === "number" && lo > hi) {
      this.list.push(`${path}: the minimum ${lo} exceeds the maximum ${hi}`);
    }
  }
  oneOf(path: string, v: unknown, allowed: readonly string[]): void {
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => !allowed.includes(x))) {
      this.list.push(`${path}: expected a non-empty list of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    }
  }
}

const KNOWN_PARTS = ["speed", "reverb", "bandLimit", "noiseSnr", "noise", "gain", "specAugment"];

/** Checks each part of an AugmentConfig; problems go to `p` prefixed with `at`. */
function checkAugment(a: AugmentConfig, at: string, p: Problems): void {
  for (const key of Object.keys(a)) {
    if (!KNOWN_PARTS.includes(key)) {
      p.list.push(`${at}.${key}: unknown part (known: ${KNOWN_PARTS.join(", ")})`);
    }
  }
  if (a.speed) {
    const s = a.speed;
    if ((s.factors === undefined) === (s.range === undefined)) {
      p.list.push(`${at}.speed: give either factors or range`);
    }
    s.factors?.forEach((f, i) => p.number(`${at}.speed.factors[${i}]`, f, 0.5, 2));
    if (s.range !== undefined) {
      if (!Array.isArray(s.range) || s.range.length !== 2) {
        p.list.push(`${at}.speed.range: expected [min, max], got ${JSON.stringify(s.range)}`);
      } else {
        p.number(`${at}.speed.range[0]`, s.range[0], 0.5, 2);
        p.number(`${at}.speed.range[1]`, s.range[1], 0.5, 2);
        p.ordered(`${at}.speed.range`, s.range[0], s.range[1]);
      }
    }
    if (s.filter !== undefined && s.filter !== "kaiser_best" && s.filter !== "kaiser_fast") {
      p.list.push(
        `${at}.speed.filter: expected "kaiser_best" or "kaiser_fast", got ${JSON.stringify(s.filter)}`,
      );
    }
  }
  if (a.reverb) {
    p.number(`${at}.reverb.probability`, a.reverb.probability, 0, 1);
    p.number(`${at}.reverb.minRt60S`, a.reverb.minRt60S, 0.01, 5, "an RT60 in seconds in [0.01, 5]");
    p.number(`${at}.reverb.maxRt60S`, a.reverb.maxRt60S, 0.01, 5, "an RT60 in seconds in [0.01, 5]");
    p.ordered(`${at}.reverb`, a.reverb.minRt60S, a.reverb.maxRt60S);
    if (a.reverb.drrDb !== undefined) p.number(`${at}.reverb.drrDb`, a.reverb.drrDb, -40, 40);
  }
  if (a.bandLimit) {
    p.number(`${at}.bandLimit.probability`, a.bandLimit.probability, 0, 1);
    if (a.bandLimit.kinds !== undefined) {
      p.oneOf(`${at}.bandLimit.kinds`, a.bandLimit.kinds, BAND_LIMIT_KINDS);
    }
  }
  if (a.noiseSnr) {
    p.number(`${at}.noiseSnr.minSnrDb`, a.noiseSnr.minSnrDb, -20, 100);
    p.number(`${at}.noiseSnr.maxSnrDb`, a.noiseSnr.maxSnrDb, -20, 100);
    p.ordered(`${at}.noiseSnr`, a.noiseSnr.minSnrDb, a.noiseSnr.maxSnrDb);
    if (a.noiseSnr.colors !== undefined) p.oneOf(`${at}.noiseSnr.colors`, a.noiseSnr.colors, NOISE_COLORS);
  }
  if (a.noise) {
    p.number(`${at}.noise.minDb`, a.noise.minDb, -200, 0, "a level in dB full scale in [-200, 0]");
    p.number(`${at}.noise.maxDb`, a.noise.maxDb, -200, 0, "a level in dB full scale in [-200, 0]");
    p.ordered(`${at}.noise`, a.noise.minDb, a.noise.maxDb);
  }
  if (a.gain) {
    p.number(`${at}.gain.minDb`, a.gain.minDb, -60, 60);
    p.number(`${at}.gain.maxDb`, a.gain.maxDb, -60, 60);
    p.ordered(`${at}.gain`, a.gain.minDb, a.gain.maxDb);
  }
  if (a.specAugment) {
    const s = a.specAugment;
    p.integer(`${at}.specAugment.nFreqMasks`, s.nFreqMasks, 0);
    p.integer(`${at}.specAugment.freqWidth`, s.freqWidth, 0);
    p.integer(`${at}.specAugment.nTimeMasks`, s.nTimeMasks, 0);
    p.integer(`${at}.specAugment.timeWidth`, s.timeWidth, 0);
  }
}

/**
 * Throws one error listing every problem of `config.data`'s augmentation, mix and Worker
 * count, each named by its path (`small: data.augment.reverb.probability: expected ...`).
 */
export function validateDataConfig(config: SpeechConfig): void {
  const d = config.data;
  const p = new Problems();
  if (d.augment !== undefined) {
    if (typeof d.augment !== "object" || d.augment === null || Array.isArray(d.augment)) {
      p.list.push(`data.augment: expected an object, got ${JSON.stringify(d.augment)}`);
    } else checkAugment(d.augment, "data.augment", p);
    const both = [
      ["speed", "speedPerturbation"],
      ["noise", "noiseDb"],
      ["specAugment", "freqMasks/timeMasks"],
    ] as const;
    for (const [part, old] of both) {
      const hasOld = old === "freqMasks/timeMasks" ? d.freqMasks || d.timeMasks : d[old];
      if (d.augment?.[part] !== undefined && hasOld) {
        p.list.push(`data.augment.${part} and data.${old} both given: keep data.augment.${part}`);
      }
    }
  }
  if (d.speedPerturbation !== undefined) {
    d.speedPerturbation.forEach((f, i) => p.number(`data.speedPerturbation[${i}]`, f, 0.5, 2));
  }
  if (d.noiseDb !== undefined) {
    if (!Array.isArray(d.noiseDb) || d.noiseDb.length !== 2) {
      p.list.push(`data.noiseDb: expected [min, max] in dB full scale, got ${JSON.stringify(d.noiseDb)}`);
    } else p.ordered("data.noiseDb", d.noiseDb[0], d.noiseDb[1]);
  }
  if (d.mix !== undefined) {
    if (!Array.isArray(d.mix)) p.list.push(`data.mix: expected a list of { manifest, share }`);
    else {
      d.mix.forEach((m, i) => {
        if (typeof m?.manifest !== "string" || m.manifest === "") {
          p.list.push(
            `data.mix[${i}].manifest: expected a manifest path, got ${JSON.stringify(m?.manifest)}`,
          );
        }
        if (typeof m?.share !== "number" || !(m.share > 0 && m.share < 1)) {
          p.list.push(`data.mix[${i}].share: expected a fraction in (0, 1), got ${JSON.stringify(m?.share)}`);
        }
      });
      const total = d.mix.reduce((s, m) => s + (typeof m?.share === "number" ? m.share : 0), 0);
      if (total >= 1) p.list.push(`data.mix: the shares sum to ${total}, which leaves nothing of data.train`);
    }
  }
  if (d.nWorkers !== undefined) p.integer("data.nWorkers", d.nWorkers, 1);
  if (p.list.length > 0) throw new RangeError(`${config.name}: ${p.list.join("; ")}`);
}

/** Options of `makeTrainingLoader`. */
export interface TrainingLoaderOptions {
  /** Continue the stream a checkpoint saved (`CheckpointMeta.loaderState`). */
  resume?: LoaderState;
  /** Feature Workers; default `config.data.nWorkers`, else the core count less one (at least 1). */
  nWorkers?: number;
}

/**
 * The Worker loader over `config.data.train` with the config's augmentation and mix, seeded
 * from `training.seed` (plans, per-utterance augmentation and mix draws all from one Rng).
 */
export function makeTrainingLoader(
  config: SpeechConfig,
  vocab: Vocabulary,
  options: TrainingLoaderOptions = {},
): BatchLoader {
  validateDataConfig(config);
  const entries = config.data.train.flatMap((m) => readManifest(m));
  if (entries.length === 0) throw new Error(`${config.name}: the training manifests hold no utterances`);
  const mix = (config.data.mix ?? []).map((m) => ({
    entries: readManifest(m.manifest).map((e) => ({
      ...e,
      transcript: normalizeTranscript(e.transcript, vocab, MIX_TRANSCRIPT_NORMALIZATION),
    })),
    share: m.share,
    name: m.manifest,
  }));
  const cores = navigator.hardwareConcurrency ?? 2;
  return new BatchLoader(entries, {
    features: config.features,
    vocabulary: vocab,
    batchSize: config.data.batchSize,
    nBuckets: 4,
    padTo: config.features.padTo ?? 8,
    seed: config.training.seed + 1,
    maxDurationS: config.data.maxDuration,
    augment: resolveAugment(config.data),
    mix,
    nWorkers: options.nWorkers ?? config.data.nWorkers ?? Math.max(1, cores - 1),
    resume: options.resume,
  });
}
