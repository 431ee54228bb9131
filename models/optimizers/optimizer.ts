/**
 * Optimizer base: the per-parameter loop, weight decay placement, LARC and gradient
 * clipping, and state for checkpoints. Everything stays in tensors on the parameters'
 * backend (no host reads: the global gradient norm, the clipping scale and LARC's ratios are
 * device scalars), updates go through `assign` so parameters keep their identity.
 *
 * Order of a step, as in OpenSeq2Seq: gradient (+ L2 term for optimizers with coupled weight
 * decay) → global-norm clipping → LARC per variable → the optimizer's update.
 *
 * A step may be gated by a device flag (`StepOptions.apply`, 0 or 1): with 0 every parameter
 * and every state tensor keeps its value (the new values are chosen with `where`, which
 * selects and so cannot let a NaN through), which is how a non-finite training step is skipped
 * without reading anything back. The count of applied updates is a device scalar too
 * (`appliedSteps`), for the first-step and bias-correction terms that depend on it.
 */
import {
  add,
  assign,
  div,
  keep,
  maximum,
  minimum,
  mul,
  noGrad,
  releaseGrad,
  scalar,
  sqrt,
  sum,
  type Tensor,
  where,
} from "../../ops/mod.ts";

/** LARC (layer-wise adaptive rate clipping) settings; OpenSeq2Seq's `larc_params`. */
export interface LarcOptions {
  /** Trust coefficient η (OpenSeq2Seq configs use 0.001). */
  eta: number;
  /** "clip" (default): scale ≤ 1 and divided by the learning rate; "scale": η‖w‖/‖g‖ uncapped. */
  mode?: "clip" | "scale";
}

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /** Weight decay (coupled L2 or decoupled, per optimizer). */
  weightDecay?: number;
  /** LARC, applied per parameter tensor after clipping. */
  larc?: LarcOptions;
  /** Clip gradients to this global L2 norm. */
  clipNorm?: number;
  /** Parameters that get no weight decay (OpenSeq2Seq exempts batch-norm and bias variables). */
  noDecay?: (name: string) => boolean;
}

/** Options of one `Optimizer.step`. */
export interface StepOptions {
  /**
   * Global L2 norm of the parameters' gradients as they are (before `gradScale`), when the
   * caller computed it already (trainStep does, to check it): clipping then reuses it.
   */
  gradNorm?: Tensor;
  /**
   * Device scalar: 1 applies the update, 0 leaves every parameter and state tensor as it was
   * (a skipped step). Without it the update is applied.
   */
  apply?: Tensor;
}

/** Prefix of state entries that belong to the optimizer as a whole, not to one parameter. */
const GLOBAL_SLOT = "@optimizer/";

/** A first-order optimizer over named parameters. */
export abstract class Optimizer {
  /** Parameters being optimised, by name. */
  readonly params: Map<string, Tensor>;
  /**
   * `step()` calls so far, counted on the host. Calls whose `apply` flag was 0 count too: the
   * host cannot know without a read. `appliedSteps()` is the device count of applied updates.
   */
  stepCount = 0;
  /** Weight decay, LARC and clipping settings given to the constructor. */
  protected readonly options: OptimizerOptions;
  /** Per-parameter state tensors, by "<param name>/<slot>", and the optimizer's own ("@optimizer/<name>"). */
  protected readonly slots: Map<string, Tensor> = new Map();
  /** The current step's `apply` flag, while `step()` runs. */
  #apply: Tensor | null = null;

  /** Optimises the tensors of `params` (as `Module.parameters()` gives them); slots are made on first use. */
  constructor(params: Map<string, Tensor>, options: OptimizerOptions = {}) {
    this.params = params;
    this.options = options;
  }

  /** The update of one parameter given its (clipped, LARC-scaled) gradient; returns the new value. */
  protected abstract update(name: string, w: Tensor, g: Tensor, lr: number, weightDecay: number): Tensor;

  /** Global L2 norm of all gradients, as a scalar tensor (no host read). */
  gradNorm(): Tensor {
    return noGrad(() => {
      let total: Tensor | null = null;
      for (const p of this.params.values()) {
        if (!p.grad) continue;
        const s = sum(mul(p.grad, p.grad));
        total = total ? add(total, s) : s;
      }
      return sqrt(total ?? scalar(0));
    });
  }

  /**
   * Applies one update with learning rate `lr` from the parameters' `.grad`, then clears them.
   * `gradScale` multiplies the gradients first (before clipping): 1/iterSize turns gradients
   * summed over iterSize batches into their mean, as OpenSeq2Seq's `iter_size` does; a device
   * scalar also divides out a loss scale (models/loss_scaler.ts) without a host read. With
   * `options.apply` the update is gated on the device (see the file's comment).
   */
  step(lr: number, gradScale: number | Tensor = 1, options: StepOptions = {}): void {
    noGrad(() => {
      const clipScale = this.options.clipNorm
        ? minimum(
          1,
          div(this.options.clipNorm, add(mul(options.gradNorm ?? this.gradNorm(), gradScale), 1e-6)),
        )
        : null;
      const scale = gradScale === 1
        ? clipScale
        : clipScale
        ? mul(clipScale, gradScale)
        : typeof gradScale === "number"
        ? scalar(gradScale)
        : gradScale;
      this.#apply = options.apply ?? null;
      try {
        this.beginStep(lr);
        for (const [name, w] of this.params) {
          if (!w.grad) continue;
          let g = scale ? mul(w.grad, scale) : w.grad;
          if (this.options.larc) g = mul(g, larcScale(w, g, lr, this.options.larc));
          const wd = this.options.noDecay?.(name) ? 0 : this.options.weightDecay ?? 0;
          assign(w, this.gated(this.update(name, w, g, lr, wd), w));
        }
        this.endStep();
        const applied = this.appliedSteps();
        if (applied) this.setGlobalSlot("applied_steps", add(applied, this.#apply ?? 1));
      } finally {
        this.#apply = null;
      }
    });
    this.stepCount++;
    this.zeroGrad();
  }

  /** Called before the per-parameter updates of a step (per-step scalars such as bias corrections). */
  protected beginStep(_lr: number): void {}

  /** Called after the per-parameter updates of a step (per-step state such as β powers). */
  protected endStep(): void {}

  /** `next` where this step is applied, else `old` (`next` alone outside a gated step). */
  protected gated(next: Tensor, old: Tensor | number): Tensor {
    return this.#apply ? where(this.#apply, next, old) : next;
  }

  /**
   * Updates applied so far, as a device scalar on the parameters' backend (a gated step adds its
   * flag); created from `stepCount` on first use, so state from before it existed resumes right.
   * Null for an optimizer without parameters.
   */
  appliedSteps(): Tensor | null {
    return this.globalSlot("applied_steps", () => this.stepCount);
  }

  /**
   * The optimizer-wide state tensor `key` (a device scalar), created from `init()` on the first
   * parameter's backend and dtype when absent. Null when there are no parameters.
   */
  protected globalSlot(key: string, init: () => number): Tensor | null {
    const existing = this.slots.get(GLOBAL_SLOT + key);
    if (existing) return existing;
    const first = this.params.values().next().value;
    if (!first) return null;
    const t = keep(scalar(init(), { dtype: first.dtype, backend: first.backend.name }));
    this.slots.set(GLOBAL_SLOT + key, t);
    return t;
  }

  /** Replaces optimizer-wide state `key` with `value` (consumed); not gated, callers gate it. */
  protected setGlobalSlot(key: string, value: Tensor): void {
    const old = this.slots.get(GLOBAL_SLOT + key);
    if (old) assign(old, value);
    else this.slots.set(GLOBAL_SLOT + key, keep(value));
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params.values()) releaseGrad(p);
  }

  /** A state slot of a parameter, created (zeros-like via `init`) on first use. */
  protected slot(name: string, key: string): Tensor | undefined {
    return this.slots.get(`${name}/${key}`);
  }

  /**
   * Stores a slot, keeping the tensor's identity when the slot exists; `value` is consumed (read
   * the slot back). In a gated step the slot keeps its old value (zeros for a new slot) unless
   * the step is applied.
   */
  protected setSlot(name: string, key: string, value: Tensor): void {
    const k = `${name}/${key}`;
    const old = this.slots.get(k);
    const sameShape = old !== undefined && old.shape.join() === value.shape.join();
    const next = this.gated(value, sameShape ? old : 0);
    if (sameShape) assign(old, next);
    else this.slots.set(k, keep(next)); // slots outlive the step's tidy scope
  }

  /** Optimizer state for a checkpoint: slot tensors by name. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.slots);
  }

  /** Restores state written by `stateDict()` (plus `stepCount`, stored by the caller). */
  loadStateDict(state: Map<string, Tensor>, stepCount: number): void {
    this.slots.clear();
    for (const [k, v] of state) this.slots.set(k, v);
    this.stepCount = stepCount;
  }
}

/** LARC's per-variable gradient scale (OpenSeq2Seq optimizers.py). */
export function larcScale(w: Tensor, g: Tensor, lr: number, larc: LarcOptions): Tensor {
  const wNorm = sqrt(sum(mul(w, w)));
  const gNorm = add(sqrt(sum(mul(g, g))), 1e-7);
  if ((larc.mode ?? "clip") === "scale") return div(mul(wNorm, larc.eta), gNorm);
  return minimum(maximum(div(mul(wNorm, larc.eta / lr), gNorm), 1e-7), 1);
}
