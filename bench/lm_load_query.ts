/**
 * LM engine figures for BENCHMARKS.md: ARPA parse time, binary load time (per million
 * n-grams), bytes per n-gram, and conditionalLogProb throughput on held-out text.
 *
 * Usage (after building the LM, see BENCHMARKS.md):
 *   ./deno run -A bench/lm_load_query.ts work/gutenberg_3gram.arpa work/gutenberg_3gram.bin
 *     /work/shared/data/text/lm_gutenberg_8books.txt
 * The query stream is every word and </s> of the text with its context (about a million
 * queries); the best and median of 5 passes after one warm-up pass are printed.
 */
import process from "node:process";
import { loadArpa } from "../decode/arpa.ts";
import { readLmBinary } from "../decode/lm_binary.ts";

const [arpaPath, binPath, textPath] = Deno.args;
if (textPath === undefined) {
  console.error("usage: lm_load_query.ts LM.arpa LM.bin TEXT");
  Deno.exit(2);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

const parseMs: number[] = [];
let lm = await loadArpa(arpaPath);
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  lm = await loadArpa(arpaPath);
  parseMs.push(performance.now() - t);
}
const nGrams = lm.nGramCounts.reduce((a, b) => a + b, 0);
const loadMs: number[] = [];
const loadNoSumMs: number[] = [];
for (let r = 0; r < 5; r++) {
  let t = performance.now();
  await readLmBinary(binPath);
  loadMs.push(performance.now() - t);
  t = performance.now();
  await readLmBinary(binPath, { verifyChecksum: false });
  loadNoSumMs.push(performance.now() - t);
}
const bin = await readLmBinary(binPath);

// Query stream: every word and </s> of held-out sentences, with its context back to <s>
// (at most order-1 words), copied into reused windows as a decoder would (no allocation).
const lines = (await Deno.readTextFile(textPath)).split("\n").filter((l) => l !== "");
const N = bin.order;
const flat: number[] = []; // per query: length, then ids oldest first
for (const l of lines) {
  const sent = [bin.bosId, ...l.split(" ").map((w) => bin.wordId(w)), bin.eosId];
  for (let end = 2; end <= sent.length; end++) {
    const begin = Math.max(0, end - N);
    flat.push(end - begin, ...sent.slice(begin, end));
  }
}
const queryIds = Int32Array.from(flat);
const windows = Array.from({ length: N + 1 }, (_, n) => new Int32Array(n));
let queries = 0, sink = 0;
const qps: number[] = [];
const qpsCpu: number[] = []; // per CPU-second of this process: steadier on a shared, loaded machine
for (let r = 0; r < 6; r++) {
  const cpu = process.cpuUsage();
  const t = performance.now();
  let n = 0;
  for (let i = 0; i < queryIds.length;) {
    const len = queryIds[i++];
    const w = windows[len];
    for (let j = 0; j < len; j++) w[j] = queryIds[i + j];
    i += len;
    sink += bin.conditionalLogProb(w);
    n++;
  }
  qps.push(n / ((performance.now() - t) / 1000));
  const used = process.cpuUsage(cpu);
  qpsCpu.push(n / ((used.user + used.system) / 1e6));
  queries = n;
}
const steady = qps.slice(1); // the first pass includes JIT warm-up
const steadyCpu = qpsCpu.slice(1);
console.log(`model: ${lm.nGramCounts.join(" / ")} n-grams (${nGrams}), order ${lm.order}`);
console.log(`binary: ${bin.nBytes} bytes = ${(bin.nBytes / nGrams).toFixed(2)} B/n-gram`);
console.log(
  `ARPA parse+build: median ${median(parseMs).toFixed(0)} ms = ${
    (median(parseMs) / (nGrams / 1e6)).toFixed(0)
  } ms per million n-grams`,
);
console.log(
  `binary load: median ${median(loadMs).toFixed(1)} ms with checksum (${
    (median(loadMs) / (nGrams / 1e6)).toFixed(1)
  } ms/M n-grams), ${median(loadNoSumMs).toFixed(1)} ms without (${
    (median(loadNoSumMs) / (nGrams / 1e6)).toFixed(1)
  } ms/M)`,
);
console.log(
  `queries: ${queries} per pass, first pass ${(qps[0] / 1e6).toFixed(2)} M/s, then median ${
    (median(steady) / 1e6).toFixed(2)
  }, best ${(Math.max(...steady) / 1e6).toFixed(2)} M conditionalLogProb/s wall; median ${
    (median(steadyCpu) / 1e6).toFixed(2)
  } M per CPU-second (sink ${sink.toFixed(1)})`,
);
