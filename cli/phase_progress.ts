/**
 * Progress of a long phase (synthesis, feature extraction) as occasional stderr lines with
 * an ETA, for logs and terminals alike:
 *
 *   [demo] synthesising training audio: 1200/2160 (55%), 1:02 so far, ETA 0:50
 *
 * Lines, not a redrawn bar, so that a piped log keeps them; at most one every `everyS`
 * seconds, plus the last. Not here: the trainer's step bar (models/progress.ts).
 */
import { formatDuration } from "../models/progress.ts";

/** Options of `phaseProgress`. */
export interface PhaseProgressOptions {
  /** Seconds between lines; default 10. */
  everyS?: number;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
  /** Clock in milliseconds; default performance.now. */
  now?: () => number;
}

/**
 * A `(done, total)` callback that reports `label`'s progress with an ETA from the rate so far.
 *
 * @example
 * ```ts
 * const onProgress = phaseProgress("[demo] synthesising");
 * await synthesizeCorpus(sentences, { outDir, onProgress });
 * ```
 */
export function phaseProgress(
  label: string,
  options: PhaseProgressOptions = {},
): (done: number, total: number) => void {
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? ((line: string) => console.error(line));
  const everyMs = (options.everyS ?? 10) * 1000;
  const start = now();
  let last = start;
  return (done, total) => {
    const t = now();
    if (done < total && t - last < everyMs) return;
    last = t;
    const elapsedS = (t - start) / 1000;
    const etaS = done > 0 ? (elapsedS / done) * (total - done) : NaN;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const eta = done < total ? `, ETA ${formatDuration(etaS)}` : "";
    write(`${label}: ${done}/${total} (${pct}%), ${formatDuration(elapsedS)} so far${eta}`);
  };
}
