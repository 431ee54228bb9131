/**
 * Break-even of the WASM kernels split across Workers (ops/backends/cpu/wasm/thread_pool.ts):
 * an elementwise add, a last-axis softmax and a sum over the last axis, on float32 tensors of
 * growing size, on 1 thread and on `threads` threads, interleaved, medians of 15 kernel calls
 * after 3 warm-ups (inputs made once per size). Prints the call's work (elements read plus
 * written, the unit of DEFAULT_MIN_WORK), wall times and their ratio; the smallest work where
 * the split wins sets DEFAULT_MIN_WORK.
 *
 *   ./deno run -A bench/kernel_threads.ts [threads]   (default 2)
 */
import { add, randomNormal, Rng, softmax, sum, type Tensor, TensorScope } from "../ops/mod.ts";
import { setKernelThreading } from "../ops/backends/cpu/wasm/thread_pool.ts";
import { median } from "./peer.ts";

const threads = Number(Deno.args[0] ?? 2);
const sizes = [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22];
const kernels: { name: string; work: (n: number) => number; f: (x: Tensor, y: Tensor) => Tensor }[] = [
  { name: "add", work: (n) => 3 * n, f: (x, y) => add(x, y) },
  { name: "softmax", work: (n) => 2 * n, f: (x) => softmax(x, -1) },
  { name: "sum last axis", work: (n) => n + n / 256, f: (x) => sum(x, [1]) },
];

function timeOnce(f: () => Tensor, nThreads: number): number {
  using _scope = new TensorScope();
  setKernelThreading({ threads: nThreads, minWork: 0 });
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

console.log(`WASM kernels, 1 thread against ${threads}; medians of 15 in ms`);
console.log("| kernel | elements | work | 1 thread | split | split / 1 |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const k of kernels) {
  for (const n of sizes) {
    using _scope = new TensorScope();
    const x = randomNormal([n / 256, 256], new Rng(1)), y = randomNormal([n / 256, 256], new Rng(2));
    const one: number[] = [], split: number[] = [];
    for (let i = 0; i < 18; i++) {
      const a = timeOnce(() => k.f(x, y), 1), b = timeOnce(() => k.f(x, y), threads);
      if (i >= 3) {
        one.push(a);
        split.push(b);
      }
    }
    const [a, b] = [median(one), median(split)];
    console.log(
      `| ${k.name} | ${n} | ${k.work(n)} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(b / a).toFixed(2)} |`,
    );
  }
}
