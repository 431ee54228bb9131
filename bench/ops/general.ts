/**
 * Benchmark rows of the general ops for bench/ops_vs_torch.ts: logSoftmax at CTC's input shape,
 * softmax, permute NCT→NTC, a broadcast bias + ReLU (as separate ops and fused), the TDNN
 * sub-block's residual + ReLU + dropout + frame mask (separate and fused), sums over batch and
 * time, pad + slice, concat, dropout and max, at Jasper-like activation sizes (batch 8, 256
 * channels, 400 frames). The torch side is bench/ops/general.py (same row names).
 *
 * Run alone: ./deno run -A bench/ops/general.ts [threads...]  (median of 7 runs after 2 warm-ups).
 * Not here: the interleaved comparison with torch (bench/ops_vs_torch.ts).
 */
import {
  add,
  addRelu,
  addReluMasked,
  concat,
  dropout,
  dropoutMask,
  logSoftmax,
  matmul,
  max,
  mul,
  pad,
  permute,
  randomNormal,
  releaseGrad,
  relu,
  Rng,
  setBlasThreads,
  slice,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../ops/mod.ts";
import { type BenchRow, runRowsStandalone } from "./row.ts";

const N = 8, C = 256, T = 400;

/** [N, 1, T] mask of valid frames for lengths T − 25n (400 down to 225), as general.py builds it. */
function benchFrameMask(): Tensor {
  const m = new Float32Array(N * T);
  for (let n = 0; n < N; n++) m.fill(1, n * T, n * T + T - 25 * n);
  return tensor(m, [N, 1, T]);
}

/**
 * A row over leaves of `shapes` (drawn from Rng(1)); `step` runs inside tidy() and also gets
 * the [N, 1, T] frame mask (a constant, not differentiated).
 */
function row(
  name: string,
  shapes: number[][],
  withGrad: boolean,
  step: (xs: Tensor[], frames: Tensor) => Tensor,
): BenchRow {
  let xs: Tensor[] = [];
  let frames: Tensor | null = null;
  return {
    name,
    // Only matmul (OpenBLAS) uses more than one thread; the other kernels are single-threaded.
    setup(threads: number): void {
      setBlasThreads(threads);
      for (const x of xs) x.dispose();
      frames?.dispose();
      const rng = new Rng(1);
      xs = shapes.map((s) => randomNormal(s, rng, { requiresGrad: withGrad }));
      frames = benchFrameMask();
    },
    run(): void {
      tidy(() => {
        // cpu kernels run synchronously: the forward is done when step returns (no read-back,
        // which torch's side does not do either).
        const y = step(xs, frames!);
        if (withGrad) {
          sum(y).backward();
          for (const x of xs) releaseGrad(x);
        }
      });
    },
  };
}

/** The general family's rows. */
export const rows: BenchRow[] = [
  row("logSoftmax forward+backward, [400, 8, 29] along V", [[T, N, 29]], true, ([x]) => logSoftmax(x, -1)),
  row("softmax forward, [8, 400, 256] along the last axis", [[N, T, C]], false, ([x]) => softmax(x, -1)),
  row(
    "permute NCT to NTC forward+backward, [8, 256, 400]",
    [[N, C, T]],
    true,
    ([x]) => permute(x, [0, 2, 1]),
  ),
  row(
    "bias + relu forward+backward, [8, 256, 400] + [256, 1]",
    [[N, C, T], [C, 1]],
    true,
    ([x, b]) => relu(add(x, b)),
  ),
  row(
    "fused bias + relu (addRelu) forward+backward, [8, 256, 400] + [256, 1]",
    [[N, C, T], [C, 1]],
    true,
    ([x, b]) => addRelu(x, b),
  ),
  row(
    "residual + relu + dropout p 0.2 + frame mask forward+backward, [8, 256, 400]",
    [[N, C, T], [N, C, T]],
    true,
    ([x, r], frames) => mul(dropout(relu(add(x, r)), 0.2, { rng: new Rng(2) }), frames),
  ),
  row(
    "fused residual + relu + dropout p 0.2 + frame mask (addReluMasked) forward+backward, [8, 256, 400]",
    [[N, C, T], [N, C, T]],
    true,
    ([x, r], frames) =>
      addReluMasked(x, r, { mask: dropoutMask(x, 0.2, { rng: new Rng(2) }), frameMask: frames }),
  ),
  row("sum over batch and time, [8, 256, 400]", [[N, C, T]], false, ([x]) => sum(x, [0, 2])),
  row(
    "pad time by 16 then slice it back forward+backward, [8, 256, 400]",
    [[N, C, T]],
    true,
    ([x]) => slice(pad(x, [8, 8]), [null, null, { start: 8, end: 8 + T }]),
  ),
  row("concat along the last axis, 2 x [8, 400, 256]", [[N, T, C], [N, T, C]], false, (xs) => concat(xs, -1)),
  row("dropout p 0.2 forward+backward, [8, 256, 400]", [[N, C, T]], true, ([x]) => {
    return dropout(x, 0.2, { rng: new Rng(2) });
  }),
  row("max over the last axis, [3200, 29]", [[N * T, 29]], false, ([x]) => max(x, -1)),
  row("matmul forward, 512×512×512", [[512, 512], [512, 512]], false, ([a, b]) => matmul(a, b)),
];

if (import.meta.main) runRowsStandalone(rows, Deno.args);
