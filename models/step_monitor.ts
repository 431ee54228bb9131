/**
 * StepMonitor: what the trainer knows about its steps between two log records, kept on the
 * device so that unlogged steps read nothing back. Each step adds its `isFinite` flag to three
 * device scalars: the non-finite steps since the last read, the current run of non-finite
 * steps in a row, and the longest such run since the last read. `read()` fetches them with the
 * logged step's loss and gradient norm in one go.
 *
 * The longest run is what `maxNonFiniteSteps` is checked against, so a run that reached the
 * limit and then recovered between two reads is still caught at the read; the check itself
 * happens only at reads (log records and checkpoints), not at every step.
 *
 * Not here: writing the log (models/trainer.ts).
 */
import { add, assign, keep, maximum, mul, noGrad, scalar, sub, type Tensor } from "../ops/mod.ts";
import type { TrainStepResult } from "./train_step.ts";

/** The host's view of the steps since the previous read, taken at a logged step. */
export interface StepReading {
  /** Loss of the step read. */
  loss: number;
  /** Gradient norm of the step read. */
  gradNorm: number;
  /** Whether the step read was finite (its update was made). */
  isFinite: boolean;
  /** Non-finite (skipped) steps since the previous read, this one included. */
  skippedSinceLastRead: number;
  /** Longest run of non-finite steps in a row that ended or continued since the previous read. */
  longestNonFiniteRun: number;
}

/** Device counters of skipped steps between reads (see the file's comment). */
export class StepMonitor implements Disposable {
  readonly #skipped: Tensor;
  readonly #run: Tensor;
  readonly #longestRun: Tensor;

  /** Counters on backend `backendName`, all zero. */
  constructor(backendName: string) {
    const zero = () => keep(scalar(0, { backend: backendName }));
    this.#skipped = zero();
    this.#run = zero();
    this.#longestRun = zero();
  }

  /** Adds one step's flag to the counters, on the device. */
  record(step: TrainStepResult): void {
    noGrad(() => {
      const bad = sub(1, step.isFinite);
      assign(this.#skipped, add(this.#skipped, bad));
      // (run + 1)·bad: one longer after a bad step, back to 0 after a good one.
      assign(this.#run, mul(add(this.#run, 1), bad));
      assign(this.#longestRun, maximum(this.#longestRun, this.#run));
    });
  }

  /**
   * Reads `step` (the last recorded) and the counters together, then starts the next window:
   * the skipped count restarts at 0 and the longest run at the current run.
   */
  async read(step: TrainStepResult): Promise<StepReading> {
    const [loss, gradNorm, isFinite, skipped, longest] = await Promise.all(
      [step.loss, step.gradNorm, step.isFinite, this.#skipped, this.#longestRun].map((t) => t.item()),
    );
    noGrad(() => {
      assign(this.#skipped, mul(this.#skipped, 0));
      assign(this.#longestRun, mul(this.#run, 1));
    });
    return {
      loss,
      gradNorm,
      isFinite: isFinite !== 0,
      skippedSinceLastRead: skipped,
      longestNonFiniteRun: longest,
    };
  }

  /** The longest run of non-finite steps since the last read, read alone (at checkpoints). */
  longestRun(): Promise<number> {
    return this.#longestRun.item();
  }

  /** Releases the counters. */
  [Symbol.dispose](): void {
    this.#skipped.dispose();
    this.#run.dispose();
    this.#longestRun.dispose();
  }
}
