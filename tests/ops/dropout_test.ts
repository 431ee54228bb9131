/**
 * dropout (ops/dropout.ts): the drop fraction, reproducibility per seed, the reused mask in
 * backward, errors, and bit-identical masks on cpu and webgpu (skipped, loudly, without a
 * WebGPU adapter). The exact elements each seed drops are checked against an independent
 * Philox in tests/ops/cases/dropout.ts.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { initWebGpu } from "../../ops/backends/webgpu/mod.ts";
import { releaseGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { ones, tensor } from "../../ops/creation.ts";
import { dropout } from "../../ops/dropout.ts";
import { Rng } from "../../ops/random.ts";
import { sum } from "../../ops/reduce_sum.ts";

// The dropped count is Binomial(n, p): it must lie within four standard deviations
// sqrt(n·p·(1-p)) of n·p (a false failure has probability ~6e-5).
Deno.test("dropout drops a fraction p and keeps the mean, within four standard deviations", () => {
  using _scope = new TensorScope();
  const n = 100_000, p = 0.3;
  const y = dropout(ones([n]), p, { rng: new Rng(7) }).dataSync();
  let dropped = 0, total = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] === 0) dropped++;
    total += y[i];
  }
  const sd = Math.sqrt(p * (1 - p) / n);
  assert.ok(Math.abs(dropped / n - p) < 4 * sd, `dropped ${dropped / n}`);
  assert.ok(Math.abs(total / n - 1) < 4 * sd / (1 - p), `mean ${total / n}`);
});

Deno.test("dropout repeats for equal seeds and differs for other seeds", () => {
  using _scope = new TensorScope();
  const x = ones([64]);
  const a = [...dropout(x, 0.5, { rng: new Rng(3) }).dataSync()];
  const b = [...dropout(x, 0.5, { rng: new Rng(3) }).dataSync()];
  const c = [...dropout(x, 0.5, { rng: new Rng(4) }).dataSync()];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("dropout returns its input itself in evaluation mode and for p 0", () => {
  using _scope = new TensorScope();
  const x = ones([4]);
  assert.equal(dropout(x, 0.5, { training: false }), x);
  assert.equal(dropout(x, 0), x);
});

Deno.test("dropout backward reuses the forward mask", () => {
  using _scope = new TensorScope();
  const x = tensor(Float32Array.from({ length: 32 }, (_, i) => i + 1), [32], { requiresGrad: true });
  const y = dropout(x, 0.25, { rng: new Rng(11) });
  sum(y).backward();
  const g = x.grad!.dataSync(), ys = y.dataSync(), xs = x.dataSync();
  for (let i = 0; i < 32; i++) {
    // The gradient is the mask: y / x, 0 or 1/(1-p).
    assert.ok(Math.abs(g[i] - ys[i] / xs[i]) < 1e-6);
    assert.ok(g[i] === 0 || Math.abs(g[i] - 1 / 0.75) < 1e-6);
  }
  releaseGrad(x);
});

Deno.test("dropout rejects a bad probability, a missing rng and int32 input", () => {
  using _scope = new TensorScope();
  const x = ones([2]);
  assert.throws(() => dropout(x, 1.5, { rng: new Rng(1) }), /probability 1.5 is outside \[0, 1\]/);
  assert.throws(() => dropout(x, NaN, { rng: new Rng(1) }), /probability NaN/);
  assert.throws(() => dropout(x, 0.5), /needs a seeded rng/);
  assert.throws(
    () => dropout(tensor(Int32Array.from([1]), [1]), 0.5, { rng: new Rng(1) }),
    /needs a float tensor/,
  );
});

const hasGpu = await initWebGpu({ quiet: true });
if (!hasGpu) console.warn("SKIPPED (no WebGPU adapter): the cpu/webgpu dropout mask comparison needs one");

Deno.test({
  name: "dropout masks on cpu and webgpu are bit-identical for a seed",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    using _scope = new TensorScope();
    const n = 4099, p = 0.37; // not a multiple of the four words per Philox block
    const onCpu = await dropout(ones([n]), p, { rng: new Rng(2024) }).data();
    const onGpu = await dropout(ones([n], { backend: "webgpu" }), p, { rng: new Rng(2024) }).data();
    assert.ok(onCpu instanceof Float32Array && onGpu instanceof Float32Array);
    assert.deepEqual(new Uint32Array(onGpu.buffer), new Uint32Array(onCpu.buffer));
    const dropped = onCpu.filter((v) => v === 0).length;
    assert.ok(dropped > 0 && dropped < n, `dropped ${dropped} of ${n}`);
  },
});
