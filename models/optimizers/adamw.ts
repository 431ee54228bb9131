/**
 * Adam and AdamW (Loshchilov & Hutter): bias-corrected first and second moments.
 * `decoupled` (AdamW, default) shrinks weights by lr·wd·w outside the adaptive step; without
 * it, wd·w is added to the gradient (Adam with L2, OpenSeq2Seq's DS2 small config).
 *
 * The bias corrections 1 − β^t use β1^t and β2^t kept as device scalars and multiplied by β at
 * each applied update (TensorFlow's beta1_power / beta2_power), so that a step skipped on the
 * device does not advance t, and no host read is needed to know t.
 */
import { div, mul, mulAdd, sqrt, sub, type Tensor } from "../../ops/mod.ts";
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
  /** This step's β1^t, β2^t, −lr/(1 − β1^t) and 1/√(1 − β2^t), as device scalars (set by beginStep). */
  #perStep: { b1t: Tensor; b2t: Tensor; mScale: Tensor; vScale: Tensor } | null = null;

  /** AdamW over `params` (Adam with an L2 term when `options.decoupled` is false). */
  constructor(params: Map<string, Tensor>, options: AdamWOptions = {}) {
    super(params, options);
    this.#b1 = options.beta1 ?? 0.9;
    this.#b2 = options.beta2 ?? 0.999;
    this.#eps = options.epsilon ?? 1e-8;
    this.#decoupled = options.decoupled ?? true;
  }

  /** β^t of this step from the stored β^(t−1), and the bias-correction scalars from them. */
  protected override beginStep(lr: number): void {
    // Created from stepCount for state saved before the powers were kept (no skipped steps then).
    const b1Prev = this.globalSlot("beta1_power", () => this.#b1 ** this.stepCount);
    const b2Prev = this.globalSlot("beta2_power", () => this.#b2 ** this.stepCount);
    if (!b1Prev || !b2Prev) return;
    const b1t = mul(b1Prev, this.#b1), b2t = mul(b2Prev, this.#b2);
    this.#perStep = { b1t, b2t, mScale: div(-lr, sub(1, b1t)), vScale: div(1, sqrt(sub(1, b2t))) };
  }

  /** Stores this step's β powers (kept as they were when the step is not applied). */
  protected override endStep(): void {
    if (!this.#perStep) return;
    this.setGlobalSlot(
      "beta1_power",
      this.gated(this.#perStep.b1t, this.globalSlot("beta1_power", () => 1)!),
    );
    this.setGlobalSlot(
      "beta2_power",
      this.gated(this.#perStep.b2t, this.globalSlot("beta2_power", () => 1)!),
    );
    this.#perStep = null;
  }

  /** A bias-corrected Adam step of parameter `name` ("m", "v" slots), then the decoupled decay lr·wd·w. */
  protected update(name: string, w: Tensor, g: Tensor, lr: number, wd: number): Tensor {
    const { mScale, vScale } = this.#perStep!;
    const grad = !this.#decoupled && wd > 0 ? mulAdd(w, wd, g) : g;
    const mPrev = this.slot(name, "m"), vPrev = this.slot(name, "v");
    const m = mPrev ? mulAdd(mPrev, this.#b1, mul(grad, 1 - this.#b1)) : mul(grad, 1 - this.#b1);
    const g2 = mul(grad, mul(grad, 1 - this.#b2));
    const v = vPrev ? mulAdd(vPrev, this.#b2, g2) : g2;
    this.setSlot(name, "m", m);
    this.setSlot(name, "v", v);
    // m̂/(√v̂ + ε) with the bias corrections as scalars: (m/c1)/(√v/√c2 + ε), c = 1 − β^t.
    const denom = mulAdd(sqrt(this.slot(name, "v")!), vScale, this.#eps);
    // The decoupled decay lr·wd·w folds into the base: w·(1 − lr·wd) − lr·m̂/(√v̂ + ε).
    const base = this.#decoupled && wd > 0 ? mul(w, 1 - lr * wd) : w;
    return mulAdd(div(this.slot(name, "m")!, denom), mScale, base);
  }
}
