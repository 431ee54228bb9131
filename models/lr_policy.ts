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

/** Where a run with a wall-clock budget stands, for `budgetedLearningRate`. */
export interface BudgetProgress {
  /** The step the run is planned to end at, where the policy's decay ends. */
  plannedSteps: number;
  /** The step this run started from (after calibration or a resume). */
  startStep: number;
  /** `Date.now()` when this run started. */
  startTime: number;
  /** `Date.now()` when its budget ends. */
  deadline: number;
  /** `Date.now()` at the step being scheduled. */
  now: number;
}

/**
 * The learning rate at `step` of a policy whose decay ends at `at.plannedSteps`, planned to fit a
 * time budget from a measured step time. The policy is evaluated at the step count or at the
 * step the elapsed share of the budget corresponds to, whichever is further along. On a machine as fast as planned this is the policy itself; on one
 * that slows down, time pushes the decay on, so the run still ends at the policy's final rate
 * when the budget does instead of being cut off at a high one. Warmup stays counted in steps.
 *
 * @example
 * ```ts
 * const policy: LrPolicy = { kind: "cosine", lr: 0.003, decaySteps: 8000, warmupSteps: 200 };
 * const at = { plannedSteps: 8000, startStep: 200, startTime: 0, deadline: 3_600_000 };
 * budgetedLearningRate(policy, 4100, { ...at, now: 1_800_000 }); // on plan: the policy at 4100
 * budgetedLearningRate(policy, 3000, { ...at, now: 3_600_000 }); // slow: the policy's last value
 * ```
 */
export function budgetedLearningRate(policy: LrPolicy, step: number, at: BudgetProgress): number {
  if (policy.kind === "fixed" || step < (policy.warmupSteps ?? 0)) return learningRate(policy, step);
  const share = Math.min(Math.max((at.now - at.startTime) / Math.max(at.deadline - at.startTime, 1), 0), 1);
  const byTime = at.startStep + (at.plannedSteps - at.startStep) * share;
  return learningRate(policy, Math.max(step, byTime));
}
