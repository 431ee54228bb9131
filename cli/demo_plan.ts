/**
 * The demo's budget arithmetic, as pure functions so small budgets can be tested without
 * running the demo: how many training utterances to synthesise and featurise so that data
 * preparation leaves most of the budget to training (`planDemoData`), how many steps the
 * measured step time allows (`planDemoSteps`), and whether a plan kept in the run folder still
 * answers the request (`isSamePlanRequest`).
 *
 * Rules: a plan never has too few steps silently: both planners throw a `DemoBudgetError` whose
 * message says the smallest `--minutes` that works. Data shrinks to the budget before that
 * (never below `minUtterances`); audio synthesised by an earlier run costs nothing again.
 *
 * Not here: running anything (scripts/demo.ts), the learning-rate schedule (models/lr_policy.ts).
 */

/** A budget too small for the request; the message names the fix. */
export class DemoBudgetError extends Error {
  /** @param message what does not fit and the --minutes that would */
  constructor(message: string) {
    super(message);
    this.name = "DemoBudgetError";
  }
}

/** Measured (or default) throughputs the data plan rests on. */
export interface DemoRates {
  /** espeak-ng synthesis, utterances a second. */
  synthUttPerS: number;
  /** Feature extraction, utterances a second. */
  featureUttPerS: number;
}

/**
 * Throughputs on the 2-core machine the demo was written on (espeak-ng with 2 jobs, log-mel
 * features of small_wide); used until the demo has measured its own.
 */
export const DEFAULT_DEMO_RATES: DemoRates = { synthUttPerS: 20, featureUttPerS: 80 };

/** What `planDemoData` needs. */
export interface DemoDataRequest {
  /** The whole budget in seconds (`--minutes` × 60). */
  budgetS: number;
  /** Seconds already spent (held-out set, baseline evaluation). */
  elapsedS: number;
  /** Seconds kept for the final evaluations and LM. */
  reserveS: number;
  /** Training utterances asked for (`--train`), the most the plan takes. */
  requestedTrain: number;
  /** Training utterances already synthesised by an earlier run (free to reuse). */
  cachedTrain: number;
  /** Throughputs. */
  rates: DemoRates;
  /** Largest share of the time left that data preparation may take; default 0.3. */
  dataShare?: number;
  /** Fewest seconds of training worth running; default 60. */
  minTrainS?: number;
  /** Fewest training utterances worth training on; default 100. */
  minUtterances?: number;
}

/** The data plan. */
export interface DemoDataPlan {
  /** Training utterances to synthesise (or reuse) and featurise. */
  nTrain: number;
  /** Of those, how many must be synthesised now. */
  nToSynthesize: number;
  /** Expected seconds of synthesis and feature extraction. */
  dataS: number;
  /** Seconds left for training once data is ready. */
  trainS: number;
}

/** Expected seconds to prepare `n` training utterances when `cached` exist already. */
export function demoDataSeconds(n: number, cached: number, rates: DemoRates): number {
  return Math.max(0, n - cached) / rates.synthUttPerS + n / rates.featureUttPerS;
}

/**
 * Picks the number of training utterances: as many as asked when they fit into `dataShare` of
 * the time left, otherwise as many as do (cached audio only costs its features).
 *
 * @example
 * ```ts
 * planDemoData({ budgetS: 600, elapsedS: 60, reserveS: 90, requestedTrain: 19000, cachedTrain: 0,
 *   rates: { synthUttPerS: 20, featureUttPerS: 80 } }).nTrain; // 2160
 * ```
 */
export function planDemoData(r: DemoDataRequest): DemoDataPlan {
  const share = r.dataShare ?? 0.3, minTrainS = r.minTrainS ?? 60, minUtts = r.minUtterances ?? 100;
  const leftS = r.budgetS - r.elapsedS - r.reserveS;
  const fewest = Math.min(minUtts, r.requestedTrain);
  const smallestS = demoDataSeconds(fewest, r.cachedTrain, r.rates) + minTrainS;
  if (leftS < smallestS) {
    const minutes = Math.ceil((r.elapsedS + r.reserveS + smallestS) / 60);
    throw new DemoBudgetError(
      `--minutes ${formatMinutes(r.budgetS)} is too short: ${Math.round(r.elapsedS)} s spent and ` +
        `${Math.round(r.reserveS)} s kept for the final evaluation leave ${
          Math.max(0, Math.round(leftS))
        } s, ` +
        `less than ${fewest} utterances and ${minTrainS} s of training need; give --minutes ${minutes} or more`,
    );
  }
  const dataBudgetS = Math.max(share * leftS, demoDataSeconds(fewest, r.cachedTrain, r.rates));
  const { synthUttPerS: s, featureUttPerS: f } = r.rates;
  // cost(n) = n/f below the cache, (n - c)/s + n/f above it: invert the piece that applies.
  const withinCache = Math.floor(dataBudgetS * f);
  const n = withinCache <= r.cachedTrain
    ? withinCache
    : Math.floor((dataBudgetS + r.cachedTrain / s) / (1 / s + 1 / f));
  const nTrain = Math.max(fewest, Math.min(r.requestedTrain, n));
  const dataS = demoDataSeconds(nTrain, r.cachedTrain, r.rates);
  return { nTrain, nToSynthesize: Math.max(0, nTrain - r.cachedTrain), dataS, trainS: leftS - dataS };
}

/** What `planDemoSteps` needs. */
export interface DemoStepRequest {
  /** Steps done so far (calibration). */
  doneSteps: number;
  /** Measured seconds a step. */
  stepS: number;
  /** Seconds left before the training deadline. */
  leftS: number;
  /** The whole budget in seconds, for the message. */
  budgetS: number;
  /** Fewest steps a plan may have; default 20. */
  minSteps?: number;
  /** Share of step time added for logging, checkpoints and evaluations; default 0.08. */
  overhead?: number;
}

/**
 * The step count the schedule ends at: the steps done plus what the time left allows. Fewer
 * than `minSteps` is a `DemoBudgetError` naming the --minutes that would give `minSteps`.
 */
export function planDemoSteps(r: DemoStepRequest): number {
  if (!(r.stepS > 0)) throw new RangeError(`planDemoSteps: step time must be > 0, got ${r.stepS}`);
  const minSteps = r.minSteps ?? 20, perStepS = r.stepS * (1 + (r.overhead ?? 0.08));
  const steps = r.doneSteps + Math.max(0, Math.floor(r.leftS / perStepS));
  if (steps < minSteps) {
    const extraS = (minSteps - steps) * perStepS;
    throw new DemoBudgetError(
      `--minutes ${formatMinutes(r.budgetS)} leaves time for ${steps} training steps of ${
        r.stepS.toFixed(2)
      } s ` +
        `(at least ${minSteps} are needed); give --minutes ${Math.ceil((r.budgetS + extraS) / 60)} or more`,
    );
  }
  return steps;
}

/** What a kept plan was made for; a plan is reused only for the same request. */
export interface DemoPlanKey {
  /** The budget. */
  minutes: number;
  /** Config name. */
  config: string;
  /** The checkpoint fine-tuned, or null from scratch. */
  init: string | null;
  /** Peak learning rate. */
  lr: number;
  /** Training utterances asked for. */
  requestedTrain: number;
}

/** A plan as the run folder keeps it (plan.json). */
export interface DemoPlan extends DemoPlanKey {
  /** Training utterances used. */
  nTrain: number;
  /** The step the schedule ends at. */
  steps: number;
  /** Warmup steps of the schedule, when the plan shortened the config's. */
  warmupSteps?: number;
}

/** Largest share of the training time the calibration steps may take. */
export const CALIBRATION_SHARE = 0.25;

/**
 * Warmup of a short run, fitted once the step count is known: about a sixth of the steps, never
 * more than the config's warmup and never ending before the calibration steps already run, so
 * that the rest of the run decays instead of ending inside the warmup at a rising rate.
 *
 * @example
 * ```ts
 * shortRunWarmup({ plannedSteps: 43, doneSteps: 11, configWarmup: 300 }); // 11
 * shortRunWarmup({ plannedSteps: 600, doneSteps: 50, configWarmup: 300 }); // 100
 * ```
 */
export function shortRunWarmup(r: { plannedSteps: number; doneSteps: number; configWarmup: number }): number {
  const sixth = Math.floor(r.plannedSteps / 6);
  return Math.min(r.configWarmup, Math.max(r.doneSteps, sixth), r.plannedSteps);
}

/** Whether `plan` (parsed from plan.json) was made for `key`. */
export function isSamePlanRequest(plan: Partial<DemoPlan> | null, key: DemoPlanKey): plan is DemoPlan {
  if (plan === null || typeof plan.steps !== "number" || typeof plan.nTrain !== "number") return false;
  return plan.minutes === key.minutes && plan.config === key.config && plan.init === key.init &&
    plan.lr === key.lr && plan.requestedTrain === key.requestedTrain;
}

function formatMinutes(budgetS: number): string {
  return String(Number((budgetS / 60).toFixed(2)));
}
