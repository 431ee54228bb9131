/**
 * The typed configuration of a speech model run: what `--config <name>` selects and what
 * `--section.key=value` overrides. One object holds the model, data, features, optimizer,
 * schedule and decoder, like OpenSeq2Seq's base_params + train/eval/infer params.
 */
import type { FeatureConfig } from "../../data/compute_features.ts";
import type { LrPolicy } from "../lr_policy.ts";
import type { EncoderConfig } from "../ctc_model.ts";
import type { LarcOptions } from "../optimizers/optimizer.ts";

/** Optimizer choice and its hyper-parameters. */
export interface OptimizerConfig {
  kind: "novograd" | "sgd" | "adamw" | "adam";
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
  weightDecay?: number;
  gradAveraging?: boolean;
  larc?: LarcOptions;
  clipNorm?: number;
}

/** Decoder used by eval and infer. */
export interface DecoderConfig {
  kind: "greedy" | "beam";
  beamWidth?: number;
  alpha?: number;
  beta?: number;
  /** ARPA or binary LM path for beam search. */
  lm?: string;
}

/** A complete run configuration. */
export interface SpeechConfig {
  /** Name shown in logs and stored in checkpoints. */
  name: string;
  /** Vocabulary file (OpenSeq2Seq format) or "english" (space, a–z, apostrophe; blank appended last). */
  vocabulary: string;
  features: FeatureConfig;
  encoder: EncoderConfig;
  data: {
    /** Manifests (OpenSeq2Seq CSV or NeMo JSON lines). */
    train: string[];
    eval: string[];
    infer: string[];
    batchSize: number;
    /** Utterances longer than this (seconds) are skipped in training. */
    maxDuration?: number;
    /** Augmentation in training. */
    speedPerturbation?: number[];
    noiseDb?: [number, number];
    freqMasks?: { count: number; width: number };
    timeMasks?: { count: number; width: number };
  };
  optimizer: OptimizerConfig;
  lrPolicy: LrPolicy;
  training: {
    /** Stop after this many updates (or after `epochs`, whichever first). */
    maxSteps: number;
    epochs?: number;
    /** Gradient accumulation: updates happen every iterSize batches. */
    iterSize: number;
    logEvery: number;
    evalEvery: number;
    saveEvery: number;
    keepCheckpoints: number;
    /** Stop with an error after this many consecutive non-finite steps. */
    maxNonFiniteSteps: number;
    seed: number;
    /** Folder for checkpoints, logs and plots. */
    logDir: string;
  };
  decoder: DecoderConfig;
}
