/**
 * Learning-rate policies as pure functions of the step, as in OpenSeq2Seq
 * (open_seq2seq/optimizers/lr_policies.py) and NeMo's cosine-with-warmup.
 */

/** A learning-rate schedule: OpenSeq2Seq's `lr_policy` and its parameters. */
export type LrPolicy =
  | {
    kind: "poly";
    lr: number;
    power: number;
    decaySteps: number;
    minLr?: number;
    warmupSteps?: number;
    beginDecayAt?: number;
  }
  | {
    kind: "exp";
    lr: number;
    decaySteps: number;
    decayRate: number;
    staircase?: boolean;
    minLr?: number;
    warmupSteps?: number;
  }
  | { kind: "cosine"; lr: number; decaySteps: number; minLr?: number; warmupSteps?: number }
  | { kind: "fixed"; lr: number };

/**
 * The learning rate at `step` (0-based).
 *
 * - poly: `tf.train.polynomial_decay(lr, step − begin, decaySteps, minLr, power)`, after an
 *   optional linear warmup.
 * - exp: lr·rate^(step/decaySteps), floored with `staircase`.
 * - cosine: linear warmup, then minLr + (lr − minLr)·(1 + cos(π·progress))/2.
 *
 * @example
 * ```ts
 * learningRate({ kind: "poly", lr: 0.02, power: 2, decaySteps: 1000, minLr: 1e-5 }, 500); // 0.0050075
 * ```
 */
export function learningRate(policy: LrPolicy, step: number): number {
  if (policy.kind === "fixed") return policy.lr;
  const warmup = policy.warmupSteps ?? 0;
  if (step < warmup) return policy.lr * (step + 1) / warmup;
  const minLr = policy.minLr ?? 0;
  switch (policy.kind) {
    case "poly": {
      const s = Math.min(Math.max(step - (policy.beginDecayAt ?? warmup), 0), policy.decaySteps);
      return (policy.lr - minLr) * (1 - s / policy.decaySteps) ** policy.power + minLr;
    }
    case "exp": {
      let p = (step - warmup) / policy.decaySteps;
      if (policy.staircase) p = Math.floor(p);
      return Math.max(policy.lr * policy.decayRate ** p, minLr);
    }
    case "cosine": {
      const span = Math.max(policy.decaySteps - warmup, 1);
      const progress = Math.min((step - warmup) / span, 1);
      return minLr + (policy.lr - minLr) * (1 + Math.cos(Math.PI * progress)) / 2;
    }
  }
}
