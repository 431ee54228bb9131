/**
 * A one-line training progress bar with ETA for a terminal:
 *
 *   [#########...........]  450/1000  45%  loss 12.31  3.1 step/s  ETA 2:57
 *
 * The trainer draws it only when stderr is a terminal; logs and pipes get the JSON lines
 * alone. The ETA comes from the rate since the bar was created (so a resumed run does not
 * count the steps it skipped). Not here: multi-line displays, colours, terminal width probing.
 */

/** What one frame of the bar shows. */
export interface ProgressState {
  /** Steps done (the next step's index). */
  step: number;
  total: number;
  /** Steps done by this process, and the seconds they took (for the rate and ETA). */
  stepsThisRun: number;
  elapsedS: number;
  /** Last training loss, shown when given. */
  loss?: number;
  /** Characters inside the brackets (default 24). */
  width?: number;
}

/** h:mm:ss, or m:ss under an hour. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

/**
 * The text of one bar frame (no carriage return).
 *
 * @example
 * ```ts
 * formatProgress({ step: 50, total: 200, stepsThisRun: 50, elapsedS: 10, width: 8 });
 * // "[##......]   50/200   25%  5.0 step/s  ETA 0:30"
 * ```
 */
export function formatProgress(p: ProgressState): string {
  const width = p.width ?? 24;
  const frac = p.total > 0 ? Math.min(Math.max(p.step / p.total, 0), 1) : 1;
  const filled = Math.floor(frac * width);
  const digits = String(p.total).length;
  const rate = p.elapsedS > 0 ? p.stepsThisRun / p.elapsedS : 0;
  const eta = rate > 0 ? formatDuration((p.total - p.step) / rate) : "?";
  const parts = [
    `[${"#".repeat(filled)}${".".repeat(width - filled)}]`,
    `${String(p.step).padStart(digits)}/${p.total}`,
    `${Math.floor(frac * 100).toString().padStart(3)}%`,
  ];
  if (p.loss !== undefined) {
    parts.push(`loss ${Number.isFinite(p.loss) ? p.loss.toFixed(2) : String(p.loss)}`);
  }
  parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} step/s`, `ETA ${eta}`);
  return parts.join("  ");
}

/** Options of `ProgressBar`. */
export interface ProgressBarOptions {
  /** Steps already done when the bar starts (a resumed run). */
  startStep?: number;
  /** Where frames go (default: stderr). */
  write?: (text: string) => void;
  /** Clock in milliseconds (default performance.now), replaceable in tests. */
  now?: () => number;
  width?: number;
}

const encoder = new TextEncoder();

/** A progress bar redrawn in place with `\r`; `clear()` before printing other lines. */
export class ProgressBar {
  readonly total: number;
  readonly #start: number;
  readonly #startStep: number;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #width: number;
  #shown = false;

  constructor(total: number, options: ProgressBarOptions = {}) {
    this.total = total;
    this.#startStep = options.startStep ?? 0;
    this.#write = options.write ?? ((s) => Deno.stderr.writeSync(encoder.encode(s)));
    this.#now = options.now ?? (() => performance.now());
    this.#width = options.width ?? 24;
    this.#start = this.#now();
  }

  /** Redraws the bar at `step` steps done. */
  update(step: number, info: { loss?: number } = {}): void {
    const text = formatProgress({
      step,
      total: this.total,
      stepsThisRun: step - this.#startStep,
      elapsedS: (this.#now() - this.#start) / 1000,
      loss: info.loss,
      width: this.#width,
    });
    this.#write(`\r${text}\x1b[K`);
    this.#shown = true;
  }

  /** Erases the bar so that another line can be printed; the next `update` draws it again. */
  clear(): void {
    if (this.#shown) this.#write("\r\x1b[K");
    this.#shown = false;
  }

  /** Ends the bar's line (the last frame stays visible). */
  done(): void {
    if (this.#shown) this.#write("\n");
    this.#shown = false;
  }
}
