/**
 * NovoGrad as OpenSeq2Seq defines it (open_seq2seq/optimizers/novograd.py): a per-layer
 * scalar second moment of the gradient, then TF momentum.
 *   v = ‖g‖² on the first step, else β2·v + (1−β2)·‖g‖²
 *   ĝ = g / √(v + ε) + wd·w;  ĝ ×= (1−β1) if gradAveraging
 *   m = β1·m + ĝ;  w ← w − lr·m
 */
import { add, div, mul, mulAdd, sqrt, sum, type Tensor, where } from "../../ops/mod.ts";
import { Optimizer, type OptimizerOptions } from "./optimizer.ts";

/** NovoGrad options (OpenSeq2Seq defaults: β1 0.95, β2 0.98, ε 1e-8). */
export interface NovoGradOptions extends OptimizerOptions {
  /** Momentum decay β1 of m; default 0.95. */
  beta1?: number;
  /** Decay β2 of the per-layer second moment v; default 0.98. */
  beta2?: number;
  /** Added to v under the square root; default 1e-8. */
  epsilon?: number;
  /** Scale the normalised gradient by (1 − β1) before the momentum; default false. */
  gradAveraging?: boolean;
}

/** NovoGrad (Ginsburg et al. 2019), OpenSeq2Seq's optimizer for Jasper. */
export class NovoGrad extends Optimizer {
  readonly #b1: number;
  readonly #b2: number;
  readonly #eps: number;
  readonly #avg: boolean;

  /** NovoGrad over `params`, with the defaults of `NovoGradOptions`. */
  constructor(params: Map<string, Tensor>, options: NovoGradOptions = {}) {
    super(params, options);
    this.#b1 = options.beta1 ?? 0.95;
    this.#b2 = options.beta2 ?? 0.98;
    this.#eps = options.epsilon ?? 1e-8;
    this.#avg = options.gradAveraging ?? false;
  }

  /** One NovoGrad step of parameter `name`: updates its "v" and "m" slots and returns w − lr·m. */
  protected update(name: string, w: Tensor, g: Tensor, lr: number, wd: number): Tensor {
    const g2 = sum(mul(g, g));
    const vPrev = this.slot(name, "v");
    // "The first step" is the first applied one: a skipped (gated) first step leaves v a zero
    // slot, so whether an update happened before is asked of the device count.
    const v = vPrev ? where(this.appliedSteps()!, add(mul(vPrev, this.#b2), mul(g2, 1 - this.#b2)), g2) : g2;
    this.setSlot(name, "v", v); // moves v into the slot
    // ĝ = (g/√(v+ε) + wd·w)·k with k = 1−β1 under gradAveraging, else 1. With the per-layer
    // scalar k/√(v+ε), mulAdd makes m and w one pass each over the parameter, ĝ one or two.
    const k = this.#avg ? 1 - this.#b1 : 1;
    const s = div(k, sqrt(add(this.slot(name, "v")!, this.#eps)));
    const gHat = wd > 0 ? mulAdd(g, s, mul(w, wd * k)) : mul(g, s);
    const mPrev = this.slot(name, "m");
    this.setSlot(name, "m", mPrev ? mulAdd(mPrev, this.#b1, gHat) : gHat);
    return mulAdd(this.slot(name, "m")!, -lr, w);
  }
}
