/**
 * Benchmark rows of ctcLoss for bench/ops_vs_torch.ts: forward + backward of the summed loss
 * with respect to log-probabilities (T = 400 frames, batch 8, 29 classes, 80 labels per
 * sample, blank 28 as in OpenSeq2Seq), and the forward alone. The torch side is
 * bench/ops/ctc.py.
 *
 * Run alone: ./deno run -A bench/ops/ctc.ts [threads...]  (median of 7 runs after 2 warm-ups).
 * Not here: the interleaved comparison with torch (bench/ops_vs_torch.ts).
 */
import {
  ctcLoss,
  logSoftmax,
  noGrad,
  randomNormal,
  releaseGrad,
  Rng,
  setBlasThreads,
  type Tensor,
  tensor,
  tidy,
} from "../../ops/mod.ts";
import { type BenchRow, runRowsStandalone } from "./row.ts";

const T = 400, N = 8, C = 29, S = 80, BLANK = 28;

/** Labels of sample n: a fixed pattern over 0..27 with some repeats (the same in ctc.py). */
export function benchTargets(): Int32Array {
  const t = new Int32Array(N * S);
  for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) t[n * S + s] = (n * 7 + s * 3 + (s >> 2)) % 28;
  return t;
}

function ctcRow(name: string, withBackward: boolean): BenchRow {
  let lp: Tensor | null = null, targets: Tensor | null = null;
  const inputLengths = Array.from({ length: N }, (_, n) => T - 10 * n);
  const targetLengths = Array.from({ length: N }, (_, n) => S - 2 * n);
  return {
    name,
    setup(threads: number): void {
      // The CTC kernel runs on one thread; the setting only affects the log_softmax GEMM-free path.
      setBlasThreads(threads);
      const logits = randomNormal([T, N, C], new Rng(1));
      lp = tensor(logSoftmax(logits, -1).dataSync(), [T, N, C], { requiresGrad: withBackward });
      targets = tensor(benchTargets(), [N, S], { dtype: "int32" });
    },
    run(): void {
      tidy(() => {
        if (!withBackward) {
          noGrad(() =>
            ctcLoss(lp!, targets!, inputLengths, targetLengths, { blank: BLANK, reduction: "sum" })
          );
          return;
        }
        ctcLoss(lp!, targets!, inputLengths, targetLengths, { blank: BLANK, reduction: "sum" }).backward();
        releaseGrad(lp!);
      });
    },
  };
}

/** The ctc family's rows. */
export const rows: BenchRow[] = [
  ctcRow("ctcLoss forward, T 400, N 8, C 29, S 80", false),
  ctcRow("ctcLoss forward+backward, T 400, N 8, C 29, S 80", true),
];

if (import.meta.main) runRowsStandalone(rows, Deno.args);
