/**
 * Break-even of the cpu ctcLoss split across Workers (ops/backends/cpu/ctc_loss_threads.ts):
 * forward + gradient of batches of growing work on 1 thread and on `threads` threads,
 * interleaved, medians of 7 after 2 warm-ups. Prints the batch work (Σ Tn·(2S + C)), both
 * times and their ratio; the smallest work where the split wins sets DEFAULT_MIN_WORK.
 *
 *   ./deno run -A bench/ctc_threads.ts [threads]   (default 2)
 */
import { ctcLoss, noGrad, Rng, tensor, TensorScope } from "../ops/mod.ts";
import { setCtcThreading } from "../ops/backends/cpu/ctc_loss_threads.ts";
import { median } from "./peer.ts";

const threads = Number(Deno.args[0] ?? 2);
const C = 29, BLANK = 28;
const shapes = [
  { T: 50, N: 2, S: 10 },
  { T: 100, N: 2, S: 20 },
  { T: 100, N: 4, S: 20 },
  { T: 200, N: 4, S: 40 },
  { T: 400, N: 4, S: 80 },
  { T: 400, N: 8, S: 80 },
  { T: 400, N: 16, S: 80 },
];

function timeOnce(T: number, N: number, S: number, nThreads: number): number {
  using _scope = new TensorScope();
  setCtcThreading({ threads: nThreads, minWork: 0 });
  const rng = new Rng(1);
  const lp = new Float32Array(T * N * C);
  for (let i = 0; i < lp.length; i++) lp[i] = Math.log(1 / C) + 0.1 * rng.normal();
  const labels = new Int32Array(N * S);
  for (let i = 0; i < labels.length; i++) labels[i] = (i * 3 + (i >> 2)) % BLANK;
  const lpT = tensor(lp, [T, N, C], { requiresGrad: true });
  const targets = tensor(labels, [N, S], { dtype: "int32" });
  const lengths = Array.from({ length: N }, () => T);
  const targetLengths = Array.from({ length: N }, () => S);
  const t0 = performance.now();
  const loss = ctcLoss(lpT, targets, lengths, targetLengths, { blank: BLANK, reduction: "sum" });
  loss.backward();
  noGrad(() => lpT.grad!.dataSync());
  return performance.now() - t0;
}

console.log(`ctcLoss forward + gradient, 1 thread against ${threads}; medians of 7 in ms`);
console.log("| T | N | S | work | 1 thread | split | split / 1 |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const { T, N, S } of shapes) {
  const one: number[] = [], split: number[] = [];
  for (let i = 0; i < 9; i++) {
    const a = timeOnce(T, N, S, 1), b = timeOnce(T, N, S, threads);
    if (i >= 2) {
      one.push(a);
      split.push(b);
    }
  }
  const work = N * T * (2 * (2 * S + 1) + C);
  const [a, b] = [median(one), median(split)];
  console.log(`| ${T} | ${N} | ${S} | ${work} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} |`);
}
