/**
 * Helpers of the training-step tests (train_step_test.ts, mixed_precision_test.ts,
 * tests/slow/mixed_precision_curve_test.ts): the `small` config's model on three tiny random
 * utterances, loss curves with and without a loss scaler, eval logits, and the tolerances the
 * loss curves are held to; and a tiny DeepSpeech2 encoder (padding_invariance_test.ts,
 * fused_activation_test.ts).
 */
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { config as small } from "../../models/configs/small.ts";
import { CtcModel, type EncoderConfig } from "../../models/ctc_model.ts";
import { BackoffLossScaler, type LossScalerOptions } from "../../models/loss_scaler.ts";
import type { Optimizer } from "../../models/optimizers/optimizer.ts";
import type { Precision } from "../../models/precision.ts";
import { type TrainBatch, trainStep } from "../../models/train_step.ts";
import { makeOptimizer } from "../../models/trainer.ts";
import { defaultBackend, setDefaultBackend } from "../../ops/backend_registry.ts";
import { noGrad, Rng, tensor, TensorScope } from "../../ops/mod.ts";

/** The vocabulary of the tiny batches. */
export const vocab: Vocabulary = Vocabulary.english();
/** Features per frame of the small config. */
export const F: number = small.features.numFeatures;

/**
 * How far an fp16 run's loss may be from the f32 run's at each step, relative to
 * max(1, f32 loss), over the first 10 and over 30 steps (the loss falls from 64 to 0.8; no step
 * skipped at an initial scale of 2^10). Measured, webgpu fp16 against webgpu f32: at most 0.36%
 * in the first 10 steps and 7.5% over 30 (step 27, loss 1.68 vs 1.56); the cpu's emulation
 * against cpu f32: 0.34% and 3.9%. The differences grow as the two runs' weights drift apart.
 */
export const CURVE_TOLERANCE = { steps10: 0.02, steps30: 0.15 } as const;

/** Loss-scaler settings of the curve tests: OpenSeq2Seq's, but starting at 2^10 so that no step overflows. */
export const CURVE_SCALER: LossScalerOptions = { initialScale: 2 ** 10 };

/** Host data of one padded batch. */
export interface HostBatch {
  features: Float32Array;
  shape: number[];
  featureLengths: Int32Array;
  targets: Int32Array;
  targetLengths: Int32Array;
}

/** Three utterances of 40-56 frames of random features with 3-5 letters each. */
export function tinyBatch(seed: number): HostBatch {
  const rng = new Rng(seed);
  const n = 3, maxFrames = 56;
  const featureLengths = Int32Array.from([maxFrames, 48, 40]);
  const features = new Float32Array(n * F * maxFrames);
  for (let b = 0; b < n; b++) {
    for (let f = 0; f < F; f++) {
      for (let t = 0; t < featureLengths[b]; t++) features[(b * F + f) * maxFrames + t] = rng.normal();
    }
  }
  const texts = ["abc", "dead", "faced"];
  const targets = Int32Array.from(texts.flatMap((s) => [...vocab.encode(s)]));
  const targetLengths = Int32Array.from(texts.map((s) => s.length));
  return { features, shape: [n, F, maxFrames], featureLengths, targets, targetLengths };
}

/** The batch with its features on `backend`. */
export function onBackend(batch: HostBatch, backend: string): TrainBatch {
  return { ...batch, features: tensor(batch.features, batch.shape, { backend }) };
}

/** The small config's model (in `precision`) and optimizer, seeded alike, on `backend`. */
export function modelOn(
  backend: string,
  precision: Precision,
  seed = 7,
): { model: CtcModel; optimizer: Optimizer } {
  const before = defaultBackend();
  setDefaultBackend(backend);
  try {
    const model = new CtcModel(F, vocab.size, small.encoder, new Rng(seed)).setPrecision(precision);
    return { model, optimizer: makeOptimizer(small, model.parameters()) };
  } finally {
    setDefaultBackend(before);
  }
}

/** Losses of `steps` training steps on one batch (read after each step). */
export async function lossCurve(
  backend: string,
  precision: Precision,
  steps: number,
  scaler: LossScalerOptions | null,
): Promise<
  { losses: number[]; model: CtcModel; optimizer: Optimizer; lossScaler: BackoffLossScaler | null }
> {
  const { model, optimizer } = modelOn(backend, precision);
  const lossScaler = scaler ? new BackoffLossScaler(backend, scaler) : null;
  const batch = tinyBatch(3);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    using _scope = new TensorScope();
    const r = trainStep(model, optimizer, onBackend(batch, backend), {
      lr: 0.01,
      lossScaler: lossScaler ?? undefined,
    });
    losses.push(await r.loss.item());
  }
  return { losses, model, optimizer, lossScaler };
}

/** Eval-mode logits of two fixed utterances. */
export async function evalLogits(model: CtcModel, backend: string): Promise<Float32Array> {
  const rng = new Rng(21);
  const x = Float32Array.from({ length: 2 * F * 48 }, () => rng.normal());
  using _scope = new TensorScope();
  model.eval();
  const { logits } = noGrad(() => model.forward(tensor(x, [2, F, 48], { backend }), Int32Array.of(48, 40)));
  const out = await logits.data() as Float32Array;
  model.train();
  return out;
}

/** Largest |got − want| / max(1, |want|). */
export function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
  }
  return err;
}

/** Largest |fp16 − f32| / max(1, f32) over two loss curves. */
export function curveDrift(fp16: readonly number[], f32: readonly number[]): { drift: number; at: number } {
  let drift = 0, at = -1;
  for (let i = 0; i < f32.length; i++) {
    const d = Math.abs(fp16[i] - f32[i]) / Math.max(1, f32[i]);
    if (!(d <= drift)) [drift, at] = [Number.isNaN(d) ? Infinity : d, i];
  }
  return { drift, at };
}

/** Two clipped-ReLU convolutions (strided in time and frequency) and two bidirectional GRU layers. */
export function tinyDs2Encoder(dropout: number): EncoderConfig {
  return {
    kind: "ds2",
    convLayers: [{ kernel: [5, 5], stride: [2, 2], channels: 4 }, {
      kernel: [3, 3],
      stride: [1, 2],
      channels: 4,
    }],
    rnnLayers: 2,
    rnnUnits: 6,
    bidirectional: true,
    hidden: 10,
    dropout,
    activation: "clipped_relu",
    bnMomentum: 0.1,
    bnEps: 1e-3,
  };
}
