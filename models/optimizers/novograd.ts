/**
 * NovoGrad as OpenSeq2Seq defines it (open_seq2seq/optimizers/novograd.py): a per-layer
 * scalar second moment of the gradient, then TF momentum.
 *   v = ‖g‖² on the first step, else β2·v + (1−β2)·‖g‖²
 *   ĝ = g / √(v + ε) + wd·w;  ĝ ×= (1−β1) if gradAveraging
 *   m = β1·m + ĝ;  w ← w − lr·m
 */
import { add, div, mul, sqrt, sub, sum, type Tensor } from "../../ops/mod.ts";
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
    const v = vPrev ? add(mul(vPrev, this.#b2), mul(g2, 1 - this.#b2)) : g2;
    this.setSlot(name, "v", v); // moves v into the slot
    let gHat = div(g, sqrt(add(this.slot(name, "v")!, this.#eps)));
    if (wd > 0) gHat = add(gHat, mul(w, wd));
    if (this.#avg) gHat = mul(gHat, 1 - this.#b1);
    const mPrev = this.slot(name, "m");
    const m = mPrev ? add(mul(mPrev, this.#b1), gHat) : gHat;
    this.setSlot(name, "m", m);
    return sub(w, mul(this.slot(name, "m")!, lr));
  }
}
