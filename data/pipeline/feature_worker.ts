/**
 * Worker entry point for feature extraction (started by data/loader.ts with
 * `new Worker(new URL("./feature_worker.ts", import.meta.url), { type: "module" })`).
 *
 * Protocol (plain structured-clone messages):
 * - in  `{ type: "setup", setup: ExtractSetup, cacheDir?: string, cacheKey?: string }` once;
 * - in  `{ type: "job", id, path, seed }` per utterance;
 * - out `{ id, data, nFeatures, nFrames, cacheHit }` with `data` transferred, or `{ id, error }`.
 * Jobs are answered in the order received. The Worker keeps no state between jobs besides the
 * setup and the cache handle, so results do not depend on which Worker ran a job.
 */
import { extractFeatures, type ExtractSetup } from "./extract.ts";
import { FeatureCache } from "./feature_cache.ts";

/** Messages the Worker accepts. */
export type FeatureWorkerRequest =
  | { type: "setup"; setup: ExtractSetup; cacheDir?: string; cacheKey?: string }
  | { type: "job"; id: number; path: string; seed: number };

/** Messages the Worker sends back. */
export type FeatureWorkerResponse =
  | { id: number; data: Float32Array; nFeatures: number; nFrames: number; cacheHit: boolean }
  | { id: number; error: string };

let setup: ExtractSetup | null = null;
let cache: FeatureCache | null = null;

/**
 * The Worker global as this file uses it, typed here instead of with a `deno.worker` lib
 * directive (which JSR rejects in a published package).
 */
interface WorkerScope {
  onmessage: ((e: MessageEvent<FeatureWorkerRequest>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}
const worker = self as unknown as WorkerScope;

worker.onmessage = (e: MessageEvent<FeatureWorkerRequest>): void => {
  const msg = e.data;
  if (msg.type === "setup") {
    setup = msg.setup;
    cache = msg.cacheDir !== undefined && msg.cacheKey !== undefined
      ? new FeatureCache(msg.cacheDir, msg.cacheKey)
      : null;
    return;
  }
  if (setup === null) {
    worker.postMessage({ id: msg.id, error: "data/feature_worker.ts: job received before setup" });
    return;
  }
  try {
    const r = extractFeatures(msg.path, msg.seed, setup, cache);
    const out: FeatureWorkerResponse = { id: msg.id, ...r };
    worker.postMessage(out, [r.data.buffer as ArrayBuffer]);
  } catch (err) {
    worker.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
};
