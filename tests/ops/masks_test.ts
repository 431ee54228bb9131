import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { releaseGrad } from "../../ops/tape.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import { mul, tanh } from "../../ops/elementwise.ts";
import { applySequenceMask, sequenceMask } from "../../ops/masks.ts";
import { sum } from "../../ops/reduce_sum.ts";

Deno.test("sequenceMask accepts host lengths and frees the temporary lengths tensor", () => {
  const cpu = getBackend("cpu");
  const before = cpu.bytesInUse();
  const m = sequenceMask([2, 0, 3], 3);
  assert.deepEqual(m.shape, [3, 3]);
  assert.deepEqual([...m.dataSync()], [1, 1, 0, 0, 0, 0, 1, 1, 1]);
  assert.equal(cpu.bytesInUse() - before, 36);
  m.dispose();
});

Deno.test("sequenceMask keeps the lengths' shape and takes a dtype", () => {
  using _scope = new TensorScope();
  const m = sequenceMask(tensor(Int32Array.from([1, 2, 3, 4]), [2, 2]), 2, { dtype: "float64" });
  assert.deepEqual(m.shape, [2, 2, 2]);
  assert.equal(m.dtype, "float64");
});

Deno.test("sequenceMask rejects negative lengths, float lengths and a bad maxLen", () => {
  using _scope = new TensorScope();
  const cpu = getBackend("cpu");
  const before = cpu.bytesInUse();
  assert.throws(() => sequenceMask([1, -2], 3), /length -2 at position 1 is negative/);
  assert.equal(cpu.bytesInUse(), before, "the temporary lengths are freed on error too");
  assert.throws(() => sequenceMask(tensor([1, 2], [2]), 3), /lengths must be int32, got float32/);
  assert.throws(() => sequenceMask([1], -1), /maxLen -1 must be a non-negative integer/);
});

Deno.test("applySequenceMask checks the mask against the batch and time axes", () => {
  using _scope = new TensorScope();
  const x = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
  assert.throws(() => applySequenceMask(x, sequenceMask([1, 2], 3)), /mask \[2,3\] must be \[N=2, T=4\]/);
  assert.throws(
    () => applySequenceMask(x, sequenceMask([1, 2], 4), { timeAxis: 0 }),
    /batch and time are both axis 0/,
  );
});

Deno.test("padded frames change neither the valid outputs nor the valid gradients", () => {
  using _scope = new TensorScope();
  const T = 5, lengths = [5, 3];
  const w = tensor(Float32Array.from({ length: 2 * 2 * T }, (_, i) => Math.cos(i)), [2, 2, T]);
  const run = (padValue: number) => {
    // x: [N=2, C=2, T=5]; utterance 1 is padded after frame 3 with padValue.
    const data = Float32Array.from({ length: 2 * 2 * T }, (_, i) => Math.sin(i));
    for (let c = 0; c < 2; c++) for (let t = 3; t < T; t++) data[(1 * 2 + c) * T + t] = padValue;
    const x = tensor(data, [2, 2, T], { requiresGrad: true });
    const y = applySequenceMask(tanh(x), sequenceMask(lengths, T));
    sum(mul(y, w)).backward();
    const out = { y: [...y.dataSync()], g: [...x.grad!.dataSync()] };
    releaseGrad(x);
    return out;
  };
  const a = run(0), b = run(1e3);
  assert.deepEqual(a.y, b.y);
  assert.deepEqual(a.g, b.g);
  for (let c = 0; c < 2; c++) {
    for (let t = 3; t < T; t++) assert.equal(a.g[(2 + c) * T + t], 0, "no gradient reaches padding");
  }
});
