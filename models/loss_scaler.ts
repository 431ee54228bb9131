/**
 * Dynamic loss scaling for mixed-precision training, as OpenSeq2Seq's `BackoffScaler`
 * (open_seq2seq/optimizers/automatic_loss_scaler.py): the loss is multiplied by a scale before
 * backward so that small float16 gradients do not underflow, and the gradients are divided by
 * it before the update. A step whose gradients overflowed (a non-finite loss or gradient norm)
 * is skipped and halves the scale; every `stepWindow` clean steps in a row double it; the scale
 * stays within [minScale, maxScale].
 *
 * The state (scale, clean steps in a row, and whether the current iterSize window has
 * overflowed) is device scalars updated with `where` from trainStep's device-side finite flag,
 * so the scaler reads nothing back to the host. It is backend-independent: any backend with the
 * elementwise ops runs it (the CUDA backend's fp16/bf16 modes too).
 *
 * With iterSize > 1 the gradients of a window are summed at one scale, so the scale changes
 * only where the window ends (`update`), from every batch of the window (`observe`).
 *
 * Not here: the LogMax scaler, per-tensor scales.
 */
import { add, assign, keep, maximum, minimum, mul, noGrad, scalar, type Tensor, where } from "../ops/mod.ts";

/** Settings of `BackoffLossScaler`; the defaults are OpenSeq2Seq's (reference: openseq2seq-speech.md §1.5). */
export interface LossScalerOptions {
  /** Scale of the first step; default 2^14. */
  initialScale?: number;
  /** Factor the scale is divided by on overflow and multiplied by after a clean window; default 2. */
  stepFactor?: number;
  /** Clean steps in a row after which the scale grows; default 2000. */
  stepWindow?: number;
  /** Smallest scale; default 1. */
  minScale?: number;
  /** Largest scale; default 2^14. */
  maxScale?: number;
}

/** Checkpoint names of the scaler's state tensors. */
const STATE_KEYS = ["loss_scale", "loss_scale_clean_steps"] as const;

/** OpenSeq2Seq's Backoff loss scaler over device scalars (see the file comment). */
export class BackoffLossScaler {
  /** Resolved settings. */
  readonly options: Required<LossScalerOptions>;
  #scale: Tensor;
  #cleanSteps: Tensor;
  /** 1 while no batch of the current iterSize window overflowed; null at a window's start. */
  #windowFinite: Tensor | null = null;

  /** A scaler whose state lives on backend `backend` (the model's). */
  constructor(backend: string, options: LossScalerOptions = {}) {
    const o = {
      initialScale: options.initialScale ?? 2 ** 14,
      stepFactor: options.stepFactor ?? 2,
      stepWindow: options.stepWindow ?? 2000,
      minScale: options.minScale ?? 1,
      maxScale: options.maxScale ?? 2 ** 14,
    };
    if (!(o.minScale > 0 && o.minScale <= o.maxScale)) {
      throw new RangeError(`loss scaler: need 0 < minScale <= maxScale, got [${o.minScale}, ${o.maxScale}]`);
    }
    if (!(o.stepFactor > 1)) throw new RangeError(`loss scaler: stepFactor must be > 1, got ${o.stepFactor}`);
    if (!Number.isInteger(o.stepWindow) || o.stepWindow < 1) {
      throw new RangeError(`loss scaler: stepWindow must be a positive integer, got ${o.stepWindow}`);
    }
    this.options = o;
    const initial = Math.min(Math.max(o.initialScale, o.minScale), o.maxScale);
    this.#scale = keep(scalar(initial, { backend }));
    this.#cleanSteps = keep(scalar(0, { backend }));
  }

  /** The current scale (a device scalar owned by the scaler: do not dispose). */
  get scale(): Tensor {
    return this.#scale;
  }

  /** Clean steps in a row since the scale last changed on overflow or grew (a device scalar). */
  get cleanSteps(): Tensor {
    return this.#cleanSteps;
  }

  /** `loss` multiplied by the scale (what backward starts from). */
  scaleLoss(loss: Tensor): Tensor {
    return mul(loss, this.#scale);
  }

  /** Records one batch's finite flag (1 or 0, a device scalar) for the current window. */
  observe(isFinite: Tensor): void {
    noGrad(() => {
      if (!this.#windowFinite) this.#windowFinite = keep(mul(isFinite, 1));
      else assign(this.#windowFinite, mul(this.#windowFinite, isFinite));
    });
  }

  /**
   * Ends a window: halves the scale (clamped to minScale) when a batch of it overflowed, else
   * counts a clean step and doubles the scale (clamped to maxScale) after `stepWindow` of them.
   * Without an `observe` since the last update the window counts as clean.
   */
  update(): void {
    noGrad(() => {
      const { stepFactor, stepWindow, minScale, maxScale } = this.options;
      const finite = this.#windowFinite ?? scalar(1, { backend: this.#scale.backend.name });
      const clean = where(finite, add(this.#cleanSteps, 1), 0);
      // clean is a whole number: grow = 1 when clean >= stepWindow, else 0.
      const grow = minimum(maximum(add(clean, 1 - stepWindow), 0), 1);
      const grown = where(grow, minimum(mul(this.#scale, stepFactor), maxScale), this.#scale);
      assign(this.#scale, where(finite, grown, maximum(mul(this.#scale, 1 / stepFactor), minScale)));
      assign(this.#cleanSteps, where(grow, 0, clean));
      this.#windowFinite?.dispose();
      this.#windowFinite = null;
    });
  }

  /** The scaler's state for a checkpoint (scale and clean-step count, by name). */
  stateDict(): Map<string, Tensor> {
    return new Map([[STATE_KEYS[0], this.#scale], [STATE_KEYS[1], this.#cleanSteps]]);
  }

  /** Restores state written by `stateDict()` (tensors copied onto this scaler's backend). */
  async loadStateDict(state: Map<string, Tensor>): Promise<void> {
    for (const key of STATE_KEYS) {
      if (!state.has(key)) throw new Error(`loss scaler: checkpoint state lacks "${key}"`);
    }
    const scale = await state.get(STATE_KEYS[0])!.item();
    const clean = await state.get(STATE_KEYS[1])!.item();
    const backend = this.#scale.backend.name;
    noGrad(() => {
      assign(this.#scale, scalar(scale, { backend }));
      assign(this.#cleanSteps, scalar(clean, { backend }));
    });
  }

  /** Releases the state tensors. */
  dispose(): void {
    this.#scale.dispose();
    this.#cleanSteps.dispose();
    this.#windowFinite?.dispose();
  }
}

/** True for names of loss-scaler state in a checkpoint's state (`BackoffLossScaler.stateDict`). */
export function isLossScalerKey(name: string): boolean {
  return (STATE_KEYS as readonly string[]).includes(name);
}
