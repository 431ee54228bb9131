/**
 * The typed configuration of a speech model run: what `--config <name>` selects and what
 * `--section.key=value` overrides. One object holds the model, data, features, optimizer,
 * schedule and decoder, like OpenSeq2Seq's base_params + train/eval/infer params.
 */
import type { FeatureConfig } from "../../data/features/compute_features.ts";
import type { AugmentConfig } from "../../data/pipeline/extract.ts";
import type { LrPolicy } from "../lr_policy.ts";
import type { EncoderConfig } from "../ctc_model.ts";
import type { LarcOptions } from "../optimizers/optimizer.ts";
import type { Precision } from "../precision.ts";
import type { LossScalerOptions } from "../loss_scaler.ts";

/** Optimizer choice and its hyper-parameters. */
export interface OptimizerConfig {
  /** "novograd", "sgd" (with momentum), "adamw" (decoupled weight decay) or "adam" (L2 gradient term). */
  kind: "novograd" | "sgd" | "adamw" | "adam";
  /** First-moment decay of NovoGrad and Adam(W); their default (0.95, 0.9) when absent. */
  beta1?: number;
  /** Second-moment decay of NovoGrad and Adam(W); their default (0.98, 0.999) when absent. */
  beta2?: number;
  /** Denominator epsilon of NovoGrad and Adam(W); default 1e-8. */
  epsilon?: number;
  /** SGD momentum μ; default 0.9 (`makeOptimizer`). */
  momentum?: number;
  /** Weight decay, applied to every parameter as the optimizer does (decoupled for adamw); default 0. */
  weightDecay?: number;
  /** NovoGrad: scale the normalised gradient by (1 − β1); default false. */
  gradAveraging?: boolean;
  /** LARC per parameter tensor; off when absent. */
  larc?: LarcOptions;
  /** Clip gradients to this global L2 norm; no clipping when absent. */
  clipNorm?: number;
}

/** Decoder used by eval and infer. */
export interface DecoderConfig {
  /** "greedy" (best label per frame) or "beam" (CTC prefix beam search, LM-fused when `lm` is set). */
  kind: "greedy" | "beam";
  /** Beam search: prefixes kept per frame; default 128. */
  beamWidth?: number;
  /** Beam search: LM weight on log10 scores; default 0. */
  alpha?: number;
  /** Beam search: word (or, with a character LM, character) insertion bonus; default 0. */
  beta?: number;
  /** ARPA or binary LM path for beam search. */
  lm?: string;
}

/**
 * An extra training manifest mixed into every epoch (e.g. real recordings beside synthetic
 * speech): its transcripts are normalised (lower case, accents stripped, other characters
 * dropped, spaces collapsed) and each epoch draws `share` of its utterances from it.
 */
export interface MixSource {
  /** Manifest (OpenSeq2Seq CSV or NeMo JSON lines). */
  manifest: string;
  /**
   * Fraction of each epoch's utterances drawn from this manifest, in (0, 1); the shares of all
   * sources sum below 1 and the rest are the `train` manifests' utterances (all of them, every
   * epoch). E.g. 0.1: one utterance in ten comes from here.
   */
  share: number;
}

/** A complete run configuration. */
export interface SpeechConfig {
  /** Name shown in logs and stored in checkpoints. */
  name: string;
  /** Vocabulary file (OpenSeq2Seq format) or "english" (space, a–z, apostrophe; blank appended last). */
  vocabulary: string;
  /** Feature extraction; stored in checkpoints, so inference computes the same features. */
  features: FeatureConfig;
  /** Encoder family and its layers. */
  encoder: EncoderConfig;
  /** Manifests, batch size and training augmentation. */
  data: {
    /** Manifests (OpenSeq2Seq CSV or NeMo JSON lines). */
    train: string[];
    eval: string[];
    infer: string[];
    batchSize: number;
    /** Utterances longer than this (seconds) are skipped in training. */
    maxDuration?: number;
    /**
     * Augmentation in training (data/pipeline/extract.ts `AugmentConfig`; every part optional,
     * checked by `validateDataConfig`). Any waveform part trains from the Worker loader
     * (data/pipeline/loader.ts) instead of features computed once; SpecAugment alone does not.
     */
    augment?: AugmentConfig;
    /** Extra manifests mixed into each epoch at a share of its utterances (trains from the Worker loader). */
    mix?: MixSource[];
    /** Feature Workers of the loader when it is used; default the core count less one (at least 1). */
    nWorkers?: number;
    /**
     * Old form of `augment.speed`: two numbers are a range [min, max] drawn uniformly (as
     * OpenSeq2Seq's time_stretch_ratio), more are factors to choose from.
     */
    speedPerturbation?: number[];
    /** Old form of `augment.noise`: white noise level range [min, max] in dB full scale. */
    noiseDb?: [number, number];
    /** Old form of `augment.specAugment`'s frequency masks. */
    freqMasks?: { count: number; width: number };
    /** Old form of `augment.specAugment`'s time masks. */
    timeMasks?: { count: number; width: number };
  };
  /** Optimizer and its hyper-parameters (see `makeOptimizer`). */
  optimizer: OptimizerConfig;
  /** Learning rate as a function of the training step. */
  lrPolicy: LrPolicy;
  /** Step budget, log, eval and checkpoint schedules, seed and output folder. */
  training: {
    /** Stop after this many updates (or after `epochs`, whichever first). */
    maxSteps: number;
    epochs?: number;
    /**
     * Fine-tuning (OpenSeq2Seq's `load_model`): a checkpoint whose weights a run starts from when
     * `logDir` holds none. Only the model's parameters and batch-norm statistics are taken; the
     * step count, optimizer state and random state start fresh. Its vocabulary and layer shapes
     * must match the config's.
     */
    initCheckpoint?: string;
    /** Gradient accumulation: updates happen every iterSize batches. */
    iterSize: number;
    /**
     * "f32" (default) or "fp16": mixed precision, float16 GEMM/conv inputs with f32 accumulation
     * and master weights, and dynamic loss scaling (models/precision.ts). A backend without
     * float16 says so and trains in f32.
     */
    precision?: Precision;
    /** The loss scaler of fp16 runs; OpenSeq2Seq's Backoff defaults when absent. */
    lossScaler?: LossScalerOptions;
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
  /** How eval and infer turn logits into text. */
  decoder: DecoderConfig;
}
