/**
 * The cuda backend on a real device: the caching allocator (reuse, peak, emptyCache), reads,
 * views, and each kernel family against the cpu backend (map with broadcasting and NaN, the
 * reductions, the softmax family, matmul in f32, TF32 and bf16, cuDNN convolutions with
 * asymmetric padding and groups, the layout ops, the sequence mask, gather, batch norm with
 * lengths, CTC, GRU and LSTM layers). The op-by-op cases with
 * finite differences run in tests/ops/conformance_test.ts, which picks up ops/backends/cuda/.
 *
 * Without a CUDA device (libcuda.so.1 absent, or cuInit failing) every test is skipped, loudly,
 * with the backend's own reason.
 */
import assert from "node:assert/strict";
import "../../../ops/backends/cpu/mod.ts";
import { emulatedCudaReason } from "./emulator/emulator.ts";
import { type CudaBackend, initCuda, probeCuda } from "../../../ops/backends/cuda/mod.ts";
import { listBackends, setBackend } from "../../../ops/backends/mod.ts";
import { getBackend, setDefaultBackend } from "../../../ops/backend_registry.ts";
import { concat } from "../../../ops/concat.ts";
import { conv1d } from "../../../ops/conv1d.ts";
import { conv2d } from "../../../ops/conv2d.ts";
import { batchNorm } from "../../../ops/batch_norm.ts";
import { ctcLoss } from "../../../ops/ctc_loss.ts";
import { gather } from "../../../ops/gather.ts";
import { gruLayer, lstmLayer } from "../../../ops/rnn.ts";
import { tensor } from "../../../ops/creation.ts";
import { add, mul, relu, sigmoid, where } from "../../../ops/elementwise.ts";
import { sequenceMask } from "../../../ops/masks.ts";
import { matmul } from "../../../ops/matmul.ts";
import { pad } from "../../../ops/pad.ts";
import { permute } from "../../../ops/permute.ts";
import { Rng } from "../../../ops/random.ts";
import { logSoftmax, logsumexp, max, softmax } from "../../../ops/reduce.ts";
import { sum } from "../../../ops/reduce_sum.ts";
import { reshape } from "../../../ops/reshape.ts";
import { slice } from "../../../ops/slice.ts";
import type { Tensor } from "../../../ops/tensor.ts";

// DENO_CTC_CUDA_EMULATE=1 runs these tests on the host emulation (tests/ops/cuda/emulator/).
const isEmulated = Deno.env.get("DENO_CTC_CUDA_EMULATE") === "1";
const reason = isEmulated ? emulatedCudaReason() : await probeCuda();
if (reason !== null) console.warn(`SKIPPED (no CUDA device): ${reason}`);
const hasDevice = reason === null;

/** A device test; `onEmulator: false` for what the emulation cannot stand in for. */
function deviceTest(name: string, fn: () => void | Promise<void>, { onEmulator = true } = {}): void {
  const ignore = !hasDevice || (isEmulated && !onEmulator);
  Deno.test({ name, ignore, sanitizeOps: false, sanitizeResources: false, fn });
}

const cuda = (): CudaBackend => getBackend("cuda") as CudaBackend;

/** Runs `f` on copies of `inputs` on cpu and on cuda and compares the results. */
async function matchesCpu(
  inputs: { data: Float32Array | Int32Array; shape: number[] }[],
  f: (xs: Tensor[]) => Tensor,
  tolerance = 1e-5,
): Promise<void> {
  const run = async (backend: string) => {
    const xs = inputs.map((i) => tensor(i.data, i.shape, { backend }));
    const y = f(xs);
    const out = { shape: y.shape, data: await y.data() };
    y.dispose();
    xs.forEach((x) => x.dispose());
    return out;
  };
  const want = await run("cpu"), got = await run("cuda");
  assert.deepEqual(got.shape, want.shape);
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i], g = got.data[i];
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), `element ${i}: want NaN, got ${g}`);
    else {assert.ok(
        Math.abs(w - g) <= tolerance * Math.max(1, Math.abs(w)),
        `element ${i}: want ${w}, got ${g}`,
      );}
  }
}

function normal(shape: number[], seed: number): { data: Float32Array; shape: number[] } {
  const rng = new Rng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, shape };
}

deviceTest("listBackends reports the device and setBackend selects it", async () => {
  const info = (await listBackends()).find((b) => b.name === "cuda")!;
  assert.ok(info.isAvailable && /sm_\d+/.test(info.description), info.description);
  await setBackend("cuda");
  const t = tensor([1, 2, 3], [3]);
  assert.equal(t.backend.name, "cuda");
  assert.deepEqual([...await t.data()], [1, 2, 3]);
  t.dispose();
  setDefaultBackend("cpu");
}, { onEmulator: false }); // on the emulation the probe would open a second backend, on NVRTC

deviceTest("the caching allocator reuses freed blocks, tracks the peak and empties its cache", async () => {
  const b = cuda();
  b.emptyCache();
  b.resetPeak();
  const before = b.memoryStats();
  const a = tensor(new Float32Array(1000).fill(3), [1000], { backend: "cuda" });
  a.dispose();
  const again = tensor(new Float32Array(1000).fill(4), [1000], { backend: "cuda" });
  const stats = b.memoryStats();
  assert.equal(stats.blocksReused, before.blocksReused + 1, "the freed block is reused");
  assert.ok(stats.peakBytesInUse >= 4096);
  assert.deepEqual([...(await again.data()).slice(0, 2)], [4, 4]);
  const view = reshape(again, [10, 100]);
  again.dispose();
  assert.equal((await view.data())[999], 4, "a view keeps the block alive");
  view.dispose();
  assert.ok(b.memoryStats().bytesCached > 0);
  b.emptyCache();
  assert.equal(b.memoryStats().bytesCached, 0);
  assert.equal(b.bytesInUse(), before.bytesInUse);
});

deviceTest("map matches the cpu with broadcasting, NaN and int32 masks", async () => {
  const x = normal([4, 5, 6], 1), y = normal([5, 1], 2);
  await matchesCpu([x, y], ([a, b]) => add(a, b));
  await matchesCpu([x, y], ([a, b]) => mul(sigmoid(a), b), 1e-5);
  const withNan = { data: new Float32Array([1, NaN, -2, 0]), shape: [4] };
  await matchesCpu([withNan], ([a]) => relu(a));
  const mask = { data: new Int32Array([1, 0, 0, 1]), shape: [4] };
  await matchesCpu(
    [mask, withNan, { data: new Float32Array([9]), shape: [] }],
    ([c, a, b]) => where(c, a, b),
  );
});

deviceTest("sum, max and logsumexp match the cpu over any axes", async () => {
  const x = normal([3, 70, 5, 4], 3);
  for (const axes of [[0], [1], [3], [0, 2], [1, 3], [0, 1, 2, 3]]) {
    await matchesCpu([x], ([a]) => sum(a, axes), 1e-4);
    await matchesCpu([x], ([a]) => max(a, axes));
    await matchesCpu([x], ([a]) => logsumexp(a, axes), 1e-5);
  }
  const ints = { data: new Int32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] };
  await matchesCpu([ints], ([a]) => sum(a, 1));
});

deviceTest("softmax, logSoftmax and their gradients match the cpu", async () => {
  const x = normal([6, 29, 3], 4);
  for (const axis of [0, 1, 2]) {
    await matchesCpu([x], ([a]) => softmax(a, axis));
    await matchesCpu([x], ([a]) => logSoftmax(a, axis));
  }
  const g = normal([6, 29, 3], 5);
  for (const f of [(t: Tensor) => softmax(t, 1), (t: Tensor) => logSoftmax(t, 1)]) {
    const grad = async (backend: string) => {
      const xt = tensor(x.data, x.shape, { backend, requiresGrad: true });
      sum(mul(f(xt), tensor(g.data, g.shape, { backend }))).backward();
      return await xt.grad!.data();
    };
    const [want, got] = [await grad("cpu"), await grad("cuda")];
    want.forEach((w, i) =>
      assert.ok(Math.abs(w - got[i]) <= 1e-5 * Math.max(1, Math.abs(w)), `element ${i}`)
    );
  }
});

deviceTest(
  "matmul matches the cpu with transposes and batch broadcasting, in f32, TF32 and bf16",
  async () => {
    const b = cuda();
    const a = normal([2, 3, 64, 48], 6), w = normal([3, 40, 48], 7), w2 = normal([48, 40], 8);
    b.allowTf32 = false;
    try {
      await matchesCpu([a, w], ([p, q]) => matmul(p, q, { transB: true }), 1e-4);
      await matchesCpu([a, w2], ([p, q]) => matmul(p, q), 1e-4);
      await matchesCpu([w2, a], ([q, p]) => matmul(q, p, { transA: true, transB: true }), 1e-4);
      b.allowTf32 = true;
      await matchesCpu([a, w2], ([p, q]) => matmul(p, q), 5e-3 * 48);
      if (!isEmulated) { // bf16 conversion is inline PTX, and the emulated cuBLAS takes f32 only
        b.precision = "bf16";
        await matchesCpu([a, w2], ([p, q]) => matmul(p, q), 2e-2 * 48);
      }
    } finally {
      b.precision = "f32";
      b.allowTf32 = true;
    }
  },
);

deviceTest(
  "cuDNN convolutions match the cpu forward, with asymmetric padding, stride, dilation and groups",
  async () => {
    const b = cuda();
    b.allowTf32 = false;
    try {
      const x = normal([2, 8, 37], 9), w = normal([8, 8, 4], 10), bias = normal([8], 11);
      await matchesCpu([x, w, bias], ([p, q, r]) => conv1d(p, q, r, { padding: "same" }), 1e-4);
      await matchesCpu([x, w], ([p, q]) => conv1d(p, q, null, { stride: 2, dilation: 2, padding: 3 }), 1e-4);
      const dw = normal([8, 1, 5], 12);
      await matchesCpu([x, dw], ([p, q]) => conv1d(p, q, null, { padding: "same", groups: 8 }), 1e-4);
      const x2 = normal([2, 3, 9, 11], 13), w2 = normal([4, 3, 3, 3], 14);
      await matchesCpu([x2, w2], ([p, q]) => conv2d(p, q, null, { stride: [2, 1], padding: 1 }), 1e-4);
    } finally {
      b.allowTf32 = true;
    }
  },
);

deviceTest("cuDNN convolution gradients match the cpu", async () => {
  const b = cuda();
  b.allowTf32 = false;
  try {
    const x = normal([2, 6, 21], 15), w = normal([6, 3, 4], 16), g = normal([2, 6, 21], 17);
    const grads = async (backend: string) => {
      const xt = tensor(x.data, x.shape, { backend, requiresGrad: true });
      const wt = tensor(w.data, w.shape, { backend, requiresGrad: true });
      const gt = tensor(g.data, g.shape, { backend });
      sum(mul(conv1d(xt, wt, null, { padding: "same", groups: 2 }), gt)).backward();
      return [await xt.grad!.data(), await wt.grad!.data()];
    };
    const [want, got] = [await grads("cpu"), await grads("cuda")];
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < want[k].length; i++) {
        assert.ok(
          Math.abs(want[k][i] - got[k][i]) <= 1e-4 * Math.max(1, Math.abs(want[k][i])),
          `grad ${k} element ${i}`,
        );
      }
    }
  } finally {
    b.allowTf32 = true;
  }
});

deviceTest("permute, slice, pad, concat and sequenceMask match the cpu", async () => {
  const x = normal([3, 4, 5], 18), y = normal([3, 2, 5], 19);
  await matchesCpu([x], ([a]) => permute(a, [2, 0, 1]));
  await matchesCpu([x], ([a]) => slice(a, [null, { start: 1, end: 4, step: 2 }, { start: -3 }]));
  await matchesCpu([x], ([a]) => pad(a, [2, -1, 0, 3], { value: -7 }));
  await matchesCpu([x, y], ([a, b]) => concat([a, b], 1));
  await matchesCpu([{ data: new Int32Array([3, 0, 5]), shape: [3] }], ([l]) => sequenceMask(l, 6));
});

deviceTest("gather and its scatter-add match the cpu", async () => {
  const x = normal([4, 7], 20);
  const index = { data: new Int32Array([0, 6, 6, 1, 2, 3, 5, 5]), shape: [4, 2] };
  await matchesCpu([x, index], ([a, i]) => gather(a, 1, i));
  const g = normal([4, 2], 21);
  const grad = async (backend: string) => {
    const xt = tensor(x.data, x.shape, { backend, requiresGrad: true });
    sum(
      mul(gather(xt, 1, tensor(index.data, index.shape, { backend })), tensor(g.data, g.shape, { backend })),
    )
      .backward();
    return await xt.grad!.data();
  };
  const [want, got] = [await grad("cpu"), await grad("cuda")];
  want.forEach((w, i) => assert.ok(Math.abs(w - got[i]) <= 1e-6, `element ${i}`));
});

deviceTest("batchNorm with lengths matches the cpu: outputs, running statistics and gradients", async () => {
  const x = normal([3, 4, 9], 22), w = normal([4], 23), b = normal([4], 24), g = normal([3, 4, 9], 25);
  const run = async (backend: string) => {
    const xt = tensor(x.data, x.shape, { backend, requiresGrad: true });
    const wt = tensor(w.data, w.shape, { backend, requiresGrad: true });
    const rm = tensor(new Float32Array(4), [4], { backend });
    const rv = tensor(new Float32Array(4).fill(1), [4], { backend });
    const y = batchNorm(xt, rm, rv, wt, tensor(b.data, b.shape, { backend }), {
      training: true,
      momentum: 0.1,
      eps: 1e-3,
      lengths: [9, 5, 1],
    });
    sum(mul(y, tensor(g.data, g.shape, { backend }))).backward();
    return [await y.data(), await rm.data(), await rv.data(), await xt.grad!.data(), await wt.grad!.data()];
  };
  const [want, got] = [await run("cpu"), await run("cuda")];
  want.forEach((arr, k) =>
    arr.forEach((v, i) =>
      assert.ok(Math.abs(v - got[k][i]) <= 1e-4 * Math.max(1, Math.abs(v)), `output ${k} element ${i}`)
    )
  );
});

deviceTest("ctcLoss matches the cpu: losses and gradients, with zeroInfinity", async () => {
  const logits = normal([12, 3, 6], 26);
  const targets = [1, 2, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5];
  const run = async (backend: string) => {
    const x = tensor(logits.data, logits.shape, { backend, requiresGrad: true });
    const loss = ctcLoss(logSoftmax(x, 2), targets, [12, 9, 4], [3, 2, 7], {
      reduction: "none",
      zeroInfinity: true,
    });
    sum(loss).backward();
    return [await loss.data(), await x.grad!.data()];
  };
  const [want, got] = [await run("cpu"), await run("cuda")];
  assert.equal(want[0][2], 0, "the third sample is infeasible (7 labels in 4 frames): zeroed");
  want.forEach((arr, k) =>
    arr.forEach((v, i) =>
      assert.ok(Math.abs(v - got[k][i]) <= 1e-4 * Math.max(1, Math.abs(v)), `output ${k} element ${i}`)
    )
  );
});

deviceTest("bidirectional GRU and LSTM layers with lengths match the cpu, forward and backward", async () => {
  const T = 7, N = 3, I = 5, H = 4;
  const lengths = [7, 4, 1];
  cuda().allowTf32 = false; // the step GEMMs compound TF32's 1e-3 rounding over the sequence
  for (const kind of ["gru", "lstm"] as const) {
    const G = (kind === "gru" ? 3 : 4) * H;
    const host = [0, 1].map((d) =>
      [[G, I], [G, H], [G], [G]].map((shape, i) => normal(shape, 30 + 4 * d + i))
    );
    const x = normal([T, N, I], 40), h0 = normal([2, N, H], 41), c0 = normal([2, N, H], 42);
    const g = normal([T, N, 2 * H], 43);
    const run = async (backend: string) => {
      const leaf = (v: { data: Float32Array; shape: number[] }) =>
        tensor(v.data, v.shape, { backend, requiresGrad: true });
      const xt = leaf(x), ht = leaf(h0), ct = leaf(c0);
      const weights = host.map(([wIh, wHh, bIh, bHh]) => ({
        wIh: leaf(wIh),
        wHh: leaf(wHh),
        bIh: leaf(bIh),
        bHh: leaf(bHh),
      }));
      const [y, hN] = kind === "gru"
        ? gruLayer(xt, ht, { weights, lengths })
        : lstmLayer(xt, [ht, ct], { weights, lengths });
      add(sum(mul(y, tensor(g.data, g.shape, { backend }))), sum(hN)).backward();
      const grads = [xt, ht, ...weights.flatMap((w) => [w.wIh, w.wHh, w.bIh, w.bHh])].map((t) =>
        t.grad!.data()
      );
      return [await y.data(), await hN.data(), ...await Promise.all(grads)];
    };
    const [want, got] = [await run("cpu"), await run("cuda")];
    want.forEach((arr, k) =>
      arr.forEach((v, i) =>
        assert.ok(
          Math.abs(v - got[k][i]) <= 1e-4 * Math.max(1, Math.abs(v)),
          `${kind} output ${k} element ${i}: ${v} vs ${got[k][i]}`,
        )
      )
    );
  }
  cuda().allowTf32 = true;
});

deviceTest("the same kernels compiled again come from the disk cache", async () => {
  const b = cuda();
  assert.ok(b.compiler.stats.compiled + b.compiler.stats.readFromDisk > 0);
  await initCuda();
  assert.equal(getBackend("cuda"), b, "initCuda is idempotent");
}, { onEmulator: false });
