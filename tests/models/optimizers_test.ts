import assert from "node:assert/strict";
import { type Tensor, tensor } from "../../ops/mod.ts";
import { AdamW } from "../../models/optimizers/adamw.ts";
import { NovoGrad } from "../../models/optimizers/novograd.ts";
import type { Optimizer } from "../../models/optimizers/optimizer.ts";
import { SGD } from "../../models/optimizers/sgd.ts";

const fx = JSON.parse(Deno.readTextFileSync(new URL("../fixtures/models/optimizers.json", import.meta.url)));
const names = Object.keys(fx.w0) as string[];

function trajectory(make: (p: Map<string, Tensor>) => Optimizer): Map<string, Float64Array> {
  const params = new Map(
    names.map((k) => [k, tensor(fx.w0[k], fx.shapes[k], { dtype: "float64", requiresGrad: true })]),
  );
  const opt = make(params);
  fx.grads.forEach((g: Record<string, number[]>, i: number) => {
    for (const k of names) params.get(k)!.grad = tensor(g[k], fx.shapes[k], { dtype: "float64" });
    opt.step(fx.lrs[i]);
  });
  return new Map(names.map((k) => [k, params.get(k)!.dataSync() as Float64Array]));
}

function assertMatches(got: Map<string, Float64Array>, want: Record<string, number[]>, tol = 1e-10): void {
  for (const k of names) {
    want[k].forEach((v, i) =>
      assert.ok(Math.abs(got.get(k)![i] - v) < tol, `${k}[${i}]: ${got.get(k)![i]} vs ${v}`)
    );
  }
}

Deno.test("SGD with momentum and weight decay follows torch.optim.SGD over four steps", () => {
  assertMatches(trajectory((p) => new SGD(p, { momentum: 0.9, weightDecay: 0.001 })), fx.sgd_momentum);
});

Deno.test("SGD with Nesterov momentum follows torch.optim.SGD(nesterov=True)", () => {
  assertMatches(
    trajectory((p) => new SGD(p, { momentum: 0.9, nesterov: true, weightDecay: 0.001 })),
    fx.sgd_nesterov,
  );
});

Deno.test("Adam with an L2 term follows torch.optim.Adam(weight_decay)", () => {
  assertMatches(trajectory((p) => new AdamW(p, { weightDecay: 0.01, decoupled: false })), fx.adam_l2);
});

Deno.test("AdamW follows torch.optim.AdamW", () => {
  assertMatches(trajectory((p) => new AdamW(p, { weightDecay: 0.01 })), fx.adamw);
});

Deno.test("NovoGrad follows OpenSeq2Seq's per-layer second moment and momentum", () => {
  assertMatches(trajectory((p) => new NovoGrad(p, { weightDecay: 0.001 })), fx.novograd);
});

Deno.test("NovoGrad with gradient averaging scales the normalised gradient by 1 − β1", () => {
  assertMatches(
    trajectory((p) => new NovoGrad(p, { weightDecay: 0.001, gradAveraging: true })),
    fx.novograd_grad_averaging,
  );
});

Deno.test("NovoGrad with LARC clips each variable's update as OpenSeq2Seq does", () => {
  assertMatches(
    trajectory((p) => new NovoGrad(p, { weightDecay: 0.001, larc: { eta: 0.001 } })),
    fx.novograd_larc,
  );
});

Deno.test("step() releases gradients and keeps the parameters' identity", () => {
  const w = tensor([1, 2], [2], { requiresGrad: true });
  const opt = new SGD(new Map([["w", w]]), { momentum: 0.9 });
  w.grad = tensor([1, 1], [2]);
  opt.step(0.5);
  assert.equal(w.grad, null);
  assert.deepEqual([...w.dataSync()], [0.5, 1.5]);
  assert.equal(opt.stepCount, 1);
});

Deno.test("clipNorm scales gradients down to the global norm", () => {
  const w = tensor([0, 0], [2], { dtype: "float64", requiresGrad: true });
  const opt = new SGD(new Map([["w", w]]), { clipNorm: 1 });
  w.grad = tensor([3, 4], [2], { dtype: "float64" });
  opt.step(1);
  const d = w.dataSync();
  assert.ok(Math.abs(d[0] + 0.6) < 1e-6 && Math.abs(d[1] + 0.8) < 1e-6, `got ${d}`);
});

Deno.test("gradScale averages gradients accumulated over iter_size batches, before clipping", () => {
  // OpenSeq2Seq's IterSizeTests: the accumulator holds sum(g) / iter_size.
  const w = tensor([1, 1], [2], { dtype: "float64", requiresGrad: true });
  new SGD(new Map([["w", w]])).step(0.1, 1 / 4);
  assert.deepEqual([...w.dataSync()], [1, 1]); // no gradient: nothing moves
  w.grad = tensor([8, -4], [2], { dtype: "float64" }); // four batches' gradients, summed
  new SGD(new Map([["w", w]])).step(0.1, 1 / 4);
  const d = w.dataSync();
  assert.ok(Math.abs(d[0] - 0.8) < 1e-12 && Math.abs(d[1] - 1.1) < 1e-12, `got ${d}`);
  // Clipping sees the mean gradient [2, -1] (norm √5), not the sum.
  const v = tensor([0, 0], [2], { dtype: "float64", requiresGrad: true });
  v.grad = tensor([8, -4], [2], { dtype: "float64" });
  new SGD(new Map([["v", v]]), { clipNorm: 5 }).step(1, 1 / 4);
  const e = v.dataSync();
  assert.ok(Math.abs(e[0] + 2) < 1e-6 && Math.abs(e[1] - 1) < 1e-6, `got ${e}`);
});
