/**
 * Benchmark rows of the rnn family for bench/ops_vs_torch.ts: one bidirectional GRU layer
 * (DeepSpeech2's shape: batch 8, 400 frames, 512 inputs, 512 units per direction), forward
 * and forward + backward (dx and every weight gradient), plus the same for an LSTM layer.
 * The torch side is bench/ops/rnn.py.
 *
 * Run alone: ./deno run -A bench/ops/rnn.ts [threads...]  (median of 7 runs after 2 warm-ups).
 * Not here: the interleaved comparison with torch (bench/ops_vs_torch.ts).
 */
import { GRU, LSTM } from "../../models/rnn.ts";
import { noGrad, randomNormal, releaseGrad, Rng, setBlasThreads, type Tensor, tidy } from "../../ops/mod.ts";
import { type BenchRow, runRowsStandalone } from "./row.ts";

function rnnRow(
  name: string,
  kind: "gru" | "lstm",
  shapes: { t: number; n: number; input: number; hidden: number },
  withBackward: boolean,
): BenchRow {
  let net: GRU | LSTM | null = null;
  let x: Tensor | null = null, dy: Tensor | null = null;
  return {
    name,
    setup(threads: number): void {
      setBlasThreads(threads);
      const { t, n, input, hidden } = shapes;
      const options = { inputSize: input, hiddenSize: hidden, bidirectional: true, seed: 1 };
      net = kind === "gru" ? new GRU(options) : new LSTM(options);
      const rng = new Rng(1);
      x = randomNormal([t, n, input], rng, { requiresGrad: withBackward });
      dy = randomNormal([t, n, 2 * hidden], rng);
    },
    run(): void {
      tidy(() => {
        if (!withBackward) {
          noGrad(() => net!.forward(x!));
          return;
        }
        const [y] = net!.forward(x!);
        y.backward(dy!);
        releaseGrad(x!);
        for (const p of net!.parameters().values()) releaseGrad(p);
      });
    },
  };
}

const ds2 = { t: 400, n: 8, input: 512, hidden: 512 };

/** The rnn family's rows. */
export const rows: BenchRow[] = [
  rnnRow("GRU bidirectional layer forward, [400, 8, 512] → 2×512", "gru", ds2, false),
  rnnRow("GRU bidirectional layer forward+backward, [400, 8, 512] → 2×512", "gru", ds2, true),
  rnnRow("LSTM bidirectional layer forward+backward, [400, 8, 512] → 2×512", "lstm", ds2, true),
];

if (import.meta.main) runRowsStandalone(rows, Deno.args);
