/**
 * Public names of `models/`, re-exported by the root mod.ts.
 *
 * @module
 */
export { GRU, LSTM, type RecurrentBase, type RnnOptions, type SequenceLengths } from "./rnn.ts";
export { Module } from "./module.ts";
export { BatchNorm, Conv1d, Conv2d, Linear } from "./layers.ts";
export {
  type ConvBlockConfig,
  type ConvBn,
  type TdnnBlock,
  TdnnEncoder,
  type TdnnEncoderConfig,
} from "./tdnn.ts";
export { type Conv2dLayerConfig, DeepSpeech2Encoder, type DeepSpeech2EncoderConfig } from "./deepspeech2.ts";
export { CtcModel, type EncoderConfig } from "./ctc_model.ts";
export {
  type LarcOptions,
  Optimizer,
  type OptimizerOptions,
  type StepOptions,
} from "./optimizers/optimizer.ts";
export { NovoGrad, type NovoGradOptions } from "./optimizers/novograd.ts";
export { SGD, type SgdOptions } from "./optimizers/sgd.ts";
export { AdamW, type AdamWOptions } from "./optimizers/adamw.ts";
export { budgetedLearningRate, type BudgetProgress, learningRate, type LrPolicy } from "./lr_policy.ts";
export {
  type CheckpointMeta,
  exportCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  type LoadedCheckpoint,
  loadOptimizerState,
  saveCheckpoint,
} from "./checkpoint.ts";
export type { DecoderConfig, MixSource, OptimizerConfig, SpeechConfig } from "./configs/types.ts";
export { configs, overrideConfig, resolveConfig } from "./configs/mod.ts";
export { CONFIG_FIELD_RULES, type FieldRule, satisfiesRule, validateConfig } from "./configs/validate.ts";
export { loadUtterances, type LoadUtterancesOptions, type UtteranceSet } from "./dataset.ts";
export {
  makeTrainingLoader,
  MIX_TRANSCRIPT_NORMALIZATION,
  resolveAugment,
  type TrainingLoaderOptions,
  usesLoader,
  validateDataConfig,
} from "./training_data.ts";
export { type TrainBatch, trainStep, type TrainStepOptions, type TrainStepResult } from "./train_step.ts";
export { BackoffLossScaler, type LossScalerOptions } from "./loss_scaler.ts";
export { gemmDtype, type Precision, PRECISIONS, resolvePrecision } from "./precision.ts";
export { StepMonitor, type StepReading } from "./step_monitor.ts";
export {
  type EvalResult,
  evaluate,
  makeOptimizer,
  type StepLog,
  train,
  type TrainOptions,
  vocabularyOf,
} from "./trainer.ts";
export {
  audioLogits,
  inferFiles,
  type InferFilesOptions,
  type LoadedModel,
  loadModel,
  transcribeFile,
  writeInferenceLogits,
} from "./inference.ts";
export {
  describeDecoder,
  greedyTranscript,
  type TimedWord,
  type Transcript,
  TranscriptDecoder,
  type TranscriptDecoderOptions,
  type UtteranceDecoder,
  type UtteranceLogits,
} from "./transcript_decoder.ts";
export { LexiconDecoder } from "./lexicon_decoder.ts";
export {
  type DevSetEvaluationOptions,
  type ErrorRates,
  evaluateOnDevSets,
  evaluateSets,
  type EvaluateSetsOptions,
  type EvaluationSet,
  type EvaluationTable,
  formatEvaluationTable,
  type SetScores,
  type TrainingOverlap,
  trainingOverlap,
  UnknownDevSetError,
} from "./evaluation_table.ts";
export {
  preparePretrainData,
  PRETRAIN_SENTENCES,
  PRETRAIN_SYNTH_SEED,
  type PretrainData,
  type PretrainDataOptions,
  pretrainVoiceSet,
  recipeConfig,
  writeFsddTrainingManifest,
} from "./pretrain_recipe.ts";
