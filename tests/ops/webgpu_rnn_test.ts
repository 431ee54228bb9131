/**
 * The webgpu RNN kernels' own contract (ops/backends/webgpu/rnn.ts), beyond the values the
 * conformance cases check (tests/ops/cases/rnn.ts): the recurrence is T forward and T + 1
 * backward step dispatches with nothing read back to the host, and the weight gradients are
 * the same bits run to run.
 *
 * Without a WebGPU adapter every test is skipped, loudly.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { initWebGpu, type WebGpuBackend, webGpuBackend } from "../../ops/backends/webgpu/mod.ts";
import { gruLayer, lstmLayer, type RnnDirectionWeights } from "../../ops/rnn.ts";
import { randomUniform, zeros } from "../../ops/creation.ts";
import { mul } from "../../ops/elementwise.ts";
import { sum } from "../../ops/reduce_sum.ts";
import { releaseGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { Rng } from "../../ops/random.ts";
import type { Tensor } from "../../ops/tensor.ts";

const hasGpu = await initWebGpu({ quiet: true });
if (!hasGpu) {
  console.warn("webgpu_rnn_test: SKIPPED (no WebGPU adapter): initWebGpu() found none");
}

function gpuTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false, fn });
}

const backend = "webgpu";

function directionWeights(rng: Rng, gates: number, I: number, H: number): RnnDirectionWeights {
  const u = (shape: number[]): Tensor =>
    randomUniform(shape, rng, { low: -0.3, high: 0.3, backend, requiresGrad: true });
  return { wIh: u([gates * H, I]), wHh: u([gates * H, H]), bIh: u([gates * H]), bHh: u([gates * H]) };
}

gpuTest(
  "gruLayer on webgpu runs T step dispatches forward and T + 1 backward, reading nothing back",
  async () => {
    using _scope = new TensorScope();
    const gpu = webGpuBackend() as WebGpuBackend;
    const [T, N, I, H] = [9, 3, 4, 8];
    const rng = new Rng(5);
    const weights = [directionWeights(rng, 3, I, H), directionWeights(rng, 3, I, H)];
    const x = randomUniform([T, N, I], rng, { backend, requiresGrad: true });
    const labels: string[] = [];
    let reads = 0;
    const dispatch = gpu.dispatch, read = gpu.read;
    gpu.dispatch = (pipeline, buffers, options) => {
      labels.push(pipeline.label);
      dispatch.call(gpu, pipeline, buffers, options);
    };
    gpu.read = (...args) => {
      reads++;
      return read.apply(gpu, args);
    };
    try {
      const [y] = gruLayer(x, zeros([2, N, H], { backend }), { weights, lengths: [9, 4, 6] });
      sum(y).backward();
    } finally {
      gpu.dispatch = dispatch;
      gpu.read = read;
    }
    assert.equal(reads, 0, "no read during forward and backward");
    assert.equal(
      labels.filter((l) => l.startsWith("gruLayer|step")).length,
      T,
      "forward: one dispatch per step",
    );
    assert.equal(
      labels.filter((l) => l.startsWith("gruLayerBackward|step")).length,
      T + 1,
      "backward: one dispatch per step, plus dh0",
    );
    assert.ok((await x.grad!.data()).some((v) => v !== 0), "dx reached the input");
    releaseGrad(x);
    for (const w of weights) for (const t of Object.values(w)) releaseGrad(t);
  },
);

gpuTest("lstmLayer weight gradients on webgpu are the same bits run to run", async () => {
  using _scope = new TensorScope();
  const [T, N, I, H] = [12, 4, 5, 68];
  const rng = new Rng(9);
  const weights = [directionWeights(rng, 4, I, H), directionWeights(rng, 4, I, H)];
  const x = randomUniform([T, N, I], rng, { backend });
  const w = randomUniform([T, N, 2 * H], rng, { backend });
  const state: [Tensor, Tensor] = [zeros([2, N, H], { backend }), zeros([2, N, H], { backend })];
  const grads = async (): Promise<Float32Array[]> => {
    const [y] = lstmLayer(x, state, { weights, lengths: [12, 7, 1, 10] });
    sum(mul(y, w)).backward();
    const out: Float32Array[] = [];
    for (const dir of weights) {
      for (const t of [dir.wIh, dir.wHh, dir.bIh, dir.bHh]) {
        out.push(await t.grad!.data() as Float32Array);
        releaseGrad(t);
      }
    }
    return out;
  };
  const first = await grads(), second = await grads();
  first.forEach((g, i) => {
    assert.ok(g.some((v) => v !== 0), `gradient ${i} is not all zeros`);
    assert.deepEqual(second[i], g, `gradient ${i} differs between runs`);
  });
});
