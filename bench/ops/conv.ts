/**
 * Benchmark rows of the conv family for bench/ops_vs_torch.ts: conv1d forward, and forward +
 * backward (dx and dw), at Jasper's shapes (batch 8, 256→256 channels, kernel 11, 800 frames,
 * padding same), QuartzNet's depthwise conv1d, and DeepSpeech2's second conv2d. The torch side is bench/ops/conv.py.
 *
 * Run alone: ./deno run -A bench/ops/conv.ts [threads...]  (median of 7 runs after 2 warm-ups;
 * wall time and process CPU time).
 * Not here: the interleaved comparison with torch (bench/ops_vs_torch.ts).
 */
import {
  conv1d,
  conv2d,
  randomNormal,
  releaseGrad,
  Rng,
  setBlasThreads,
  type Tensor,
  tidy,
} from "../../ops/mod.ts";
import { type BenchRow, runRowsStandalone } from "./row.ts";

function conv1dRow(
  name: string,
  shapes: { n: number; cin: number; cout: number; k: number; t: number; groups: number },
  withBackward: boolean,
): BenchRow {
  let x: Tensor | null = null, w: Tensor | null = null, dy: Tensor | null = null;
  return {
    name,
    setup(threads: number): void {
      setBlasThreads(threads);
      const rng = new Rng(1);
      const { n, cin, cout, k, t, groups } = shapes;
      x = randomNormal([n, cin, t], rng, { requiresGrad: withBackward });
      w = randomNormal([cout, cin / groups, k], rng, { std: 0.05, requiresGrad: withBackward });
      dy = randomNormal([n, cout, t], rng);
    },
    run(): void {
      tidy(() => {
        const y = conv1d(x!, w!, null, { padding: "same", groups: shapes.groups });
        if (withBackward) {
          y.backward(dy!);
          releaseGrad(x!);
          releaseGrad(w!);
        }
      });
    },
  };
}

/** DeepSpeech2's second conv ([11×21] kernel, stride [1, 2], SAME) on [N, 32, T, F] activations. */
function ds2Conv2Row(name: string, shape: [number, number, number, number]): BenchRow {
  let x: Tensor | null = null, w: Tensor | null = null;
  return {
    name,
    setup(threads: number): void {
      setBlasThreads(threads);
      const rng = new Rng(2);
      x = randomNormal(shape, rng, { requiresGrad: true });
      w = randomNormal([32, shape[1], 11, 21], rng, { std: 0.02, requiresGrad: true });
    },
    run(): void {
      tidy(() => {
        const y = conv2d(x!, w!, null, { stride: [1, 2], padding: "same" });
        y.backward(y);
        releaseGrad(x!);
        releaseGrad(w!);
      });
    },
  };
}

const jasper = { n: 8, cin: 256, cout: 256, k: 11, t: 800, groups: 1 };
const quartzDepthwise = { n: 8, cin: 256, cout: 256, k: 33, t: 800, groups: 256 };

/** The conv family's rows. */
export const rows: BenchRow[] = [
  conv1dRow("conv1d forward, Jasper [8, 256, 800] k11 256→256", jasper, false),
  conv1dRow("conv1d forward+backward, Jasper [8, 256, 800] k11 256→256", jasper, true),
  conv1dRow("conv1d depthwise forward+backward, QuartzNet [8, 256, 800] k33", quartzDepthwise, true),
  ds2Conv2Row("conv2d forward+backward, DeepSpeech2 conv2 [4, 32, 100, 81] k[11, 21] s[1, 2]", [
    4,
    32,
    100,
    81,
  ]),
];

if (import.meta.main) runRowsStandalone(rows, Deno.args);
