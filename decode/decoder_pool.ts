/**
 * Batch CTC beam-search decoding on a pool of Workers, one per core by default
 * (`navigator.hardwareConcurrency`), like Baidu's `ctc_beam_search_decoder_batch` thread pool.
 * The n-gram LM lives once in a SharedArrayBuffer that every Worker reads.
 *
 * Contract: results come back in input order and are exactly the serial decoder's results
 * (each utterance is decoded by one deterministic decoder; scheduling only changes which
 * Worker runs it). Utterances are handed out one at a time to whichever Worker is free, so
 * long and short utterances balance. `workers: 0` decodes in the calling thread.
 *
 * Not done: cancelling a batch midway, sharing the lexicon trie (each Worker builds its own).
 *
 * @module
 */
import { CtcBeamSearchDecoder, type CtcBeamSearchOptions, type CtcHypothesis } from "./beam_search.ts";
import type { CtcLogits } from "./ctc_logits.ts";
import type { NGramLM } from "./ngram_lm.ts";

/** Options of `DecoderPool.create`. */
export interface DecoderPoolOptions extends Omit<CtcBeamSearchOptions, "lm"> {
  /** The LM, shared with the Workers through its SharedArrayBuffer; null for none. */
  lm?: NGramLM | null;
  /** Number of Workers; default navigator.hardwareConcurrency; 0 decodes in this thread. */
  workers?: number;
}

/** Options of one batch. */
export interface DecodeBatchOptions {
  /** LM weight for this batch; default the pool's alpha. */
  alpha?: number;
  /** Insertion bonus for this batch; default the pool's beta. */
  beta?: number;
  /** Called after each utterance with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

interface Pending {
  resolve: (h: CtcHypothesis[]) => void;
  reject: (e: Error) => void;
}

/**
 * A pool of beam-search Workers.
 *
 * @example
 * ```ts
 * import { DecoderPool } from "./decoder_pool.ts";
 * const pool = await DecoderPool.create({ vocabulary: ["a", "b"], beamWidth: 16, workers: 2 });
 * const [nbest] = await pool.decodeBatch([{ data: new Float32Array([4, 0, 0]), T: 1, V: 3 }]);
 * nbest[0].text; // "a"
 * pool.close();
 * ```
 */
export class DecoderPool {
  readonly #workers: Worker[];
  readonly #local: CtcBeamSearchDecoder | null;
  readonly #alpha: number;
  readonly #beta: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  private constructor(workers: Worker[], local: CtcBeamSearchDecoder | null, alpha: number, beta: number) {
    this.#workers = workers;
    this.#local = local;
    this.#alpha = alpha;
    this.#beta = beta;
    for (const w of workers) {
      w.onmessage = (e: MessageEvent) => this.#onMessage(e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#failAll(new Error(`decode/beam_worker.ts: ${e.message}`));
      };
    }
  }

  /** Starts the Workers and waits until each has built its decoder. */
  static async create(options: DecoderPoolOptions): Promise<DecoderPool> {
    const { lm = null, workers: wanted, ...rest } = options;
    const n = wanted ?? navigator.hardwareConcurrency ?? 1;
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`decode/decoder_pool.ts: workers must be a non-negative integer, got ${wanted}`);
    }
    const alpha = rest.alpha ?? 0;
    const beta = rest.beta ?? 0;
    if (n === 0) return new DecoderPool([], new CtcBeamSearchDecoder({ ...rest, lm }), alpha, beta);
    const url = new URL("./beam_worker.ts", import.meta.url).href;
    const workers: Worker[] = [];
    try {
      await Promise.all(Array.from({ length: n }, () => {
        const w = new Worker(url, { type: "module" });
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.onmessage = (e: MessageEvent) => {
            if (e.data.kind === "ready") resolve();
            else reject(new Error(e.data.message));
          };
          w.onerror = (e: ErrorEvent) => {
            e.preventDefault();
            reject(new Error(`decode/beam_worker.ts: ${e.message}`));
          };
          w.postMessage({ kind: "init", options: rest, lmBuffer: lm === null ? null : lm.buffer });
        });
      }));
    } catch (err) {
      for (const w of workers) w.terminate();
      throw err;
    }
    return new DecoderPool(workers, null, alpha, beta);
  }

  /** Number of Workers (0 when decoding in this thread). */
  get size(): number {
    return this.#workers.length;
  }

  #onMessage(msg: { kind: string; id: number; hypotheses?: CtcHypothesis[]; message?: string }): void {
    const p = this.#pending.get(msg.id);
    if (p === undefined) return;
    this.#pending.delete(msg.id);
    if (msg.kind === "result") p.resolve(msg.hypotheses!);
    else p.reject(new Error(msg.message));
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #run(w: Worker, u: CtcLogits, alpha: number, beta: number): Promise<CtcHypothesis[]> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.postMessage({ kind: "decode", id, data: u.data, T: u.T, V: u.V, alpha, beta });
    });
  }

  /** Decodes utterances; the result holds one n-best list per utterance, in input order. */
  async decodeBatch(
    utterances: readonly CtcLogits[],
    options: DecodeBatchOptions = {},
  ): Promise<CtcHypothesis[][]> {
    if (this.#closed) throw new Error("decode/decoder_pool.ts: the pool is closed");
    const alpha = options.alpha ?? this.#alpha;
    const beta = options.beta ?? this.#beta;
    const total = utterances.length;
    const out: CtcHypothesis[][] = new Array(total);
    let done = 0;
    if (this.#local !== null) {
      this.#local.alpha = alpha;
      this.#local.beta = beta;
      for (let i = 0; i < total; i++) {
        out[i] = this.#local.decode(utterances[i]);
        options.onProgress?.(++done, total);
      }
      return out;
    }
    let next = 0;
    const loop = async (w: Worker): Promise<void> => {
      while (next < total) {
        const i = next++;
        out[i] = await this.#run(w, utterances[i], alpha, beta);
        options.onProgress?.(++done, total);
      }
    };
    await Promise.all(this.#workers.map(loop));
    return out;
  }

  /** Stops the Workers. */
  close(): void {
    this.#closed = true;
    this.#failAll(new Error("decode/decoder_pool.ts: the pool was closed"));
    for (const w of this.#workers) w.terminate();
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
