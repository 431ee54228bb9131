/**
 * The WASM kernels split across Workers (ops/backends/cpu/wasm/thread_pool.ts) give the
 * single-threaded results bit for bit, forward and backward, on shapes with many rows, 1–3
 * element tails and broadcast inputs, for 2 and 3 threads; and a call below the threshold stays
 * on the calling thread.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import {
  add,
  conv1d,
  exp,
  logSoftmax,
  max,
  mul,
  randomNormal,
  relu,
  Rng,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../ops/mod.ts";
import { setCpuKernelPath } from "../../ops/backends/cpu/wasm/kernel_path.ts";
import {
  kernelThreadsFor,
  kernelWorkersStarted,
  setKernelThreading,
} from "../../ops/backends/cpu/wasm/thread_pool.ts";

/** Forward values then input gradients of `f` (through a random weighting) on `threads` threads. */
function run(threads: number, shapes: number[][], f: (xs: Tensor[]) => Tensor): Float32Array {
  const previousPath = setCpuKernelPath("wasm");
  const previous = setKernelThreading({ threads, minWork: 0 });
  try {
    return tidy(() => {
      const xs = shapes.map((s, k) => {
        const r = randomNormal(s, new Rng(3 + k));
        return tensor(r.dataSync(), s, { requiresGrad: true });
      });
      const y = f(xs);
      const values = [...y.dataSync()];
      sum(mul(y, randomNormal(y.shape, new Rng(11)))).backward();
      for (const x of xs) values.push(...x.grad!.dataSync());
      return Float32Array.from(values);
    });
  } finally {
    setKernelThreading(previous);
    setCpuKernelPath(previousPath);
  }
}

function assertSameBits(name: string, shapes: number[][], f: (xs: Tensor[]) => Tensor): void {
  const one = new Uint32Array(run(1, shapes, f).buffer);
  for (const threads of [2, 3]) {
    const many = new Uint32Array(run(threads, shapes, f).buffer);
    assert.equal(many.length, one.length, `${name}: lengths`);
    for (let i = 0; i < one.length; i++) {
      if (many[i] !== one[i]) assert.fail(`${name}, ${threads} threads: element ${i} differs in its bits`);
    }
  }
}

Deno.test("map on threads equals one thread bit for bit, with broadcast rows and tails", () => {
  assertSameBits("bias + relu", [[3, 37, 23], [37, 1]], ([x, b]) => relu(add(x, b)));
  assertSameBits("exp · x", [[5, 41]], ([x]) => mul(exp(x), x));
  assert.ok(kernelWorkersStarted() >= 2, "the 3-thread runs started two Workers");
});

Deno.test("sum on threads equals one thread bit for bit, for kept and reduced last axes", () => {
  assertSameBits("sum over batch and time", [[4, 19, 33]], ([x]) => sum(x, [0, 2]));
  assertSameBits("sum over the last axis", [[6, 7, 45]], ([x]) => sum(x, [2]));
  assertSameBits("sum over the first axis", [[40, 13]], ([x]) => sum(x, [0]));
  assertSameBits("sum of everything", [[9, 31]], ([x]) => sum(x));
});

Deno.test("softmax, logSoftmax and max on threads equal one thread bit for bit", () => {
  assertSameBits("softmax", [[7, 11, 29]], ([x]) => softmax(x, -1));
  assertSameBits("logSoftmax", [[13, 30]], ([x]) => logSoftmax(x, -1));
  assertSameBits("max over the last axis", [[50, 29]], ([x]) => max(x, -1));
  assertSameBits("max over a middle axis", [[6, 9, 10]], ([x]) => max(x, 1));
});

Deno.test("depthwise conv1d on threads equals one thread bit for bit", () => {
  assertSameBits(
    "depthwise k7",
    [[3, 12, 70], [12, 1, 7]],
    ([x, w]) => conv1d(x, w, null, { padding: 3, groups: 12 }),
  );
});

Deno.test("jobs that leave a Worker out, then include it, run every share exactly once", () => {
  // sum accumulates into its output: a share run twice (a left-out Worker waking late into the
  // next job) would add its rows twice. Two Workers; 2 threads leave the second one out.
  const x = randomNormal([64, 3, 200], new Rng(5));
  const previous = setKernelThreading({ threads: 1, minWork: 0 });
  try {
    const one = tidy(() => sum(x, [0, 2]).dataSync().slice());
    for (let i = 0; i < 2000; i++) {
      setKernelThreading({ threads: i % 2 ? 3 : 2 });
      const many = tidy(() => sum(x, [0, 2]).dataSync().slice());
      if (many.some((v, k) => v !== one[k])) assert.fail(`job ${i}: ${many} against ${one}`);
    }
    assert.ok(kernelWorkersStarted() >= 2);
  } finally {
    setKernelThreading(previous);
    x.dispose();
  }
});

Deno.test("a kernel call below the threshold runs on the calling thread", () => {
  const previous = setKernelThreading({ threads: 4, minWork: 1000 });
  try {
    assert.equal(kernelThreadsFor(999), 1);
    assert.equal(kernelThreadsFor(1000), 4);
    const before = kernelWorkersStarted();
    tidy(() => add(tensor(new Float32Array(100), [100]), tensor(new Float32Array(100), [100])).dataSync());
    assert.equal(kernelWorkersStarted(), before);
  } finally {
    setKernelThreading(previous);
  }
});

Deno.test("a program whose kernels started Workers exits on its own", async () => {
  // The Workers block in Atomics.wait between jobs; unref'd, they must not keep the process up.
  const script = `
    import "${new URL("../../ops/backends/cpu/mod.ts", import.meta.url)}";
    import { softmax, randomNormal, Rng } from "${new URL("../../ops/mod.ts", import.meta.url)}";
    import { setKernelThreading, kernelWorkersStarted } from "${new URL(
    "../../ops/backends/cpu/wasm/thread_pool.ts",
    import.meta.url,
  )}";
    setKernelThreading({ threads: 2, minWork: 0 });
    softmax(randomNormal([64, 32], new Rng(1)), -1).dataSync();
    console.log(kernelWorkersStarted());
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    env: { DENO_CTC_QUIET: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill(), 60_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  assert.equal(code, 0, `exit code ${code}: ${new TextDecoder().decode(stderr)}`);
  assert.equal(new TextDecoder().decode(stdout).trim(), "1", "one Worker was started");
});
