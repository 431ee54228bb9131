/**
 * `trainStep`: one training step of a CtcModel on whatever backend its parameters live on, the
 * unit that the trainer, the benchmarks and distributed training run.
 *
 *   forward → CTC loss → backward → global gradient norm → check → clip → optimizer update
 *
 * Nothing is read back to the host: the loss and gradient norm are checked on the device
 * (`finiteMask`), and a non-finite step is suppressed there too: the optimizer update is gated
 * by the flag (parameters and optimizer state keep their values, models/optimizers/optimizer.ts),
 * the running statistics the forward pass updated are put back with `where`, and within an
 * iterSize window the gradients accumulated so far are dropped, as the trainer did on the host
 * before. The step returns device scalars (loss, gradient norm, the flag) that the caller reads
 * when it logs, and may accumulate on the device meanwhile.
 *
 * Mixed precision (`lossScaler`, models/loss_scaler.ts): backward starts from the loss times the
 * scale, the reported gradient norm and the update divide it out (the optimizer's gradScale is
 * then a device scalar), and the step's finite flag, which an overflow of the scaled float16
 * gradients clears, feeds the scaler.
 *
 * Not here: batching, SpecAugment, the learning-rate policy, logging and checkpoints
 * (models/trainer.ts).
 */
import { assign, div, finiteMask, mul, noGrad, type Tensor, TensorScope, where } from "../ops/mod.ts";
import type { CtcModel } from "./ctc_model.ts";
import type { BackoffLossScaler } from "./loss_scaler.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";

/** One padded batch as trainStep takes it. */
export interface TrainBatch {
  /** Features [N, F, T] on the model's backend, padded to the longest utterance. */
  features: Tensor;
  /** Valid frames of each utterance (host-side: lengths stay plain arrays). */
  featureLengths: Int32Array;
  /** Label ids of every utterance, concatenated. */
  targets: Int32Array;
  /** Labels per utterance. */
  targetLengths: Int32Array;
}

/** Options of `trainStep`. */
export interface TrainStepOptions {
  /** Learning rate of the update. */
  lr: number;
  /**
   * Batches whose gradients are summed before one update, which then uses their mean
   * (OpenSeq2Seq's iter_size); default 1.
   */
  iterSize?: number;
  /**
   * Whether this batch ends its accumulation window, so that the update is made; default true.
   * With iterSize > 1 the caller passes true for every iterSize-th batch only.
   */
  update?: boolean;
  /**
   * Dynamic loss scaling (mixed precision): backward starts from the loss times the scaler's
   * scale, the update divides it out, and the scaler learns from the step's finite flag (it
   * changes where an iterSize window ends). Default: none (scale 1).
   */
  lossScaler?: BackoffLossScaler;
}

/** Device scalars of one step; they belong to the scope that was open around `trainStep`. */
export interface TrainStepResult {
  /** CTC loss of the batch (summed per utterance, divided by the batch size). */
  loss: Tensor;
  /** Global L2 norm of the gradients accumulated so far, before iterSize scaling and clipping (loss scale divided out). */
  gradNorm: Tensor;
  /** 1 when the loss and the gradient norm are finite (the step counted), 0 when it was skipped. */
  isFinite: Tensor;
}

/**
 * Runs one training step of `model` (in training mode) on `batch` and, when `options.update`,
 * updates the parameters through `optimizer`. Returns device scalars and reads nothing back.
 *
 * @example
 * ```ts
 * using scope = new TensorScope();
 * const { loss, isFinite } = trainStep(model, optimizer, batch, { lr: 0.01 });
 * if (step % logEvery === 0) console.log(await loss.item(), await isFinite.item());
 * ```
 */
export function trainStep(
  model: CtcModel,
  optimizer: Optimizer,
  batch: TrainBatch,
  options: TrainStepOptions,
): TrainStepResult {
  const iterSize = options.iterSize ?? 1;
  if (!Number.isInteger(iterSize) || iterSize < 1) {
    throw new RangeError(`trainStep: iterSize must be a positive integer, got ${iterSize}`);
  }
  using scope = new TensorScope();
  const params = model.parameters();
  // Running statistics: the training forward updates them, so a skipped step must put them back.
  const buffers = [...model.stateDict()].filter(([k]) => !params.has(k)).map(([, b]) => b);
  const savedBuffers = noGrad(() => buffers.map((b) => mul(b, 1)));
  const { logits, lengths } = model.forward(batch.features, batch.featureLengths);
  const loss = model.loss(logits, lengths, batch.targets, batch.targetLengths);
  const scaler = options.lossScaler;
  (scaler ? scaler.scaleLoss(loss) : loss).backward();
  const result = noGrad((): TrainStepResult => {
    // The gradients are those of the scaled loss: an overflow shows as a non-finite norm.
    const scaledNorm = optimizer.gradNorm();
    const gradNorm = scaler ? div(scaledNorm, scaler.scale) : scaledNorm;
    const isFinite = mul(finiteMask(loss), finiteMask(scaledNorm));
    scaler?.observe(isFinite);
    // A NaN in the batch reaches the running statistics through the batch mean.
    buffers.forEach((b, i) => assign(b, where(isFinite, b, savedBuffers[i])));
    if (options.update ?? true) {
      const gradScale = scaler ? div(1 / iterSize, scaler.scale) : 1 / iterSize;
      optimizer.step(options.lr, gradScale, { gradNorm: scaledNorm, apply: isFinite });
      scaler?.update();
    } else {
      // Mid-window: a bad batch drops the window's gradients so far, as a host-side skip did.
      for (const p of params.values()) if (p.grad) assign(p.grad, where(isFinite, p.grad, 0));
    }
    return { loss, gradNorm, isFinite };
  });
  scope.keep(result.loss);
  scope.keep(result.gradNorm);
  scope.keep(result.isFinite);
  return result;
}
