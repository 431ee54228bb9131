/**
 * The webgpu backend's own contract (ops/backends/webgpu/): buffer pool reuse, deterministic
 * release by dispose/using/tidy, reference-counted views, asynchronous reads, and the errors
 * for float64, missing kernels and use after dispose. Op results are checked against the cpu
 * backend here; the op-by-op cases run in tests/ops/conformance_test.ts.
 *
 * Without a WebGPU adapter every GPU test is skipped, loudly.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { initWebGpu, sizeClass, WebGpuBackend, webGpuBackend } from "../../ops/backends/webgpu/mod.ts";
import { collapseAxes } from "../../ops/backends/webgpu/map.ts";
import { tensor } from "../../ops/creation.ts";
import { add, div, mul, pow, relu, sub, tanh, where } from "../../ops/elementwise.ts";
import { assign, noGrad, releaseGrad, runOp } from "../../ops/tape.ts";
import { defineOp, registerKernel } from "../../ops/op_registry.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { TensorScope, tidy } from "../../ops/scopes.ts";
import { matmul } from "../../ops/matmul.ts";
import { Rng } from "../../ops/random.ts";
import { sum } from "../../ops/reduce_sum.ts";
import { reshape } from "../../ops/reshape.ts";
import type { Tensor } from "../../ops/tensor.ts";

const hasGpu = await initWebGpu({ quiet: true });
if (!hasGpu) {
  console.warn(
    "SKIPPED (no WebGPU adapter): webgpu backend tests need navigator.gpu.requestAdapter() to find one " +
      "(on Debian: mesa-vulkan-drivers + libvulkan1 give the llvmpipe adapter)",
  );
}

/** A GPU test: skipped loudly without an adapter; the device outlives tests by design. */
function gpuTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false, fn });
}

const gpu = { backend: "webgpu" } as const;

function randomData(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

function assertAllClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= tol)) assert.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** Runs `f` on the cpu and on webgpu over the same host inputs; returns both results. */
async function onBoth(
  inputs: { data: Float32Array | Int32Array; shape: number[] }[],
  f: (xs: Tensor[]) => Tensor,
): Promise<[Float32Array, Float32Array]> {
  using _scope = new TensorScope();
  const cpu = f(inputs.map((x) => tensor(x.data, x.shape))).dataSync() as Float32Array;
  const webgpu = await f(inputs.map((x) => tensor(x.data, x.shape, gpu))).data() as Float32Array;
  return [webgpu, cpu];
}

Deno.test("sizeClass rounds up to 256 bytes, then to a quarter of the power of two", () => {
  assert.equal(sizeClass(0), 256);
  assert.equal(sizeClass(256), 256);
  assert.equal(sizeClass(257), 320);
  assert.equal(sizeClass(1024), 1024);
  assert.equal(sizeClass(1025), 1280);
  assert.equal(sizeClass(3 * 2 ** 20 + 1), 3.5 * 2 ** 20);
  for (let n = 1; n < 100000; n += 997) {
    const c = sizeClass(n);
    assert.ok(c >= n && c <= Math.max(256, n * 1.25), `class ${c} of ${n}`);
  }
});

gpuTest("initWebGpu registers the webgpu backend and a second call reuses it", async () => {
  const b = webGpuBackend();
  assert.ok(b);
  assert.equal(getBackend("webgpu"), b);
  assert.equal(await initWebGpu(), true);
  assert.equal(webGpuBackend(), b);
  assert.ok(b.adapterDescription.length > 0);
});

gpuTest("data() is asynchronous and returns what was uploaded, for float32 and int32", async () => {
  using x = tensor([1.5, -2, 3e-8, 4e7], [2, 2], gpu);
  using k = tensor([7, -8, 2 ** 30], [3], { ...gpu, dtype: "int32" });
  const pending = x.data();
  assert.ok(pending instanceof Promise);
  assert.deepEqual(await pending, new Float32Array([1.5, -2, 3e-8, 4e7]));
  assert.deepEqual(await k.data(), new Int32Array([7, -8, 2 ** 30]));
  assert.throws(() => x.dataSync(), /no synchronous read/);
});

gpuTest("a read started before dispose still returns the data, and reads may overlap", async () => {
  const x = tensor([1, 2, 3], [3], gpu);
  const y = tensor([4, 5, 6], [3], gpu);
  const [px, py] = [x.data(), y.data()];
  x.dispose();
  y.dispose();
  // The freed buffers go back to the pool and are rewritten before the reads resolve.
  using z = tensor([9, 9, 9], [3], gpu);
  const [dx, dy] = await Promise.all([px, py]);
  assert.deepEqual(dx, new Float32Array([1, 2, 3]));
  assert.deepEqual(dy, new Float32Array([4, 5, 6]));
  assert.deepEqual(await z.data(), new Float32Array([9, 9, 9]));
});

gpuTest("a freed buffer is reused for the next allocation of its size class", async () => {
  const b = webGpuBackend()!;
  b.trimPool();
  const s0 = b.stats();
  const x = tensor(new Float32Array(1000), [1000], gpu);
  const s1 = b.stats();
  assert.equal(s1.buffersCreated, s0.buffersCreated + 1);
  x.dispose();
  assert.equal(b.stats().bytesPooled, sizeClass(4000));
  // 990 floats fall in the same class as 1000: no new buffer.
  using y = tensor(new Float32Array(990).fill(2), [990], gpu);
  const s2 = b.stats();
  assert.equal(s2.buffersCreated, s1.buffersCreated);
  assert.equal(s2.buffersReused, s1.buffersReused + 1);
  assert.equal(s2.bytesPooled, 0);
  assert.equal((await y.data())[989], 2);
  b.trimPool();
  assert.equal(b.stats().bytesPooled, 0);
});

gpuTest("using, TensorScope and tidy return every buffer to the pool", () => {
  const b = webGpuBackend()!;
  const before = b.bytesInUse();
  {
    using x = tensor(new Float32Array(4096), [64, 64], gpu);
    assert.equal(b.bytesInUse(), before + sizeClass(4 * 4096));
    assert.equal(x.isDisposed, false);
  }
  assert.equal(b.bytesInUse(), before);
  {
    using _scope = new TensorScope();
    const x = tensor(randomData(64, 1), [8, 8], gpu);
    relu(add(matmul(x, x), 1));
    assert.ok(b.bytesInUse() > before);
  }
  assert.equal(b.bytesInUse(), before);
  const kept = tidy(() => sum(mul(tensor([1, 2], [2], gpu), 3)));
  assert.equal(b.bytesInUse(), before + sizeClass(4));
  kept.dispose();
  assert.equal(b.bytesInUse(), before);
});

gpuTest("a reshape view shares the buffer and keeps it alive until both are disposed", async () => {
  const b = webGpuBackend()!;
  const before = b.bytesInUse();
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], gpu);
  const v = reshape(x, [3, 2]);
  assert.equal(b.bytesInUse(), before + 256, "one buffer, two references");
  x.dispose();
  assert.deepEqual(await v.data(), new Float32Array([1, 2, 3, 4, 5, 6]));
  assert.equal(b.bytesInUse(), before + 256);
  v.dispose();
  assert.equal(b.bytesInUse(), before);
});

gpuTest("use after dispose and a double free are errors", async () => {
  const b = webGpuBackend()!;
  const x = tensor([1, 2], [2], gpu);
  const storage = x.storage;
  x.dispose();
  assert.throws(() => x.data(), /used after dispose/);
  assert.throws(() => relu(x), /used after dispose/);
  await assert.rejects(b.read(storage, "float32", 2), /already freed/);
  assert.throws(() => b.free(storage, "float32", 2), /already freed/);
});

gpuTest("disposing a backend destroys its buffers and device and refuses further work", async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const b = new WebGpuBackend(await adapter!.requestDevice(), { name: "webgpu-disposable" });
  const kept = b.upload(new Float32Array([1, 2, 3]));
  const pooled = b.upload(new Float32Array(100));
  b.free(pooled, "float32", 100);
  assert.deepEqual(await b.read(kept, "float32", 3), new Float32Array([1, 2, 3]));
  assert.equal(b.stats().bytesPooled, sizeClass(400));
  b[Symbol.dispose]();
  assert.equal(b.isDisposed, true);
  assert.equal(b.stats().bytesPooled, 0);
  assert.throws(() => b.upload(new Float32Array(1)), /after the backend was disposed/);
  await assert.rejects(b.read(kept, "float32", 3), /after the backend was disposed/);
  b.free(kept, "float32", 3); // late frees of live tensors are still accepted
  assert.equal(b.bytesInUse(), 0);
});

gpuTest("a shader error surfaces as a rejected flush naming the kernel", async () => {
  const b = webGpuBackend()!;
  const p = b.pipeline(
    "test|broken",
    ["uniform"],
    () => "@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }",
  );
  b.dispatch(p, [], { meta: new Uint32Array(1), workgroups: [1, 1, 1] });
  await assert.rejects(b.flush(), /GPU error reported before this flush:.*test\|broken/s);
  await b.flush(); // the error was reported once
});

gpuTest("a tensor larger than the device can bind is refused up front", () => {
  const b = webGpuBackend()!;
  const limit = Math.min(b.device.limits.maxStorageBufferBindingSize, b.device.limits.maxBufferSize);
  assert.throws(() => b.alloc("float32", limit / 4 + 1), /exceeds the largest buffer/);
});

gpuTest("float64 cannot be uploaded or allocated on webgpu, and says why", () => {
  assert.throws(() => tensor(new Float64Array(3), [3], gpu), /float64.*WGSL has no f64/);
  assert.throws(() => webGpuBackend()!.alloc("float64", 3), /float64/);
});

gpuTest("an op without a webgpu kernel fails naming the op and the backend", () => {
  const op = defineOp<Record<string, never>>({
    name: "webgpuTestCpuOnly",
    outputs: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
  });
  registerKernel("webgpuTestCpuOnly", "cpu", ({ inputs, backend }) => [backend.retain(inputs[0].storage)]);
  using c = runOp(op, [tensor([1], [1])], {})[0];
  assert.equal(c.size, 1);
  using x = tensor([1], [1], gpu);
  assert.throws(() => runOp(op, [x], {}), /Op "webgpuTestCpuOnly" has no kernel on backend "webgpu"/);
});

gpuTest("mixing cpu and webgpu tensors in one op is an error", () => {
  using a = tensor([1], [1]);
  using b = tensor([1], [1], gpu);
  assert.throws(() => add(a, b), /different backends/);
});

gpuTest("add and relu broadcast like the cpu backend", async () => {
  const x = { data: randomData(2 * 3 * 5, 2), shape: [2, 3, 5] };
  const y = { data: randomData(3 * 1, 3), shape: [3, 1] };
  const [g, c] = await onBoth([x, y], ([a, b]) => relu(add(a, b)));
  assertAllClose(g, c, 1e-6, "relu(x + y)");
});

gpuTest("pow and tanh follow JavaScript's Math at the edges, like the cpu kernel", async () => {
  const x = { data: new Float32Array([0, -2, -2, 2, -0.5, 3]), shape: [6] };
  const y = { data: new Float32Array([0, 3, 2, 0.5, 0, -1]), shape: [6] };
  const [g, c] = await onBoth([x, y], ([p, q]) => pow(p, q));
  assertAllClose(g, c, 1e-6, "pow");
  // The edges exactly as Math.pow has them (0^0, a negative base with an integer exponent, x^0);
  // 3^-1, an ordinary value, within the cpu kernel's stated 2 ulp (its WASM pow is exp(y·log x)).
  assert.deepEqual([...c.slice(0, 5)], [1, -8, 4, Math.SQRT2, 1].map(Math.fround));
  assert.ok(Math.abs(c[5] - 1 / 3) <= 2 * 2 ** -25, `3^-1 = ${c[5]}`);
  const [gt, ct] = await onBoth(
    [{ data: new Float32Array([-100, -20, 0.3, 20, 100]), shape: [5] }],
    ([p]) => tanh(p),
  );
  assertAllClose(gt, ct, 1e-6, "tanh");
});

gpuTest("where takes an int32 mask and an int32 output is truncated like the cpu", async () => {
  const mask = { data: new Int32Array([1, 0, 1, 0, 0, 1]), shape: [2, 3] };
  const x = { data: randomData(6, 4), shape: [2, 3] };
  const [g, c] = await onBoth([mask, x], ([m, a]) => where(m, a, 0));
  assertAllClose(g, c, 1e-6, "where");
  using k = tensor([5, -7, 9], [3], { ...gpu, dtype: "int32" });
  using two = tensor([2, 2, 2], [3], { ...gpu, dtype: "int32" });
  using half = div(k, two);
  using r = relu(k);
  assert.equal(r.dtype, "int32");
  assert.deepEqual(await r.data(), new Int32Array([5, 0, 9]));
  assert.deepEqual(await half.data(), new Int32Array([2, -3, 4]), "2.5, -3.5 and 4.5 truncated toward zero");
  using kc = tensor([5, -7, 9], [3], { dtype: "int32" });
  using halfCpu = div(kc, tensor([2, 2, 2], [3], { dtype: "int32" }));
  assert.deepEqual(halfCpu.dataSync(), new Int32Array([2, -3, 4]), "the cpu truncates the same way");
});

gpuTest("sum reduces short and long axes like the cpu backend", async () => {
  const x = { data: randomData(7 * 300 * 3, 5), shape: [7, 300, 3] };
  for (const axes of [[1], [0, 1], [2], [0, 2], [0, 1, 2]]) {
    const [g, c] = await onBoth([x], ([a]) => sum(a, axes));
    assertAllClose(g, c, 1e-4, `sum over [${axes}]`);
  }
  // 260 column sums of 300 rows: one invocation per column (the bias-gradient shape).
  const [g, c] = await onBoth([{ data: randomData(300 * 260, 14), shape: [300, 260] }], ([a]) => sum(a, 0));
  assertAllClose(g, c, 1e-4, "column sums");
  // Long reductions into few outputs run in parts, then the parts are summed.
  const long = { data: randomData(3 * 70000, 15), shape: [3, 70000] };
  const before = webGpuBackend()!.bytesInUse();
  for (const axes of [[1], [0, 1]]) {
    const [gl, cl] = await onBoth([long], ([a]) => sum(a, axes));
    assertAllClose(gl, cl, 1e-4, `long sum over [${axes}]`);
  }
  assert.equal(webGpuBackend()!.bytesInUse(), before, "the partial sums went back to the pool");
  const k = { data: Int32Array.from({ length: 1000 }, (_, i) => i - 300), shape: [10, 100] };
  using t = tensor(k.data, k.shape, { ...gpu, dtype: "int32" });
  using s = sum(t, 1);
  assert.deepEqual(await s.data(), Int32Array.from({ length: 10 }, (_, r) => 100 * (100 * r - 300) + 4950));
});

for (const kernel of ["tiled", "register"] as const) {
  gpuTest(`${kernel} matmul matches the cpu for every transpose and ragged edges`, async () => {
    const b = webGpuBackend()!;
    b.matmulKernel = kernel;
    try {
      for (const [m, k, n] of [[67, 45, 70], [37, 44, 72], [5, 8, 4]]) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const x = { data: randomData(m * k, 6), shape: transA ? [k, m] : [m, k] };
            const y = { data: randomData(k * n, 7), shape: transB ? [n, k] : [k, n] };
            const [g, c] = await onBoth([x, y], ([p, q]) => matmul(p, q, { transA, transB }));
            assertAllClose(
              g,
              c,
              1e-4,
              `${kernel} matmul [${m}, ${k}, ${n}] transA=${transA} transB=${transB}`,
            );
          }
        }
      }
      if (kernel === "register") {
        // [37, 44, 72] fits both vec4 layouts: the register kernels really ran.
        assert.ok(b.pipelineKeys().includes("matmul|f32|f32|NN|register"));
        assert.ok(b.pipelineKeys().includes("matmul|f32|f32|NT|register"));
        assert.ok(b.pipelineKeys().includes("matmul|f32|f32|TN|register"));
      }
    } finally {
      b.matmulKernel = "auto";
    }
  });

  gpuTest(`${kernel} batched matmul broadcasts batch axes like the cpu`, async () => {
    const b = webGpuBackend()!;
    b.matmulKernel = kernel;
    try {
      const x = { data: randomData(3 * 1 * 5 * 4, 8), shape: [3, 1, 5, 4] };
      const y = { data: randomData(2 * 4 * 8, 9), shape: [2, 4, 8] };
      const [g, c] = await onBoth([x, y], ([p, q]) => matmul(p, q));
      assertAllClose(g, c, 1e-5, "batched matmul");
      const [g2, c2] = await onBoth([x], ([p]) => matmul(p, p, { transB: true }));
      assertAllClose(g2, c2, 1e-5, "x·xᵀ");
    } finally {
      b.matmulKernel = "auto";
    }
  });
}

gpuTest("gradients of a small layer computed on webgpu match the cpu", async () => {
  const xs = randomData(4 * 6, 10), ws = randomData(6 * 3, 11), bs = randomData(3, 12);
  const grads = async (backend: string): Promise<Float32Array[]> => {
    using _scope = new TensorScope();
    const x = tensor(xs, [4, 6], { backend, requiresGrad: true });
    const w = tensor(ws, [6, 3], { backend, requiresGrad: true });
    const b = tensor(bs, [3], { backend, requiresGrad: true });
    sum(relu(add(matmul(x, w), b))).backward();
    const out = [await x.grad!.data(), await w.grad!.data(), await b.grad!.data()] as Float32Array[];
    for (const t of [x, w, b]) t.grad!.dispose();
    return out;
  };
  const before = webGpuBackend()!.bytesInUse();
  const [g, c] = [await grads("webgpu"), await grads("cpu")];
  ["x", "w", "b"].forEach((name, i) => assertAllClose(g[i], c[i], 1e-5, `d/d${name}`));
  assert.equal(webGpuBackend()!.bytesInUse(), before, "backward released everything on webgpu");
});

gpuTest("SGD on webgpu lowers the loss, reads only the loss and holds memory steady", async () => {
  const b = webGpuBackend()!;
  const before = b.bytesInUse();
  const x = tensor(randomData(32 * 8, 16), [32, 8], gpu);
  const y = tidy(() => matmul(x, tensor(randomData(8, 17), [8, 1], gpu)));
  const w = tensor(new Float32Array(8), [8, 1], { ...gpu, requiresGrad: true });
  const losses: number[] = [];
  const held: number[] = [];
  for (let step = 0; step < 30; step++) {
    using _scope = new TensorScope();
    const d = sub(matmul(x, w), y);
    const loss = div(sum(mul(d, d)), 32);
    loss.backward();
    noGrad(() => assign(w, sub(w, mul(w.grad!, 0.2))));
    releaseGrad(w);
    if (step % 10 === 0 || step === 29) losses.push(await loss.item());
    held.push(b.bytesInUse());
  }
  for (let i = 1; i < losses.length; i++) assert.ok(losses[i] < losses[i - 1], `losses ${losses}`);
  assert.ok(losses[losses.length - 1] < 0.01 * losses[0], `losses ${losses}`);
  assert.ok(held.every((h) => h === held[0]), `bytes in use per step: ${held}`);
  for (const t of [x, y, w]) t.dispose();
  assert.equal(b.bytesInUse(), before);
});

gpuTest("flush resolves once queued work is done", async () => {
  using a = tensor(randomData(128 * 128, 13), [128, 128], gpu);
  using c = matmul(a, a);
  await webGpuBackend()!.flush();
  assert.equal(c.shape.join(), "128,128");
});

Deno.test("collapseAxes merges axes that every input walks contiguously", () => {
  // [2, 3, 4] + [4]: the two outer axes merge; the row input keeps stride 0 there.
  assert.deepEqual(collapseAxes([2, 3, 4], [[12, 4, 1], [0, 0, 1]]), {
    extents: [6, 4],
    strides: [[4, 1], [0, 1]],
  });
  // A column [3, 1] against [3, 4] cannot merge; unit axes vanish.
  assert.deepEqual(collapseAxes([1, 3, 4], [[0, 1, 0], [0, 4, 1]]), {
    extents: [3, 4],
    strides: [[1, 0], [4, 1]],
  });
  assert.deepEqual(collapseAxes([1, 1], [[0, 0]]), { extents: [], strides: [[]] });
});
