import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { isGradEnabled, noGrad, releaseGrad } from "../../ops/tape.ts";
import { keep, TensorScope, tidy } from "../../ops/scopes.ts";
import { startKernelProfile, stopKernelProfile } from "../../ops/kernel_profile.ts";
import { scalar, tensor, zeros } from "../../ops/creation.ts";
import { add, exp, mul, relu, sigmoid, tanh } from "../../ops/elementwise.ts";
import { sum } from "../../ops/reduce_sum.ts";
import { logSoftmax } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { dropout } from "../../ops/dropout.ts";
import { applySequenceMask, sequenceMask } from "../../ops/masks.ts";
import { permute } from "../../ops/permute.ts";
import { Rng } from "../../ops/random.ts";
import type { Tensor } from "../../ops/tensor.ts";

const cpu = getBackend("cpu");

function values(t: Tensor): number[] {
  return [...t.dataSync()];
}

Deno.test("backward drops every tensor the tape saved, and a second backward says so", () => {
  using _scope = new TensorScope();
  const x = tensor([0.5, -1, 2], [3], { requiresGrad: true });
  const h = tanh(mul(x, x)); // mul saves both inputs, tanh its output
  const loss = sum(h);
  assert.ok(h.node?.saved, "the tape keeps what tanh's backward needs");
  const mulNode = h.node!.parents[0] as { node: { saved: unknown } };
  assert.ok(mulNode.node.saved);
  loss.backward();
  assert.equal(h.node!.saved, null, "tanh's saved output is released");
  assert.equal(mulNode.node.saved, null, "mul's saved inputs are released");
  assert.throws(() => loss.backward(), /saved tensors were already freed/);
  releaseGrad(x);
});

Deno.test("after backward and its scope, only the leaves and their gradients hold memory", () => {
  const before = cpu.bytesInUse();
  const x = tensor(new Float32Array(1000).fill(0.1), [10, 100], { requiresGrad: true });
  {
    using _scope = new TensorScope();
    const y = logSoftmax(mul(sigmoid(x), exp(x)), 1);
    sum(y).backward();
  }
  // x (4000 bytes) and x.grad (4000 bytes) remain; every intermediate and saved tensor is gone.
  assert.equal(cpu.bytesInUse() - before, 8000);
  releaseGrad(x);
  x.dispose();
  assert.equal(cpu.bytesInUse(), before);
});

Deno.test("a leaf used twice accumulates both gradient contributions", () => {
  using _scope = new TensorScope();
  const x = tensor([1, 2, 3], [3], { requiresGrad: true });
  // d/dx sum(x*x + 3x) = 2x + 3
  sum(add(mul(x, x), mul(x, 3))).backward();
  assert.deepEqual(values(x.grad!), [5, 7, 9]);
  releaseGrad(x);
});

Deno.test("gradients accumulate across backward calls until released", () => {
  using _scope = new TensorScope();
  const x = tensor([1, -2], [2], { requiresGrad: true });
  sum(mul(x, 2)).backward();
  sum(mul(x, 5)).backward();
  assert.deepEqual(values(x.grad!), [7, 7]);
  releaseGrad(x);
  assert.equal(x.grad, null);
  sum(x).backward();
  assert.deepEqual(values(x.grad!), [1, 1]);
  releaseGrad(x);
});

Deno.test("a leaf passed straight to two inputs of add gets each path once", () => {
  using _scope = new TensorScope();
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const y = tensor([4, 5], [2], { requiresGrad: true });
  sum(add(x, y)).backward(); // add's backward hands the same g to both leaves
  releaseGrad(y); // must not free the tensor x.grad still holds
  assert.deepEqual(values(x.grad!), [1, 1]);
  releaseGrad(x);
});

Deno.test("noGrad records nothing and restores gradient mode afterwards", () => {
  using _scope = new TensorScope();
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return mul(x, x);
  });
  assert.equal(isGradEnabled(), true);
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  assert.throws(() => sum(y).backward(), /does not require grad/);
  // Restored even when the function throws.
  assert.throws(() =>
    noGrad(() => {
      throw new Error("boom");
    }), /boom/);
  assert.equal(isGradEnabled(), true);
});

Deno.test("ops on tensors that need no gradient record no tape nodes", () => {
  using _scope = new TensorScope();
  const a = tensor([1, 2], [2]);
  const b = exp(mul(a, a));
  assert.equal(b.node, null);
  assert.equal(b.requiresGrad, false);
});

Deno.test("tidy disposes intermediates and keeps the returned tensors", () => {
  const before = cpu.bytesInUse();
  const x = tensor([1, 2, 3, 4], [4]);
  const [y, other] = tidy(() => {
    const a = mul(x, 2);
    const b = add(a, 1);
    return [exp(b), sum(b)];
  });
  // x, y (16 bytes each) and the 0-d sum (4 bytes) remain; a, b and the scalar constants are gone.
  assert.equal(cpu.bytesInUse() - before, 16 + 16 + 4);
  assert.equal(y.isDisposed, false);
  assert.deepEqual(values(other), [24]);
  for (const t of [x, y, other]) t.dispose();
  assert.equal(cpu.bytesInUse(), before);
});

Deno.test("tidy refuses an async function", () => {
  assert.throws(() => tidy(() => Promise.resolve(1) as unknown as number), /synchronous function/);
});

Deno.test("TensorScope disposes its tensors except those kept, which move to the enclosing scope", () => {
  const before = cpu.bytesInUse();
  let kept: Tensor;
  let inner: Tensor;
  {
    using outer = new TensorScope();
    {
      using scope = new TensorScope();
      inner = zeros([8]);
      kept = scope.keep(add(inner, 1));
    }
    assert.equal(inner.isDisposed, true);
    assert.equal(kept.isDisposed, false);
    void outer;
  }
  assert.equal(kept.isDisposed, true, "the enclosing scope owned the kept tensor");
  assert.equal(cpu.bytesInUse(), before);
});

Deno.test("keep() lets a tensor outlive every open scope", () => {
  const before = cpu.bytesInUse();
  let t: Tensor;
  {
    using _a = new TensorScope();
    {
      using _b = new TensorScope();
      t = keep(scalar(3));
    }
  }
  assert.equal(t.isDisposed, false);
  t.dispose();
  assert.equal(cpu.bytesInUse(), before);
});

Deno.test("a disposed tensor throws when used", () => {
  const t = tensor([1, 2], [2]);
  t.dispose();
  assert.throws(() => add(t, 1), /used after dispose/);
  t.dispose(); // idempotent
});

Deno.test("backward of a non-scalar needs an explicit gradient", () => {
  using _scope = new TensorScope();
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const y = mul(x, 3);
  assert.throws(() => y.backward(), /needs a scalar/);
  y.backward(tensor([1, 10], [2]));
  assert.deepEqual(values(x.grad!), [3, 30]);
  releaseGrad(x);
});

Deno.test("fifty training-like steps leave memory exactly where the first step left it", () => {
  const rng = new Rng(5);
  const w = tensor(Float32Array.from({ length: 6 * 4 }, (_, i) => Math.sin(i)), [6, 4], {
    requiresGrad: true,
  });
  const x = tensor(Float32Array.from({ length: 2 * 6 * 5 }, (_, i) => Math.cos(i)), [2, 6, 5]);
  const step = (): void => {
    tidy(() => {
      const h = dropout(tanh(permute(x, [0, 2, 1])), 0.1, { rng }); // [2, 5, 6]
      const logits = sum(mul(reshape(h, [2, 5, 6, 1]), w), 2); // [2, 5, 4]
      const masked = applySequenceMask(logSoftmax(logits, -1), sequenceMask([5, 3], 5), { timeAxis: 1 });
      sum(masked).backward();
    });
    releaseGrad(w); // what an optimizer does after its update
  };
  step();
  const after1 = cpu.bytesInUse();
  for (let i = 0; i < 49; i++) step();
  assert.equal(cpu.bytesInUse(), after1);
  w.dispose();
  x.dispose();
});

Deno.test("a kernel profile counts each op's calls and time, naming elementwise ops by table key", () => {
  const x = tensor([1, -2, 3], [3]);
  startKernelProfile();
  tidy(() => {
    relu(x);
    relu(x);
    sum(add(x, x));
  });
  const entries = stopKernelProfile();
  const byOp = new Map(entries.map((e) => [e.op, e]));
  assert.equal(byOp.get("map:relu")?.calls, 2);
  assert.equal(byOp.get("map:add")?.calls, 1);
  assert.equal(byOp.get("sum")?.calls, 1);
  assert.ok(entries.every((e) => e.backend === "cpu" && e.ms >= 0));
  for (let i = 1; i < entries.length; i++) assert.ok(entries[i - 1].ms >= entries[i].ms);
  // Stopped: nothing more is recorded.
  tidy(() => relu(x));
  assert.deepEqual(stopKernelProfile(), []);
  x.dispose();
});
