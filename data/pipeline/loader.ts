/**
 * The training/evaluation data loader: manifest entries in, padded batches (data/batches.ts `Batch`)
 * out, one epoch at a time, with feature extraction in Deno Workers ahead of the consumer.
 *
 * - Setup: transcripts are checked against the vocabulary (an error lists every bad row) and
 *   encoded; durations come from the manifest or the audio header; utterances outside
 *   [minDurationS, maxDurationS] are dropped (and counted in `nDropped`).
 * - Each epoch: the plan (duration buckets, seeded shuffles) and one augmentation seed per
 *   utterance are drawn from the loader's Rng, whose state at the epoch's start is saved. So
 *   `state()` = { epoch, position (batches consumed), rngState } restores the exact stream:
 *   `new BatchLoader(entries, { ...options, resume: state })` yields the same next batches.
 * - Extraction: `nWorkers: 0` runs data/extract.ts in-process; `nWorkers >= 1` sends jobs to a
 *   Worker pool, at most `prefetchBatches` batches in flight; results are reassembled in plan
 *   order, so batches are identical to the in-process ones whatever the Worker count or timing.
 * - `cacheDir` enables the on-disk feature cache (skipped when the waveform is augmented).
 *
 * Not handled: sharding across processes/machines, reading audio over the network.
 */
import { readAudioHeader } from "../audio/audio_duration.ts";
import {
  type Batch,
  type EpochPlanOptions,
  filterByDuration,
  padBatch,
  planEpoch,
  type UtteranceFeatures,
} from "./batches.ts";
import type { FeatureConfig } from "../features/compute_features.ts";
import { type AugmentConfig, type ExtractedFeatures, extractFeatures, type ExtractSetup } from "./extract.ts";
import { FeatureCache, hashConfig } from "./feature_cache.ts";
import type { FeatureWorkerRequest, FeatureWorkerResponse } from "./feature_worker.ts";
import type { ManifestEntry } from "./manifest.ts";
import { Rng, type RngState } from "./rng.ts";
import {
  checkTranscripts,
  normalizeTranscript,
  type TranscriptNormalizeOptions,
  type Vocabulary,
} from "./vocabulary.ts";

/** Where a loader is in its stream; JSON-safe, store it in checkpoints. */
export interface LoaderState {
  /** Epochs completed. */
  epoch: number;
  /** Batches of the current epoch already handed out. */
  position: number;
  /** Rng state at the start of the current epoch (before its plan was drawn). */
  rngState: RngState;
}

/** Options of {@link BatchLoader}. */
export interface LoaderOptions extends EpochPlanOptions {
  /** Feature configuration for computeFeatures. */
  features: FeatureConfig;
  /** Vocabulary that encodes the transcripts. */
  vocabulary: Vocabulary;
  /**
   * Normalise transcripts (lower-case, strip accents, drop/replace unknown characters, collapse
   * spaces) before checking them; without it any character outside the vocabulary is an error.
   */
  normalizeTranscripts?: TranscriptNormalizeOptions;
  /** Pad each batch's frame count to a multiple of this (OpenSeq2Seq `pad_to`). Default 8. */
  padTo?: number;
  /** Seed of plans and augmentation. Default 0. */
  seed?: number;
  /** Drop longer utterances (seconds). */
  maxDurationS?: number;
  /** Drop shorter utterances (seconds). */
  minDurationS?: number;
  /** Augmentation (training only). */
  augment?: AugmentConfig;
  /** Feature Workers; 0 extracts in-process. Default 0. */
  nWorkers?: number;
  /** Batches extracted ahead of the consumer when using Workers. Default 2 x nWorkers. */
  prefetchBatches?: number;
  /** Folder of the on-disk feature cache; none by default. */
  cacheDir?: string;
  /** Continue from a saved state. */
  resume?: LoaderState;
}

interface PendingJob {
  resolve: (r: ExtractedFeatures) => void;
  reject: (e: Error) => void;
}

/** A pool of feature Workers with one request queue each. */
class WorkerPool {
  #workers: Worker[] = [];
  #pending: Map<number, PendingJob>[] = [];
  #nextId = 0;
  #failure: Error | null = null;

  constructor(n: number, setup: ExtractSetup, cacheDir?: string, cacheKey?: string) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL("./feature_worker.ts", import.meta.url), { type: "module" });
      const pending = new Map<number, PendingJob>();
      w.onmessage = (e: MessageEvent<FeatureWorkerResponse>) => {
        const r = e.data;
        const job = pending.get(r.id);
        if (job === undefined) return;
        pending.delete(r.id);
        if ("error" in r) job.reject(new Error(r.error));
        else job.resolve({ data: r.data, nFeatures: r.nFeatures, nFrames: r.nFrames, cacheHit: r.cacheHit });
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#failure = new Error(`data/feature_worker.ts crashed: ${e.message}`);
        for (const job of pending.values()) job.reject(this.#failure);
        pending.clear();
      };
      const msg: FeatureWorkerRequest = { type: "setup", setup, cacheDir, cacheKey };
      w.postMessage(msg);
      this.#workers.push(w);
      this.#pending.push(pending);
    }
  }

  /** Sends a job to the Worker with the fewest jobs queued. */
  run(path: string, seed: number): Promise<ExtractedFeatures> {
    if (this.#failure) return Promise.reject(this.#failure);
    let best = 0;
    for (let i = 1; i < this.#workers.length; i++) {
      if (this.#pending[i].size < this.#pending[best].size) best = i;
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending[best].set(id, { resolve, reject });
      const msg: FeatureWorkerRequest = { type: "job", id, path, seed };
      this.#workers[best].postMessage(msg);
    });
  }

  terminate(): void {
    for (const w of this.#workers) w.terminate();
    for (const p of this.#pending) {
      for (const job of p.values()) job.reject(new Error("data/loader.ts: loader closed"));
      p.clear();
    }
    this.#workers = [];
  }
}

/**
 * Batches over epochs from a manifest.
 *
 * @example
 * ```ts
 * const loader = new BatchLoader(readManifest("train.csv"), {
 *   features: { inputType: "logfbank", numFeatures: 64 }, vocabulary: Vocabulary.english(),
 *   batchSize: 16, nBuckets: 4, nWorkers: 2, seed: 1,
 * });
 * for (let e = 0; e < 10; e++) {
 *   for await (const batch of loader) train(batch); // one epoch; batch.features: [B, 64, Tmax]
 *   saveCheckpoint({ loader: loader.state() });
 * }
 * loader.close();
 * ```
 */
export class BatchLoader {
  /** Entries kept after the duration filter. */
  readonly entries: readonly ManifestEntry[];
  /** Their durations in seconds. */
  readonly durations: Float64Array;
  /** Utterances dropped by the duration filter. */
  readonly nDropped: number;
  #targets: Int32Array[];
  #options: LoaderOptions;
  #setup: ExtractSetup;
  #rng: Rng;
  #epoch: number;
  #position: number;
  #epochStart: RngState;
  #pool: WorkerPool | null = null;
  #cache: FeatureCache | null = null;
  #cacheKey: string | undefined;

  /**
   * Checks and encodes the transcripts, reads missing durations from the audio headers and
   * applies the duration filter; Workers start on the first epoch() call.
   */
  constructor(entries: readonly ManifestEntry[], options: LoaderOptions) {
    const norm = options.normalizeTranscripts;
    if (norm !== undefined) {
      entries = entries.map((e) => ({
        ...e,
        transcript: normalizeTranscript(e.transcript, options.vocabulary, norm),
      }));
    }
    checkTranscripts(entries, options.vocabulary);
    const all = entries.map((e) => e.durationS ?? readAudioHeader(e.audioPath).durationS);
    const { kept, dropped } = filterByDuration(all, options);
    if (kept.length === 0) {
      throw new RangeError(
        `data/loader.ts: all ${entries.length} utterances fall outside the duration limits`,
      );
    }
    this.entries = kept.map((i) => entries[i]);
    this.durations = Float64Array.from(kept, (i) => all[i]);
    this.nDropped = dropped.length;
    this.#targets = this.entries.map((e) => options.vocabulary.encode(e.transcript));
    this.#options = options;
    this.#setup = { features: options.features, augment: options.augment };
    this.#rng = new Rng(options.seed ?? 0);
    this.#epoch = 0;
    this.#position = 0;
    if (options.resume) {
      this.#rng.setState(options.resume.rngState);
      this.#epoch = options.resume.epoch;
      this.#position = options.resume.position;
    }
    this.#epochStart = this.#rng.state();
    if (options.cacheDir !== undefined) {
      this.#cacheKey = hashConfig(options.features);
      this.#cache = new FeatureCache(options.cacheDir, this.#cacheKey);
    }
  }

  /** Where the loader stands: pass it back as `resume` to continue exactly here. */
  state(): LoaderState {
    return { epoch: this.#epoch, position: this.#position, rngState: [...this.#epochStart] as RngState };
  }

  /** Cache statistics of in-process extraction (Workers keep their own counters). */
  cacheStats(): { hits: number; misses: number; corrupt: number } | null {
    return this.#cache &&
      { hits: this.#cache.hits, misses: this.#cache.misses, corrupt: this.#cache.corrupt };
  }

  /** Number of batches in one epoch. */
  get nBatches(): number {
    const probe = new Rng(0);
    return planEpoch(this.durations, probe, { ...this.#options, shuffle: false }).length;
  }

  /**
   * The rest of the current epoch (all of it unless resumed mid-epoch). When the generator
   * finishes, the loader moves to the next epoch; breaking out early keeps the position.
   */
  async *epoch(): AsyncGenerator<Batch> {
    this.#rng.setState(this.#epochStart);
    const plan = planEpoch(this.durations, this.#rng, this.#options);
    const seeds = plan.map((b) => b.map(() => this.#rng.nextUint32()));
    const nWorkers = this.#options.nWorkers ?? 0;
    if (nWorkers > 0 && this.#pool === null) {
      this.#pool = new WorkerPool(nWorkers, this.#setup, this.#options.cacheDir, this.#cacheKey);
    }
    const ahead = Math.max(1, this.#options.prefetchBatches ?? 2 * nWorkers);
    const inFlight: Promise<Batch>[] = [];
    let next = this.#position;
    const launch = (): void => {
      const b = next++;
      const p = this.#assemble(plan[b], seeds[b]);
      p.catch(() => {}); // observed when awaited; avoids an unhandled rejection if abandoned
      inFlight.push(p);
    };
    while (this.#position < plan.length) {
      if (this.#pool !== null) {
        while (next < plan.length && inFlight.length < ahead) launch();
      } else if (inFlight.length === 0) launch();
      const batch = await inFlight.shift()!;
      this.#position++;
      yield batch;
    }
    this.#epoch++;
    this.#position = 0;
    this.#epochStart = this.#rng.state();
  }

  async #assemble(indices: number[], seeds: number[]): Promise<Batch> {
    let feats: ExtractedFeatures[];
    if (this.#pool !== null) {
      const pool = this.#pool;
      feats = await Promise.all(indices.map((i, k) => pool.run(this.entries[i].audioPath, seeds[k])));
    } else {
      feats = indices.map((i, k) =>
        extractFeatures(this.entries[i].audioPath, seeds[k], this.#setup, this.#cache)
      );
    }
    const items: UtteranceFeatures[] = indices.map((i, k) => ({
      features: feats[k].data,
      nFeatures: feats[k].nFeatures,
      nFrames: feats[k].nFrames,
      targets: this.#targets[i],
      transcript: this.entries[i].transcript,
      path: this.entries[i].audioPath,
    }));
    return padBatch(items, { padTo: this.#options.padTo ?? 8 });
  }

  /** `for await (const batch of loader)` walks the rest of the current epoch, as epoch() does. */
  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.epoch();
  }

  /** Stops the Workers. The loader can start them again on the next epoch() call. */
  close(): void {
    this.#pool?.terminate();
    this.#pool = null;
  }

  /** Same as close(), for `using loader = new BatchLoader(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
