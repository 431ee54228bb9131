/**
 * The Worker side of decode/decoder_pool.ts: one CTC beam-search decoder per Worker, over an
 * n-gram LM whose SharedArrayBuffer every Worker of the pool reads (no copy, no parsing).
 *
 * Protocol (messages are plain objects):
 * - in  `{ kind: "init", options, lmBuffer }` → out `{ kind: "ready" }`
 * - in  `{ kind: "decode", id, data, T, V, alpha, beta }` → out `{ kind: "result", id, hypotheses }`
 * - any failure → out `{ kind: "error", id, message }` (id −1 for init).
 * It holds no queue: the pool sends one utterance at a time to each Worker.
 *
 * @module
 */
import { CtcBeamSearchDecoder, type CtcBeamSearchOptions } from "./beam_search.ts";
import { NGramLM } from "./ngram_lm.ts";

/** What the pool sends to start a Worker. */
export interface BeamWorkerInit {
  /** Message tag. */
  kind: "init";
  /** Decoder options without the LM (it travels as `lmBuffer`). */
  options: Omit<CtcBeamSearchOptions, "lm">;
  /** The LM's shared buffer, or null for no LM. */
  lmBuffer: SharedArrayBuffer | null;
}

/** One utterance to decode. */
export interface BeamWorkerJob {
  /** Message tag. */
  kind: "decode";
  /** The pool's job id, echoed in the result. */
  id: number;
  /** [T, V] row-major scores. */
  data: Float32Array;
  /** Frames. */
  T: number;
  /** Labels per frame. */
  V: number;
  /** LM weight for this job. */
  alpha: number;
  /** Insertion bonus for this job. */
  beta: number;
}

let decoder: CtcBeamSearchDecoder | null = null;

/**
 * The Worker global as this file uses it, typed here instead of with a `deno.worker` lib
 * directive (which JSR rejects in a published package).
 */
interface WorkerScope {
  onmessage: ((e: MessageEvent<BeamWorkerInit | BeamWorkerJob>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}
const worker = self as unknown as WorkerScope;

worker.onmessage = (e: MessageEvent<BeamWorkerInit | BeamWorkerJob>) => {
  const msg = e.data;
  if (msg.kind === "init") {
    try {
      const lm = msg.lmBuffer === null ? null : NGramLM.fromShared(msg.lmBuffer);
      decoder = new CtcBeamSearchDecoder({ ...msg.options, lm });
      worker.postMessage({ kind: "ready" });
    } catch (err) {
      worker.postMessage({
        kind: "error",
        id: -1,
        message: `decode/beam_worker.ts: ${(err as Error).message}`,
      });
    }
    return;
  }
  try {
    if (decoder === null) throw new Error("decode/beam_worker.ts: decode before init");
    decoder.alpha = msg.alpha;
    decoder.beta = msg.beta;
    const hypotheses = decoder.decode({ data: msg.data, T: msg.T, V: msg.V });
    worker.postMessage({ kind: "result", id: msg.id, hypotheses });
  } catch (err) {
    worker.postMessage({ kind: "error", id: msg.id, message: (err as Error).message });
  }
};
