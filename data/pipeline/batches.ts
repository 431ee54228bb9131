/**
 * Batch planning and padding: which utterances go together and how they are laid out.
 * - `planEpoch` groups utterance indices into batches: optionally bucketed by duration (equal-count
 *   buckets over the sorted durations, so a batch holds utterances of similar length and little
 *   padding), shuffled with a seeded Rng inside buckets and across batches.
 * - `filterByDuration` drops utterances outside [minDurationS, maxDurationS] (OpenSeq2Seq's
 *   `max_duration`), reporting what it dropped.
 * - `padBatch` stacks per-utterance [F, T] features into one zero-padded [B, F, Tmax] array, with
 *   Tmax rounded up to a multiple of `padTo` (OpenSeq2Seq's `pad_to`), and concatenates targets.
 *
 * This file does no I/O and no feature extraction (see data/loader.ts).
 */
import type { Rng } from "./rng.ts";

/**
 * One padded batch, the contract between the data pipeline and the models.
 * - `features`: Float32Array [B, F, Tmax] row-major, zero beyond each utterance's length.
 * - `featureLengths`: Int32Array [B], frames per utterance before padding.
 * - `targets`: Int32Array, every utterance's class indices concatenated in batch order
 *   (blank never appears), `targetLengths`: Int32Array [B].
 * - `transcripts`, `paths`: the text and audio path of each row.
 * - `nFeatures` = F, `maxFrames` = Tmax (a multiple of padTo, >= max(featureLengths)).
 */
export interface Batch {
  /** [B, F, Tmax] row-major; zero beyond each utterance's featureLengths[b] frames. */
  features: Float32Array;
  /** [B]: frames of each utterance before padding. */
  featureLengths: Int32Array;
  /** Class indices of every utterance, concatenated in batch order (no blanks). */
  targets: Int32Array;
  /** [B]: number of target indices of each utterance. */
  targetLengths: Int32Array;
  /** [B]: reference text of each utterance. */
  transcripts: string[];
  /** [B]: audio path of each utterance. */
  paths: string[];
  /** F: features per frame. */
  nFeatures: number;
  /** Tmax: padded frame count, a multiple of padTo and >= max(featureLengths). */
  maxFrames: number;
}

/** One utterance's features and targets, before padding. */
export interface UtteranceFeatures {
  /** [nFeatures, nFrames] row-major. */
  features: Float32Array;
  /** Rows: features per frame. */
  nFeatures: number;
  /** Columns: frames. */
  nFrames: number;
  /** Class indices of the transcript. */
  targets: Int32Array;
  /** Reference text. */
  transcript: string;
  /** Audio path. */
  path: string;
}

/** How an epoch is cut into batches. */
export interface EpochPlanOptions {
  /** Utterances per batch. */
  batchSize: number;
  /** Equal-count duration buckets; 1 (default) means no bucketing. */
  nBuckets?: number;
  /**
   * Shuffle within buckets and the order of batches. Default true. Without shuffling, batches
   * follow manifest order (one bucket) or ascending duration (several buckets).
   */
  shuffle?: boolean;
  /** Drop each bucket's last, smaller batch. Default false. */
  dropLast?: boolean;
}

/**
 * Cuts `durations.length` utterances (or the subset `indices`) into batches of indices.
 * Draws from `rng` only when shuffling, so the plan is a function of the rng state.
 *
 * @example
 * ```ts
 * const batches = planEpoch([1.2, 3.4, 0.5, 2.2], new Rng(0), { batchSize: 2, nBuckets: 2 });
 * // e.g. [[1, 3], [2, 0]]: the two long ones together, the two short ones together
 * ```
 */
export function planEpoch(
  durations: ArrayLike<number>,
  rng: Rng,
  options: EpochPlanOptions & { indices?: readonly number[] },
): number[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`data/batches.ts: batchSize must be a positive integer, got ${batchSize}`);
  }
  const nBuckets = options.nBuckets ?? 1;
  if (!Number.isInteger(nBuckets) || nBuckets < 1) {
    throw new RangeError(`data/batches.ts: nBuckets must be a positive integer, got ${nBuckets}`);
  }
  const shuffle = options.shuffle ?? true;
  const all = options.indices ? [...options.indices] : Array.from({ length: durations.length }, (_, i) => i);
  let buckets: number[][];
  if (nBuckets === 1) buckets = [all];
  else {
    const sorted = all.sort((a, b) => durations[a] - durations[b] || a - b);
    buckets = [];
    for (let b = 0; b < nBuckets; b++) {
      const lo = Math.floor((b * sorted.length) / nBuckets);
      const hi = Math.floor(((b + 1) * sorted.length) / nBuckets);
      if (hi > lo) buckets.push(sorted.slice(lo, hi));
    }
  }
  const batches: number[][] = [];
  for (const bucket of buckets) {
    if (shuffle) rng.shuffle(bucket);
    for (let i = 0; i < bucket.length; i += batchSize) {
      const batch = bucket.slice(i, i + batchSize);
      if (batch.length < batchSize && options.dropLast) continue;
      batches.push(batch);
    }
  }
  if (shuffle) rng.shuffle(batches);
  return batches;
}

/**
 * Indices of utterances whose duration lies in [minDurationS, maxDurationS], and those dropped.
 *
 * @example
 * ```ts
 * const { kept, dropped } = filterByDuration([1, 20, 3], { maxDurationS: 16.7 }); // kept [0, 2]
 * ```
 */
export function filterByDuration(
  durations: ArrayLike<number>,
  options: { maxDurationS?: number; minDurationS?: number },
): { kept: number[]; dropped: number[] } {
  const max = options.maxDurationS ?? Infinity;
  const min = options.minDurationS ?? 0;
  const kept: number[] = [];
  const dropped: number[] = [];
  for (let i = 0; i < durations.length; i++) {
    (durations[i] >= min && durations[i] <= max ? kept : dropped).push(i);
  }
  return { kept, dropped };
}

/**
 * Pads utterances into one batch; Tmax is the longest length rounded up to a multiple of `padTo`.
 *
 * @example
 * ```ts
 * const batch = padBatch(items, { padTo: 8 }); // batch.maxFrames % 8 === 0
 * ```
 */
export function padBatch(items: readonly UtteranceFeatures[], options: { padTo?: number } = {}): Batch {
  if (items.length === 0) throw new RangeError("data/batches.ts: padBatch() of no utterances");
  const padTo = options.padTo ?? 1;
  if (!Number.isInteger(padTo) || padTo < 1) {
    throw new RangeError(`data/batches.ts: padTo must be >= 1, got ${padTo}`);
  }
  const F = items[0].nFeatures;
  let longest = 0;
  let nTargets = 0;
  for (const it of items) {
    if (it.nFeatures !== F) {
      throw new RangeError(`data/batches.ts: ${it.path} has ${it.nFeatures} features, the batch has ${F}`);
    }
    if (it.features.length !== it.nFeatures * it.nFrames) {
      throw new RangeError(
        `data/batches.ts: ${it.path}: features hold ${it.features.length} values, not ${F} x ${it.nFrames}`,
      );
    }
    longest = Math.max(longest, it.nFrames);
    nTargets += it.targets.length;
  }
  const T = Math.max(padTo, Math.ceil(longest / padTo) * padTo);
  const B = items.length;
  const features = new Float32Array(B * F * T);
  const featureLengths = new Int32Array(B);
  const targets = new Int32Array(nTargets);
  const targetLengths = new Int32Array(B);
  let tOff = 0;
  for (let b = 0; b < B; b++) {
    const it = items[b];
    const n = it.nFrames;
    const src = it.features;
    const base = b * F * T;
    for (let f = 0; f < F; f++) features.set(src.subarray(f * n, f * n + n), base + f * T);
    featureLengths[b] = n;
    targets.set(it.targets, tOff);
    tOff += it.targets.length;
    targetLengths[b] = it.targets.length;
  }
  return {
    features,
    featureLengths,
    targets,
    targetLengths,
    transcripts: items.map((it) => it.transcript),
    paths: items.map((it) => it.path),
    nFeatures: F,
    maxFrames: T,
  };
}
