/**
 * The per-step GEMMs of the cpu RNN kernels (ops/backends/cpu/rnn.ts) in their two layouts, at
 * one OpenBLAS thread, interleaved: forward gh = h·W_hhᵀ ([N, G] out, the weight as a transposed
 * B) against gh = W_hh·hᵀ ([G, N] out, the weight as A), and backward dh += dg·W_hh against
 * dhᵀ += W_hhᵀ·dgᵀ. LSTM's shape (N 8, H 512, G 4H); medians of 12 rounds of 40 calls, CPU ms.
 *
 *   ./deno run -A bench/rnn_step_gemm.ts
 */
import process from "node:process";
import { gemm, setBlasThreads } from "../ops/backends/cpu/blas.ts";
import { Rng } from "../ops/mod.ts";
import { median } from "./peer.ts";

setBlasThreads(1);
const N = 8, H = 512, G = 4 * H;
const rng = new Rng(1);
const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const h = random(N * H), w = random(G * H), dg = random(N * G);
const gh = new Float32Array(N * G), dh = new Float32Array(N * H);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const layouts: [string, () => void][] = [
  ["forward h·W_hhᵀ → [N, G]", () => gemm(false, true, N, G, H, 1, h, 0, H, w, 0, H, 0, gh, 0, G)],
  ["forward W_hh·hᵀ → [G, N]", () => gemm(false, true, G, N, H, 1, w, 0, H, h, 0, H, 0, gh, 0, N)],
  ["backward dh += dg·W_hh", () => gemm(false, false, N, H, G, 1, dg, 0, G, w, 0, H, 1, dh, 0, H)],
  ["backward dhᵀ += W_hhᵀ·dgᵀ", () => gemm(true, true, H, N, G, 1, w, 0, H, dg, 0, G, 1, dh, 0, N)],
];
const times = layouts.map((): number[] => []);
for (let round = 0; round < 12; round++) {
  layouts.forEach(([, run], i) => {
    const c0 = cpuMs();
    for (let k = 0; k < 40; k++) run();
    times[i].push((cpuMs() - c0) / 40);
  });
}
console.log("| step GEMM (N 8, H 512, G 2048) | CPU ms per call |");
console.log("| --- | --- |");
layouts.forEach(([name], i) => console.log(`| ${name} | ${median(times[i]).toFixed(3)} |`));
