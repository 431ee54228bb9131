/**
 * SGD with momentum in TensorFlow's (and PyTorch's) form: m = μ·m + (g + wd·w); w ← w − lr·m.
 * Weight decay is the coupled L2 term OpenSeq2Seq adds to the loss for its momentum configs.
 */
import { mul, mulAdd, type Tensor } from "../../ops/mod.ts";
import { Optimizer, type OptimizerOptions } from "./optimizer.ts";

/** Options of `SGD`. */
export interface SgdOptions extends OptimizerOptions {
  /** Momentum μ (0 for plain SGD; OpenSeq2Seq uses 0.9). */
  momentum?: number;
  /** Nesterov momentum. */
  nesterov?: boolean;
}

/** Stochastic gradient descent with (Nesterov) momentum. */
export class SGD extends Optimizer {
  readonly #mu: number;
  readonly #nesterov: boolean;

  /** SGD over `params`; plain SGD (no momentum) unless `options.momentum` is set. */
  constructor(params: Map<string, Tensor>, options: SgdOptions = {}) {
    super(params, options);
    this.#mu = options.momentum ?? 0;
    this.#nesterov = options.nesterov ?? false;
  }

  /**
   * w − lr·(g + wd·w) without momentum; otherwise updates the "momentum" slot m and steps by
   * lr·m (lr·(d + μ·m) with Nesterov, d being the decayed gradient).
   */
  protected update(name: string, w: Tensor, g: Tensor, lr: number, wd: number): Tensor {
    const d = wd > 0 ? mulAdd(w, wd, g) : g;
    if (this.#mu === 0) return mulAdd(d, -lr, w);
    const prev = this.slot(name, "momentum");
    // A copy on the first step: d may be the .grad tensor itself, which zeroGrad releases.
    const m = prev ? mulAdd(prev, this.#mu, d) : mul(d, 1);
    this.setSlot(name, "momentum", m);
    const stepDir = this.#nesterov
      ? mulAdd(this.slot(name, "momentum")!, this.#mu, d)
      : this.slot(name, "momentum")!;
    return mulAdd(stepDir, -lr, w);
  }
}
