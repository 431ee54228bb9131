/**
 * Dynamic loss scaling for fp16 training, as OpenSeq2Seq's `BackoffScaler`
 * (open_seq2seq/optimizers/automatic_loss_scaler.py): the loss is multiplied by `scale`
 * before backward; a step whose gradients hold an Inf or NaN is skipped and halves the scale
 * (not below `scaleMin`); after `stepWindow` steps without overflow since the last one, the
 * scale doubles (not above `scaleMax`). Gradients are divided by the scale before the update.
 *
 * Pure TypeScript: the on-device part is the overflow flag (a sum over the gradients that is
 * finite exactly when every gradient is), read once per step with the loss.
 *
 * Not here: OpenSeq2Seq's LogMax scaler; bf16 needs no scaling (its exponent range is f32's).
 */

/** Options of `BackoffLossScaler` (OpenSeq2Seq's defaults). */
export interface BackoffLossScalerOptions {
  /** Starting scale (2^24). */
  initialScale?: number;
  /** Smallest scale (1). */
  scaleMin?: number;
  /** Largest scale (2^24). */
  scaleMax?: number;
  /** Factor of each change (2). */
  stepFactor?: number;
  /** Steps without overflow after which the scale grows (2000). */
  stepWindow?: number;
}

/** The Backoff loss scaler: halve on overflow, double after a window of clean steps. */
export class BackoffLossScaler {
  readonly scaleMin: number;
  readonly scaleMax: number;
  readonly stepFactor: number;
  readonly stepWindow: number;
  #scale: number;
  #iteration = 0;
  #lastOverflowIteration = -1;

  /** A scaler with OpenSeq2Seq's defaults unless overridden. */
  constructor(options: BackoffLossScalerOptions = {}) {
    this.scaleMin = options.scaleMin ?? 1;
    this.scaleMax = options.scaleMax ?? 2 ** 24;
    this.stepFactor = options.stepFactor ?? 2;
    this.stepWindow = options.stepWindow ?? 2000;
    this.#scale = options.initialScale ?? 2 ** 24;
    if (!(this.scaleMin > 0 && this.scaleMin <= this.scaleMax)) {
      throw new RangeError(
        `BackoffLossScaler: need 0 < scaleMin <= scaleMax, got ${this.scaleMin} and ${this.scaleMax}`,
      );
    }
    if (!(this.stepFactor > 1)) {
      throw new RangeError(`BackoffLossScaler: stepFactor ${this.stepFactor} must exceed 1`);
    }
    if (!(Number.isInteger(this.stepWindow) && this.stepWindow > 0)) {
      throw new RangeError(`BackoffLossScaler: stepWindow ${this.stepWindow} must be a positive integer`);
    }
  }

  /** The factor the loss is multiplied by now. */
  get scale(): number {
    return this.#scale;
  }

  /** Steps seen so far. */
  get iteration(): number {
    return this.#iteration;
  }

  /**
   * Records one step: `hasOverflow` when any gradient was Inf or NaN. Returns whether the
   * optimizer should apply this step's (unscaled) gradients.
   */
  update(hasOverflow: boolean): boolean {
    if (hasOverflow) {
      this.#scale = clamp(this.#scale / this.stepFactor, this.scaleMin, this.scaleMax);
      this.#lastOverflowIteration = this.#iteration;
    } else if ((this.#iteration - this.#lastOverflowIteration) % this.stepWindow === 0) {
      this.#scale = clamp(this.#scale * this.stepFactor, this.scaleMin, this.scaleMax);
    }
    this.#iteration++;
    return !hasOverflow;
  }

  /** State for a checkpoint's metadata. */
  toJSON(): { scale: number; iteration: number; lastOverflowIteration: number } {
    return {
      scale: this.#scale,
      iteration: this.#iteration,
      lastOverflowIteration: this.#lastOverflowIteration,
    };
  }

  /** Restores `toJSON()` output (resuming a run). */
  restore(state: { scale: number; iteration: number; lastOverflowIteration: number }): void {
    this.#scale = state.scale;
    this.#iteration = state.iteration;
    this.#lastOverflowIteration = state.lastOverflowIteration;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
