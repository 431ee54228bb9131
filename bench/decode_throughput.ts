/**
 * Beam-search decoding throughput, in seconds of audio per CPU-second, at beam 128 with a
 * word 3-gram LM, on 1 Worker and on every core. No peer runs beside it: the Baidu decoder,
 * ctcdecode and pyctcdecode+kenlm all need native builds that this machine cannot fetch.
 *
 * Logits are synthetic but shaped like an acoustic model's (20 ms frames, 29 labels, blank
 * last): held-out sentences of the Gutenberg text (never seen by the LM) pass through a noisy
 * channel: 2-4 frames per character and one blank after each, a peaked softmax whose peak
 * height varies, and on 6% of character runs a confusable label takes part of the mass, so
 * greedy decoding makes errors that the LM can repair. The script prints greedy and beam WER
 * so that realism can be checked, then the timings.
 *
 * The LM is built once (kept in work/decode_bench/):
 *   head -n 45000 ../shared/data/text/lm_gutenberg_8books.txt > work/decode_bench/lm_train.txt
 *   tail -n +45001 ../shared/data/text/lm_gutenberg_8books.txt > work/decode_bench/lm_heldout.txt
 *   ./deno task build-lm --order 3 --text work/decode_bench/lm_train.txt \
 *     --arpa work/decode_bench/lm3.arpa --binary work/decode_bench/lm3.bin
 * Then:
 *   ./deno run -A bench/decode_throughput.ts [--n 200] [--beam 128] [--alpha 1.5] [--beta 1]
 *     [--workers 1,2] [--repeats 2] [--lm work/decode_bench/lm3.bin | none]
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { DecoderPool } from "../decode/decoder_pool.ts";
import { ctcGreedyDecode } from "../decode/greedy.ts";
import { loadLanguageModel } from "../decode/lm_binary.ts";
import { wordErrorRate } from "../decode/metrics.ts";
import type { CtcLogits } from "../decode/ctc_logits.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "200" },
    beam: { type: "string", default: "128" },
    alpha: { type: "string", default: "1.5" },
    beta: { type: "string", default: "1" },
    workers: { type: "string", default: `1,${navigator.hardwareConcurrency}` },
    repeats: { type: "string", default: "2" },
    lm: { type: "string", default: "work/decode_bench/lm3.bin" },
    text: { type: "string", default: "work/decode_bench/lm_heldout.txt" },
  },
});
const root = fileURLToPath(new URL("../", import.meta.url));
const abs = (p: string): string => (p.startsWith("/") ? p : root + p);

const VOCAB = [" ", ..."abcdefghijklmnopqrstuvwxyz", "'"];
const V = VOCAB.length + 1;
const BLANK = V - 1;

/** mulberry32: a small seeded generator, so every run decodes the same logits. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Noisy-channel logits for one sentence (see the file comment). */
function channel(text: string, rand: () => number): CtcLogits {
  const frames: { label: number; confuse: number }[] = [{ label: BLANK, confuse: -1 }];
  for (const ch of text) {
    const l = VOCAB.indexOf(ch);
    const n = 2 + Math.floor(rand() * 3);
    const confuse = rand() < 0.06 ? Math.floor(rand() * (V - 1)) : -1;
    for (let k = 0; k < n; k++) frames.push({ label: l, confuse });
    frames.push({ label: BLANK, confuse: -1 });
  }
  const T = frames.length;
  const data = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const row = t * V;
    for (let v = 0; v < V; v++) data[row + v] = 1.5 * (rand() + rand() + rand() - 1.5);
    const peak = 4 + 6 * rand();
    const f = frames[t];
    if (f.confuse >= 0) {
      // The confusable label wins on about half of such frames.
      const share = rand();
      data[row + f.label] += peak * (0.4 + 0.6 * share);
      data[row + f.confuse] += peak * (1 - 0.6 * share);
    } else data[row + f.label] += peak;
  }
  return { data, T, V };
}

const sentences = Deno.readTextFileSync(abs(values.text)).split("\n")
  .map((s) => s.trim())
  .filter((s) => s.length >= 20 && s.length <= 250 && /^[a-z' ]+$/.test(s));
const n = Math.min(Number(values.n), sentences.length);
const rand = rng(42);
const refs = sentences.slice(0, n);
const utts = refs.map((s) => channel(s, rand));
const audioSeconds = utts.reduce((a, u) => a + u.T * 0.02, 0);
const lm = values.lm === "none" ? null : await loadLanguageModel(abs(values.lm));
const beamWidth = Number(values.beam);
const alpha = Number(values.alpha);
const beta = Number(values.beta);
console.log(
  `${n} utterances, ${audioSeconds.toFixed(1)} s of audio at 20 ms/frame, V=${V}; ` +
    (lm === null ? "no LM" : `LM order ${lm.order}, ${lm.nGramCounts.reduce((a, b) => a + b, 0)} n-grams`) +
    `; beam ${beamWidth}, alpha ${alpha}, beta ${beta}`,
);
const greedy = utts.map((u) => ctcGreedyDecode(u, { vocabulary: VOCAB }).text);
console.log(`greedy WER ${(100 * wordErrorRate(refs, greedy).rate).toFixed(2)}%`);

const configs = values.workers.split(",").map(Number);
const pools = new Map<number, DecoderPool>();
for (const w of configs) {
  pools.set(
    w,
    await DecoderPool.create({ vocabulary: VOCAB, beamWidth, lm, alpha, beta, nBest: 1, workers: w }),
  );
}
const best = new Map<number, { wall: number; cpu: number }>();
let texts: string[] = [];
for (let r = 0; r < Number(values.repeats); r++) {
  for (const w of configs) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await pools.get(w)!.decodeBatch(utts);
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    // process.cpuUsage() counts every thread of the process, the Workers included.
    const cpu = (c.user + c.system) / 1e6;
    texts = out.map((h) => h[0].text);
    const prev = best.get(w) ?? { wall: Infinity, cpu: Infinity };
    best.set(w, { wall: Math.min(prev.wall, wall), cpu: Math.min(prev.cpu, cpu) });
    console.log(
      `run ${r} workers=${w}: wall ${wall.toFixed(2)} s, process CPU ${cpu.toFixed(2)} s, ` +
        `${(audioSeconds / cpu).toFixed(1)} s audio per CPU-second, ${
          (audioSeconds / wall).toFixed(1)
        } per wall-second`,
    );
  }
}
for (const p of pools.values()) p.close();
console.log(`beam${lm === null ? "" : "+LM"} WER ${(100 * wordErrorRate(refs, texts).rate).toFixed(2)}%`);
for (const [w, b] of best) {
  console.log(
    `workers=${w} (best of ${values.repeats}): ${
      (audioSeconds / b.cpu).toFixed(1)
    } s audio per CPU-second, ` +
      `${(audioSeconds / b.wall).toFixed(1)} s audio per wall-second`,
  );
}
