/**
 * Adam and AdamW (Loshchilov & Hutter): bias-corrected first and second moments.
 * `decoupled` (AdamW, default) shrinks weights by lr·wd·w outside the adaptive step; without
 * it, wd·w is added to the gradient (Adam with L2, OpenSeq2Seq's DS2 small config).
 */
import { div, mul, mulAdd, sqrt, type Tensor } from "../../ops/mod.ts";
import { Optimizer, type OptimizerOptions } from "./optimizer.ts";

/** Options of `AdamW`. */
export interface AdamWOptions extends OptimizerOptions {
  /** Decay β1 of the first moment; default 0.9. */
  beta1?: number;
  /** Decay β2 of the second moment; default 0.999. */
  beta2?: number;
  /** Added to √v̂ in the denominator; default 1e-8. */
  epsilon?: number;
  /** Decoupled weight decay (AdamW); false gives Adam with an L2 gradient term. */
  decoupled?: boolean;
}

/** Adam / AdamW. */
export class AdamW extends Optimizer {
  readonly #b1: number;
  readonly #b2: number;
  readonly #eps: number;
  readonly #decoupled: boolean;

  /** AdamW over `params` (Adam with an L2 term when `options.decoupled` is false). */
  constructor(params: Map<string, Tensor>, options: AdamWOptions = {}) {
    super(params, options);
    this.#b1 = options.beta1 ?? 0.9;
    this.#b2 = options.beta2 ?? 0.999;
    this.#eps = options.epsilon ?? 1e-8;
    this.#decoupled = options.decoupled ?? true;
  }

  /** A bias-corrected Adam step of parameter `name` ("m", "v" slots), then the decoupled decay lr·wd·w. */
  protected update(name: string, w: Tensor, g: Tensor, lr: number, wd: number): Tensor {
    const t = this.stepCount + 1;
    const grad = !this.#decoupled && wd > 0 ? mulAdd(w, wd, g) : g;
    const mPrev = this.slot(name, "m"), vPrev = this.slot(name, "v");
    const m = mPrev ? mulAdd(mPrev, this.#b1, mul(grad, 1 - this.#b1)) : mul(grad, 1 - this.#b1);
    const g2 = mul(grad, mul(grad, 1 - this.#b2));
    const v = vPrev ? mulAdd(vPrev, this.#b2, g2) : g2;
    this.setSlot(name, "m", m);
    this.setSlot(name, "v", v);
    // m̂/(√v̂ + ε) with the bias corrections as scalars: (m/c1)/(√v/√c2 + ε), c = 1 − β^t.
    const denom = mulAdd(sqrt(this.slot(name, "v")!), 1 / Math.sqrt(1 - this.#b2 ** t), this.#eps);
    // The decoupled decay lr·wd·w folds into the base: w·(1 − lr·wd) − lr·m̂/(√v̂ + ε).
    const base = this.#decoupled && wd > 0 ? mul(w, 1 - lr * wd) : w;
    return mulAdd(div(this.slot(name, "m")!, denom), -lr / (1 - this.#b1 ** t), base);
  }
}
