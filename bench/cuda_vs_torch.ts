/**
 * The cuda backend beside PyTorch on the same GPU, interleaved in one process pair: this Deno
 * process times a row (`iters` calls enqueued, then one flush), then asks the torch process
 * (bench/cuda_vs_torch.py) to time the same row the same way (torch.cuda.synchronize), and so
 * on for every repetition, so both see the same clocks and the same neighbours. Prints the
 * median milliseconds per call of each side and the toolkit/torch ratio (below 1: faster).
 *
 *   ./deno run -A bench/cuda_vs_torch.ts [--reps 7] [--iters 20] [--filter conv]
 *
 * Precision: f32 rows let both sides use TF32 (torch.backends.*.allow_tf32 = True); the bf16
 * rows run the toolkit's precision "bf16" against torch.autocast(dtype=torch.bfloat16).
 * Needs a CUDA device and the torch venv's python ($REF_PYTHON, as bench/peer.ts reads it).
 *
 * Not here: whole training steps (bench/train_vs_torch.ts, once every Jasper op has a cuda kernel).
 */
import { parseArgs } from "node:util";
import { conv1d, conv1dBackwardData, conv1dBackwardFilter } from "../ops/conv1d.ts";
import { randomNormal } from "../ops/creation.ts";
import { add } from "../ops/elementwise.ts";
import { matmul } from "../ops/matmul.ts";
import { softmax } from "../ops/reduce.ts";
import { Rng } from "../ops/random.ts";
import { sum } from "../ops/reduce_sum.ts";
import { tidy } from "../ops/scopes.ts";
import type { Tensor } from "../ops/tensor.ts";
import { type CudaBackend, initCuda } from "../ops/backends/cuda/mod.ts";
import { getBackend } from "../ops/backend_registry.ts";
import { median, PeerProcess } from "./peer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    reps: { type: "string", default: "7" },
    iters: { type: "string", default: "20" },
    filter: { type: "string", default: "" },
  },
});
const reps = Number(values.reps), iters = Number(values.iters);

/** One benchmark row: tensors made by `setup`, one call timed by `run`. The torch twin has the same name. */
interface Row {
  readonly name: string;
  readonly precision: "f32" | "bf16";
  setup(): Tensor[];
  run(inputs: Tensor[]): void;
}

const rng = new Rng(1);
const normal = (shape: number[]): Tensor => randomNormal(shape, rng, { backend: "cuda" });
const jasperConv = { padding: "same" as const };

const rows: Row[] = [
  {
    name: "matmul_4096",
    precision: "f32",
    setup: () => [normal([4096, 4096]), normal([4096, 4096])],
    run: ([a, b]) => void matmul(a, b),
  },
  {
    name: "matmul_4096_bf16",
    precision: "bf16",
    setup: () => [normal([4096, 4096]), normal([4096, 4096])],
    run: ([a, b]) => void matmul(a, b),
  },
  {
    name: "batched_matmul_64x256",
    precision: "f32",
    setup: () => [normal([64, 256, 256]), normal([64, 256, 256])],
    run: ([a, b]) => void matmul(a, b),
  },
  {
    name: "add_16M",
    precision: "f32",
    setup: () => [normal([4096, 4096]), normal([4096, 4096])],
    run: ([a, b]) => void add(a, b),
  },
  {
    name: "add_bias_16M",
    precision: "f32",
    setup: () => [normal([4096, 4096]), normal([4096])],
    run: ([a, b]) => void add(a, b),
  },
  {
    name: "sum_rows_16M",
    precision: "f32",
    setup: () => [normal([4096, 4096])],
    run: ([a]) => void sum(a, 1),
  },
  {
    name: "softmax_8192x1024",
    precision: "f32",
    setup: () => [normal([8192, 1024])],
    run: ([a]) => void softmax(a, -1),
  },
  {
    name: "conv1d_jasper_256x11",
    precision: "f32",
    setup: () => [normal([32, 256, 800]), normal([256, 256, 11])],
    run: ([x, w]) => void conv1d(x, w, null, jasperConv),
  },
  {
    name: "conv1d_jasper_256x11_bf16",
    precision: "bf16",
    setup: () => [normal([32, 256, 800]), normal([256, 256, 11])],
    run: ([x, w]) => void conv1d(x, w, null, jasperConv),
  },
  {
    name: "conv1d_jasper_256x11_backward",
    precision: "f32",
    setup: () => [normal([32, 256, 800]), normal([256, 256, 11]), normal([32, 256, 800])],
    run: ([x, w, dy]) => {
      conv1dBackwardData(dy, w, { ...jasperConv, inputLength: 800 });
      conv1dBackwardFilter(x, dy, { ...jasperConv, kernelSize: 11 });
    },
  },
  {
    name: "conv1d_depthwise_256x33",
    precision: "f32",
    setup: () => [normal([32, 256, 800]), normal([256, 1, 33])],
    run: ([x, w]) => void conv1d(x, w, null, { padding: "same", groups: 256 }),
  },
];

if (!(await initCuda())) Deno.exit(2);
const cuda = getBackend("cuda") as CudaBackend;
console.log(`toolkit: ${cuda.description}`);
const peer = new PeerProcess(new URL("./cuda_vs_torch.py", import.meta.url));
console.log(`torch: ${await peer.ask("info")}`);
console.log(`${reps} interleaved repetitions of ${iters} calls after one warm-up each; median ms per call`);
console.log("| row | toolkit | torch | ratio |");
console.log("| --- | --- | --- | --- |");

async function timeRow(row: Row, inputs: Tensor[]): Promise<number> {
  await cuda.flush();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) tidy(() => row.run(inputs));
  await cuda.flush();
  return (performance.now() - t0) / iters;
}

for (const row of rows.filter((r) => r.name.includes(values.filter))) {
  cuda.precision = row.precision;
  const inputs = row.setup();
  await peer.ask(`setup ${row.name}`);
  await timeRow(row, inputs); // compiles kernels and runs the cuDNN algorithm search
  await peer.ask(`run ${row.name} ${iters}`);
  const ours: number[] = [], theirs: number[] = [];
  for (let i = 0; i < reps; i++) {
    ours.push(await timeRow(row, inputs));
    theirs.push(Number(await peer.ask(`run ${row.name} ${iters}`)));
  }
  for (const t of inputs) t.dispose();
  await peer.ask(`free ${row.name}`);
  const a = median(ours), b = median(theirs);
  console.log(`| ${row.name} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(a / b).toFixed(2)} |`);
}
cuda.precision = "f32";
const mem = cuda.memoryStats();
console.log(
  `toolkit memory: peak ${(mem.peakBytesInUse / 2 ** 20).toFixed(0)} MiB in use, ${
    (mem.bytesCached / 2 ** 20).toFixed(0)
  } MiB cached`,
);
await peer.close();
