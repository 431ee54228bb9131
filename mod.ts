/**
 * deno-ctc: end-to-end CTC speech recognition in TypeScript for Deno.
 *
 * The public surface only: every name is re-exported from the folder that implements it.
 * - `ops/`: tensors, autograd, the op registry and its backends (cpu, webgpu).
 * - `data/`: audio decoding, resampling, features, augmentation, manifests and batches.
 * - `decode/`: CTC greedy and beam-search decoders, the n-gram LM, WER and CER.
 * - `models/`: layers, Jasper / Wave2Letter+ / DeepSpeech2, optimizers, training.
 *
 * @module
 */
export * from "./ops/mod.ts";
export * from "./data/mod.ts";
export * from "./decode/mod.ts";
export * from "./models/mod.ts";
