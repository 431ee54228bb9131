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
 * - `mix`: extra pools (e.g. real recordings beside synthetic speech) of which each epoch holds
 *   a stated share of its utterances, drawn afresh (without replacement within the epoch) from
 *   the same Rng right after the epoch starts, so `state()` resumes the mixed stream too.
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

/** A pool mixed into every epoch at a share of its utterances. */
export interface MixPool {
  /** The pool's utterances (transcripts normalised and checked as the main entries are). */
  entries: readonly ManifestEntry[];
  /**
   * Fraction of each epoch's utterances drawn from this pool, in (0, 1): with N main entries
   * and shares s_i (Σ s_i < 1), an epoch holds round(s_i · N / (1 − Σ s)) utterances of pool i.
   */
  share: number;
  /** Name in error messages (e.g. the manifest path). */
  name?: string;
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
  /** Pools mixed into each epoch at a share of its utterances. */
  mix?: readonly MixPool[];
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
  /** Utterances dropped by the duration filter (mix pools included). */
  readonly nDropped: number;
  // Main entries first, then each mix pool's, with their durations and encoded targets.
  #all: ManifestEntry[];
  #allDurations: Float64Array;
  #targets: Int32Array[];
  // Per mix pool: [first index into #all, count], and utterances drawn per epoch.
  #pools: { start: number; count: number; perEpoch: number }[] = [];
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
    const main = BatchLoader.#prepare(entries, options);
    if (main.entries.length === 0) {
      throw new RangeError(
        `data/loader.ts: all ${entries.length} utterances fall outside the duration limits`,
      );
    }
    this.entries = main.entries;
    this.durations = Float64Array.from(main.durations);
    this.#all = [...main.entries];
    const allDurations = [...main.durations];
    let nDropped = main.nDropped;
    const mix = options.mix ?? [];
    const totalShare = mix.reduce((s, p) => s + p.share, 0);
    if (mix.some((p) => !(p.share > 0 && p.share < 1)) || !(totalShare < 1)) {
      throw new RangeError(
        `data/loader.ts: mix shares must each lie in (0, 1) and sum below 1, got ${
          mix.map((p) => p.share).join(", ")
        }`,
      );
    }
    for (const [k, pool] of mix.entries()) {
      const name = pool.name ?? `mix pool ${k}`;
      const p = BatchLoader.#prepare(pool.entries, options);
      const perEpoch = Math.round(pool.share * main.entries.length / (1 - totalShare));
      if (perEpoch > p.entries.length) {
        throw new RangeError(
          `data/loader.ts: ${name}: a share of ${pool.share} needs ${perEpoch} utterances per epoch but it holds ${p.entries.length}`,
        );
      }
      this.#pools.push({ start: this.#all.length, count: p.entries.length, perEpoch });
      this.#all.push(...p.entries);
      allDurations.push(...p.durations);
      nDropped += p.nDropped;
    }
    this.#allDurations = Float64Array.from(allDurations);
    this.nDropped = nDropped;
    this.#targets = this.#all.map((e) => options.vocabulary.encode(e.transcript));
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

  /** Normalises and checks transcripts, reads durations and applies the duration filter. */
  static #prepare(
    entries: readonly ManifestEntry[],
    options: LoaderOptions,
  ): { entries: ManifestEntry[]; durations: number[]; nDropped: number } {
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
    return {
      entries: kept.map((i) => entries[i]),
      durations: kept.map((i) => all[i]),
      nDropped: dropped.length,
    };
  }

  /** Utterances of one epoch: the main entries plus each mix pool's share. */
  get nEpochUtterances(): number {
    return this.entries.length + this.#pools.reduce((s, p) => s + p.perEpoch, 0);
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

  /** Number of batches in one epoch (with a mix, of the first epoch's draw). */
  get nBatches(): number {
    const probe = new Rng(0);
    const indices = this.#pools.length > 0 ? this.#drawEpochIndices(new Rng(0)) : undefined;
    return planEpoch(this.#allDurations, probe, { ...this.#options, indices, shuffle: false }).length;
  }

  /**
   * The epoch's utterances (indices into the main entries and pools): every main entry, plus
   * `perEpoch` of each pool drawn without replacement (a partial Fisher-Yates shuffle).
   */
  #drawEpochIndices(rng: Rng): number[] {
    const out = Array.from({ length: this.entries.length }, (_, i) => i);
    for (const pool of this.#pools) {
      const idx = Array.from({ length: pool.count }, (_, i) => pool.start + i);
      for (let i = 0; i < pool.perEpoch; i++) {
        const j = i + rng.int(pool.count - i);
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        out.push(idx[i]);
      }
    }
    return out;
  }

  /**
   * The rest of the current epoch (all of it unless resumed mid-epoch). When the generator
   * finishes, the loader moves to the next epoch; breaking out early keeps the position.
   */
  async *epoch(): AsyncGenerator<Batch> {
    this.#rng.setState(this.#epochStart);
    const indices = this.#pools.length > 0 ? this.#drawEpochIndices(this.#rng) : undefined;
    const plan = planEpoch(this.#allDurations, this.#rng, { ...this.#options, indices });
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
      feats = await Promise.all(indices.map((i, k) => pool.run(this.#all[i].audioPath, seeds[k])));
    } else {
      feats = indices.map((i, k) =>
        extractFeatures(this.#all[i].audioPath, seeds[k], this.#setup, this.#cache)
      );
    }
    const items: UtteranceFeatures[] = indices.map((i, k) => ({
      features: feats[k].data,
      nFeatures: feats[k].nFeatures,
      nFrames: feats[k].nFrames,
      targets: this.#targets[i],
      transcript: this.#all[i].transcript,
      path: this.#all[i].audioPath,
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
