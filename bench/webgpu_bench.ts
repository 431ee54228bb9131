/**
 * Timings of the webgpu backend's kernels (matmul, add, relu, sum, conv1d and its backward
 * ops) beside the cpu backend.
 *
 * - `./deno run -A bench/webgpu_bench.ts [--sizes 128,256,512] [--skip-cpu]` prints a table: matmul
 *   GFLOP/s and elementwise/reduction GB/s on the adapter Deno finds (on the development
 *   machine that is Mesa's llvmpipe, a CPU rasteriser: its figures measure the code path, not
 *   a GPU), with the cpu backend on the same shapes for scale.
 * - `./deno bench -A bench/webgpu_bench.ts` runs the same kernels as `Deno.bench` cases.
 *
 * Every timed iteration waits for the GPU (`flush`), so enqueue-only time is never reported.
 * Without an adapter it says so and exits 0.
 */
import "../ops/backends/cpu/mod.ts";
import { initWebGpu, webGpuBackend } from "../ops/backends/webgpu/mod.ts";
import { setConvGemmKernel } from "../ops/backends/webgpu/conv_gemm.ts";
import { tensor } from "../ops/creation.ts";
import { add, relu } from "../ops/elementwise.ts";
import { getBackend } from "../ops/backend_registry.ts";
import { TensorScope } from "../ops/scopes.ts";
import { matmul } from "../ops/matmul.ts";
import { conv1d, conv1dBackwardData, conv1dBackwardFilter } from "../ops/conv1d.ts";
import { Rng } from "../ops/random.ts";
import { sum } from "../ops/reduce_sum.ts";
import type { Tensor } from "../ops/tensor.ts";

interface Row {
  /** What is measured, e.g. "matmul 256×256×256". */
  name: string;
  /** Work per call for the rate column: FLOPs (matmul) or bytes moved (others). */
  work: number;
  unit: "GFLOP/s" | "GB/s";
  /** Force this webgpu matmul kernel and conv GEMM skeleton (default: the choice for the adapter). */
  kernel?: "tiled" | "register";
  /** Builds inputs on `backend` and returns one call of the kernel. */
  setup(backend: string): (() => Tensor) & Disposable;
}

function randomTensor(shape: number[], backend: string, seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal();
  return tensor(data, shape, { backend });
}

function withInputs(inputs: Tensor[], call: () => Tensor): (() => Tensor) & Disposable {
  return Object.assign(call, { [Symbol.dispose]: () => inputs.forEach((t) => t.dispose()) });
}

function rows(sizes: number[]): Row[] {
  const out: Row[] = [];
  for (const n of sizes) {
    out.push({
      name: `matmul ${n}×${n}×${n}`,
      work: 2 * n * n * n,
      unit: "GFLOP/s",
      setup(backend) {
        const a = randomTensor([n, n], backend, 1), b = randomTensor([n, n], backend, 2);
        return withInputs([a, b], () => matmul(a, b));
      },
    });
  }
  const n = Math.max(...sizes);
  for (const kernel of ["tiled", "register"] as const) {
    out.push({
      name: `matmul ${n}×${n}×${n}, ${kernel} kernel`,
      work: 2 * n * n * n,
      unit: "GFLOP/s",
      kernel,
      setup(backend) {
        const a = randomTensor([n, n], backend, 1), b = randomTensor([n, n], backend, 2);
        return withInputs([a, b], () => matmul(a, b));
      },
    });
  }
  out.push({
    name: `matmul ${n}×${n}×${n}, B transposed`,
    work: 2 * n * n * n,
    unit: "GFLOP/s",
    setup(backend) {
      const a = randomTensor([n, n], backend, 1), b = randomTensor([n, n], backend, 2);
      return withInputs([a, b], () => matmul(a, b, { transB: true }));
    },
  });
  const e = 1 << 20;
  out.push({
    name: `add [1024, 1024] + [1024]`,
    work: 4 * (2 * e + 1024),
    unit: "GB/s",
    setup(backend) {
      const x = randomTensor([1024, 1024], backend, 3), y = randomTensor([1024], backend, 4);
      return withInputs([x, y], () => add(x, y));
    },
  });
  out.push({
    name: `relu [1024, 1024]`,
    work: 4 * 2 * e,
    unit: "GB/s",
    setup(backend) {
      const x = randomTensor([1024, 1024], backend, 5);
      return withInputs([x], () => relu(x));
    },
  });
  out.push({
    name: `sum [1024, 1024] over axis 0`,
    work: 4 * (e + 1024),
    unit: "GB/s",
    setup(backend) {
      const x = randomTensor([1024, 1024], backend, 6);
      return withInputs([x], () => sum(x, 0));
    },
  });
  out.push(...convRows());
  return out;
}

/**
 * conv1d forward, backward-data and backward-filter at a Jasper layer (256 → 256 channels,
 * kernel 11) and a QuartzNet depthwise layer (256 channels, kernel 33), padding same, on
 * [4, 256, 200]. The work column counts the multiply-adds of the direct convolution.
 */
function convRows(): Row[] {
  const [n, c, t] = [4, 256, 200];
  const layers = [
    { label: `${c}→${c}, kernel 11`, k: 11, groups: 1 },
    { label: `depthwise ${c}, kernel 33`, k: 33, groups: c },
  ];
  const out: Row[] = [];
  for (const { label, k, groups } of layers) {
    const work = 2 * n * c * (c / groups) * k * t;
    const options = { padding: "same" as const, groups };
    const shapes = { x: [n, c, t], w: [c, c / groups, k], y: [n, c, t] };
    out.push({
      name: `conv1d [${n}, ${c}, ${t}] ${label}, forward`,
      work,
      unit: "GFLOP/s",
      setup(backend) {
        const x = randomTensor(shapes.x, backend, 21), w = randomTensor(shapes.w, backend, 22);
        return withInputs([x, w], () => conv1d(x, w, null, options));
      },
    });
    if (groups === 1) {
      for (const kernel of ["tiled", "register"] as const) {
        out.push({
          name: `conv1d [${n}, ${c}, ${t}] ${label}, forward, ${kernel} kernel`,
          work,
          unit: "GFLOP/s",
          kernel,
          setup(backend) {
            const x = randomTensor(shapes.x, backend, 21), w = randomTensor(shapes.w, backend, 22);
            return withInputs([x, w], () => conv1d(x, w, null, options));
          },
        });
      }
    }
    out.push({
      name: `conv1d [${n}, ${c}, ${t}] ${label}, backward-data`,
      work,
      unit: "GFLOP/s",
      setup(backend) {
        const dy = randomTensor(shapes.y, backend, 23), w = randomTensor(shapes.w, backend, 22);
        return withInputs([dy, w], () => conv1dBackwardData(dy, w, { ...options, inputLength: t }));
      },
    });
    out.push({
      name: `conv1d [${n}, ${c}, ${t}] ${label}, backward-filter`,
      work,
      unit: "GFLOP/s",
      setup(backend) {
        const x = randomTensor(shapes.x, backend, 21), dy = randomTensor(shapes.y, backend, 23);
        return withInputs([x, dy], () => conv1dBackwardFilter(x, dy, { ...options, kernelSize: k }));
      },
    });
  }
  return out;
}

/**
 * Median seconds per call of `row` on `backend`. Calls are queued in batches and the batch
 * waits for the device once: a single flush costs a fixed round trip (about 10 ms with Deno's
 * WebGPU, which polls the device on a timer) that says nothing about the kernel, and a
 * training step queues many kernels per read anyway. The round trip is its own row.
 */
async function time(row: Row, backend: string, minSeconds: number): Promise<number> {
  const gpu = backend === "webgpu" ? webGpuBackend()! : null;
  const previous = gpu?.matmulKernel ?? "auto";
  const previousConv = setConvGemmKernel(gpu && row.kernel ? row.kernel : "auto");
  if (gpu && row.kernel) gpu.matmulKernel = row.kernel;
  try {
    return await timeCalls(row, backend, minSeconds);
  } finally {
    if (gpu) gpu.matmulKernel = previous;
    setConvGemmKernel(previousConv);
  }
}

async function timeCalls(row: Row, backend: string, minSeconds: number): Promise<number> {
  using call = row.setup(backend);
  const b = getBackend(backend);
  const batch = async (n: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) call().dispose();
    await b.flush();
    return (performance.now() - t0) / 1000;
  };
  await batch(2); // compiles the pipeline
  let n = 1;
  while (n < 4096 && (await batch(n)) < 0.2) n *= 2;
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start < minSeconds * 1000 && samples.length < 50)) {
    samples.push((await batch(n)) / n);
  }
  samples.sort((p, q) => p - q);
  return samples[samples.length >> 1];
}

/** Milliseconds from a flush with one tiny kernel queued to its resolution (median of 20). */
async function roundTripMs(): Promise<number> {
  using x = tensor([1, 2, 3, 4], [4], { backend: "webgpu" });
  const b = getBackend("webgpu");
  const samples: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    relu(x).dispose();
    await b.flush();
    samples.push(performance.now() - t0);
  }
  samples.sort((p, q) => p - q);
  return samples[10];
}

async function main(): Promise<void> {
  const i = Deno.args.indexOf("--sizes");
  const sizes = i >= 0 ? Deno.args[i + 1].split(",").map(Number) : [128, 256, 512];
  const withCpu = !Deno.args.includes("--skip-cpu");
  if (!(await initWebGpu())) {
    console.log("webgpu bench: no adapter, nothing measured");
    return;
  }
  const gpu = webGpuBackend()!;
  console.log(
    `webgpu adapter: ${gpu.adapterDescription} (${gpu.isCpuAdapter ? "CPU adapter" : "GPU"}), ` +
      `matmul kernel: ${
        gpu.matmulKernel === "auto" ? (gpu.isCpuAdapter ? "register" : "tiled") : gpu.matmulKernel
      }`,
  );
  console.log(`flush round trip with one tiny kernel queued: ${(await roundTripMs()).toFixed(2)} ms`);
  console.log("| kernel | webgpu ms | webgpu rate | cpu ms | cpu rate |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of rows(sizes)) {
    const g = await time(row, "webgpu", 2);
    // Forced-kernel rows repeat a cpu figure already printed: skip the cpu there.
    const c = withCpu && !row.kernel ? await time(row, "cpu", 1) : null;
    const rate = (s: number): string => `${(row.work / s / 1e9).toFixed(2)} ${row.unit}`;
    const cpuCells = c === null ? "- | -" : `${(c * 1e3).toFixed(2)} | ${rate(c)}`;
    console.log(`| ${row.name} | ${(g * 1e3).toFixed(2)} | ${rate(g)} | ${cpuCells} |`);
  }
}

if (import.meta.main) await main();

// `deno bench` cases: the same rows at the smallest size set, on webgpu only.
const hasGpu = await initWebGpu({ quiet: true });
for (const row of rows([256])) {
  Deno.bench({
    name: `webgpu ${row.name}`,
    ignore: !hasGpu,
    async fn(b) {
      // Forced-kernel rows run with their kernel here too, as in `time`.
      const gpu = webGpuBackend()!;
      const previous = gpu.matmulKernel;
      const previousConv = setConvGemmKernel(row.kernel ?? "auto");
      if (row.kernel) gpu.matmulKernel = row.kernel;
      try {
        using call = row.setup("webgpu");
        using _scope = new TensorScope();
        b.start();
        call();
        await getBackend("webgpu").flush();
        b.end();
      } finally {
        gpu.matmulKernel = previous;
        setConvGemmKernel(previousConv);
      }
    },
  });
}
