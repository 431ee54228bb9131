/**
 * Optimizer base: the per-parameter loop, weight decay placement, LARC and gradient
 * clipping, and state for checkpoints. Everything stays in tensors on the parameters'
 * backend (no host reads), updates go through `assign` so parameters keep their identity.
 *
 * Order of a step, as in OpenSeq2Seq: gradient (+ L2 term for optimizers with coupled weight
 * decay) → global-norm clipping → LARC per variable → the optimizer's update.
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

/** A first-order optimizer over named parameters. */
export abstract class Optimizer {
  /** Parameters being optimised, by name. */
  readonly params: Map<string, Tensor>;
  /** Updates done so far. */
  stepCount = 0;
  /** Weight decay, LARC and clipping settings given to the constructor. */
  protected readonly options: OptimizerOptions;
  /** Per-parameter state tensors, by "<param name>/<slot>". */
  protected readonly slots: Map<string, Tensor> = new Map();

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
   * summed over iterSize batches into their mean, as OpenSeq2Seq's `iter_size` does.
   */
  step(lr: number, gradScale = 1): void {
    noGrad(() => {
      const clipScale = this.options.clipNorm
        ? minimum(1, div(this.options.clipNorm, add(mul(this.gradNorm(), gradScale), 1e-6)))
        : null;
      const scale = gradScale === 1 ? clipScale : clipScale ? mul(clipScale, gradScale) : scalar(gradScale);
      for (const [name, w] of this.params) {
        if (!w.grad) continue;
        let g = scale ? mul(w.grad, scale) : w.grad;
        if (this.options.larc) g = mul(g, larcScale(w, g, lr, this.options.larc));
        const wd = this.options.noDecay?.(name) ? 0 : this.options.weightDecay ?? 0;
        assign(w, this.update(name, w, g, lr, wd));
      }
    });
    this.stepCount++;
    this.zeroGrad();
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params.values()) releaseGrad(p);
  }

  /** A state slot of a parameter, created (zeros-like via `init`) on first use. */
  protected slot(name: string, key: string): Tensor | undefined {
    return this.slots.get(`${name}/${key}`);
  }

  /** Stores a slot, keeping the tensor's identity when the slot exists; `value` is consumed (read the slot back). */
  protected setSlot(name: string, key: string, value: Tensor): void {
    const k = `${name}/${key}`;
    const old = this.slots.get(k);
    if (old && old.shape.join() === value.shape.join()) assign(old, value);
    else this.slots.set(k, keep(value)); // slots outlive the step's tidy scope
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
