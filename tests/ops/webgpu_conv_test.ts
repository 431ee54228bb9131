/**
 * The webgpu convolution kernels beyond what the conformance table checks with the adapter's
 * own choice: every conv case of tests/ops/cases/conv.ts with each GEMM skeleton forced
 * ("tiled" with workgroup memory, as GPUs get; "register", as CPU adapters get), so both are
 * verified on whatever adapter runs the tests; again with the grid capped so that column
 * blocks continue in extra z slices; and the weight gradient's determinism.
 *
 * Without a WebGPU adapter every test is skipped, loudly.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { initWebGpu, webGpuBackend } from "../../ops/backends/webgpu/mod.ts";
import { setConvGemmKernel, setConvGridLimit } from "../../ops/backends/webgpu/conv_gemm.ts";
import { conv1dBackwardFilter } from "../../ops/conv1d.ts";
import { tensor } from "../../ops/creation.ts";
import { Rng } from "../../ops/random.ts";
import { cases } from "./cases/conv.ts";
import { runCase } from "./conformance/harness.ts";

const hasGpu = await initWebGpu({ quiet: true });
if (!hasGpu) {
  console.warn(
    "SKIPPED (no WebGPU adapter): webgpu conv tests need navigator.gpu.requestAdapter() to find one " +
      "(on Debian: mesa-vulkan-drivers + libvulkan1 give the llvmpipe adapter)",
  );
}

/** A GPU test: skipped loudly without an adapter; the device outlives tests by design. */
function gpuTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false, fn });
}

for (const kernel of ["tiled", "register"] as const) {
  gpuTest(`every conv case passes on webgpu with the ${kernel} implicit-GEMM kernel forced`, async () => {
    const previous = setConvGemmKernel(kernel);
    try {
      for (const c of cases) {
        const outcome = await runCase(c, { backend: "webgpu", dtype: "float32" });
        assert.equal(outcome.status, "passed", `${c.name}: ${outcome.status} (${outcome.missingOp})`);
      }
    } finally {
      setConvGemmKernel(previous);
    }
    const keys = webGpuBackend()!.pipelineKeys();
    for (const direction of ["forward", "backwardData", "backwardFilter"]) {
      assert.ok(
        keys.some((k) => k.startsWith(`conv|gemm|${direction}|${kernel}`)),
        `no ${kernel} ${direction} pipeline was compiled`,
      );
      assert.ok(keys.some((k) => k.startsWith(`conv|depthwise|${direction}`)), `no depthwise ${direction}`);
    }
  });
}

gpuTest("conv1dBackwardFilter() on webgpu gives bit-identical weight gradients on every run", async () => {
  const rng = new Rng(31);
  const normal = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
  const options = { padding: "same" as const, kernelSize: 11 };
  const depthwise = { padding: "same" as const, kernelSize: 33, groups: 64 };
  using x = tensor(normal(4 * 64 * 150), [4, 64, 150], { backend: "webgpu" });
  using dy = tensor(normal(4 * 32 * 150), [4, 32, 150], { backend: "webgpu" });
  using dyDepthwise = tensor(normal(4 * 64 * 150), [4, 64, 150], { backend: "webgpu" });
  for (const kernel of ["tiled", "register"] as const) {
    const previous = setConvGemmKernel(kernel);
    try {
      const runs: Float32Array[] = [];
      const depthwiseRuns: Float32Array[] = [];
      for (let i = 0; i < 3; i++) {
        using dw = conv1dBackwardFilter(x, dy, options);
        runs.push(await dw.data() as Float32Array);
        using dwd = conv1dBackwardFilter(x, dyDepthwise, depthwise);
        depthwiseRuns.push(await dwd.data() as Float32Array);
      }
      assert.deepEqual(runs[1], runs[0], `${kernel} GEMM weight gradient changed between runs`);
      assert.deepEqual(runs[2], runs[0], `${kernel} GEMM weight gradient changed between runs`);
      assert.deepEqual(depthwiseRuns[1], depthwiseRuns[0], "depthwise weight gradient changed between runs");
      assert.deepEqual(depthwiseRuns[2], depthwiseRuns[0], "depthwise weight gradient changed between runs");
    } finally {
      setConvGemmKernel(previous);
    }
  }
});

gpuTest("every conv case passes on webgpu when column blocks overflow into further grid slices", async () => {
  // With at most 2 column blocks per grid row, most cases' GEMMs continue in extra z slices,
  // as GEMMs of over 65535 blocks (2M output positions) do on real devices.
  const previousLimit = setConvGridLimit(2);
  try {
    for (const kernel of ["tiled", "register"] as const) {
      const previous = setConvGemmKernel(kernel);
      try {
        for (const c of cases) {
          const outcome = await runCase(c, { backend: "webgpu", dtype: "float32" });
          assert.equal(outcome.status, "passed", `${kernel}, ${c.name}: ${outcome.status}`);
        }
      } finally {
        setConvGemmKernel(previous);
      }
    }
  } finally {
    setConvGridLimit(previousLimit);
  }
});
