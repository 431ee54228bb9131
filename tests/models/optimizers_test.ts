import assert from "node:assert/strict";
import { initWebGpu, scalar, type Tensor, tensor } from "../../ops/mod.ts";
import { AdamW } from "../../models/optimizers/adamw.ts";
import { NovoGrad } from "../../models/optimizers/novograd.ts";
import type { Optimizer } from "../../models/optimizers/optimizer.ts";
import { SGD } from "../../models/optimizers/sgd.ts";

const fx = JSON.parse(Deno.readTextFileSync(new URL("../fixtures/models/optimizers.json", import.meta.url)));
const names = Object.keys(fx.w0) as string[];

/**
 * The fixture's four updates; before each update listed in `skipBefore`, a step with NaN
 * gradients gated off on the device (`apply` 0), which must change nothing.
 */
function trajectory(
  make: (p: Map<string, Tensor>) => Optimizer,
  skipBefore: number[] = [],
): Map<string, Float64Array> {
  const params = new Map(
    names.map((k) => [k, tensor(fx.w0[k], fx.shapes[k], { dtype: "float64", requiresGrad: true })]),
  );
  const opt = make(params);
  fx.grads.forEach((g: Record<string, number[]>, i: number) => {
    if (skipBefore.includes(i)) {
      for (const k of names) {
        params.get(k)!.grad = tensor(g[k].map(() => NaN), fx.shapes[k], { dtype: "float64" });
      }
      opt.step(fx.lrs[i], 1, { apply: scalar(0, { dtype: "float64" }) });
    }
    for (const k of names) params.get(k)!.grad = tensor(g[k], fx.shapes[k], { dtype: "float64" });
    opt.step(fx.lrs[i], 1, skipBefore.length ? { apply: scalar(1, { dtype: "float64" }) } : {});
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

Deno.test("a step gated off on the device changes neither weights nor state: every optimizer still follows its fixture", () => {
  // Skipped before the first update (slots do not exist yet) and between the second and third.
  const skips = [0, 2];
  assertMatches(trajectory((p) => new SGD(p, { momentum: 0.9, weightDecay: 0.001 }), skips), fx.sgd_momentum);
  assertMatches(
    trajectory((p) => new SGD(p, { momentum: 0.9, nesterov: true, weightDecay: 0.001 }), skips),
    fx.sgd_nesterov,
  );
  assertMatches(trajectory((p) => new AdamW(p, { weightDecay: 0.01, decoupled: false }), skips), fx.adam_l2);
  assertMatches(trajectory((p) => new AdamW(p, { weightDecay: 0.01 }), skips), fx.adamw);
  assertMatches(trajectory((p) => new NovoGrad(p, { weightDecay: 0.001 }), skips), fx.novograd);
  assertMatches(
    trajectory((p) => new NovoGrad(p, { weightDecay: 0.001, larc: { eta: 0.001 } }), skips),
    fx.novograd_larc,
  );
});

Deno.test("appliedSteps counts applied updates on the device; stepCount counts calls", async () => {
  const w = tensor([1, 2], [2], { requiresGrad: true });
  const opt = new AdamW(new Map([["w", w]]));
  for (const apply of [1, 0, 1]) {
    w.grad = tensor([0.5, -0.5], [2]);
    opt.step(0.1, 1, { apply: scalar(apply) });
  }
  assert.equal(opt.stepCount, 3);
  assert.equal(await opt.appliedSteps()!.item(), 2);
  // Saved with the state, so that a resumed run knows t.
  assert.ok([...opt.stateDict().keys()].includes("@optimizer/applied_steps"));
});

// One update of each kind on webgpu against the same update on the cpu (float32), with weight
// decay, clipping (active: the gradients' norm is above clipNorm) and LARC, then a second update
// (the slots exist) and a third gated off.
const webgpuReady = await initWebGpu({ quiet: true });
if (!webgpuReady) console.warn("optimizers_test: SKIPPING the webgpu comparisons: no WebGPU adapter");

const kinds: [string, (p: Map<string, Tensor>) => Optimizer][] = [
  ["SGD with momentum", (p) => new SGD(p, { momentum: 0.9, weightDecay: 0.001, clipNorm: 0.5 })],
  [
    "SGD with Nesterov momentum and LARC",
    (p) => new SGD(p, { momentum: 0.9, nesterov: true, weightDecay: 0.001, larc: { eta: 0.01 } }),
  ],
  ["Adam with an L2 term", (p) => new AdamW(p, { weightDecay: 0.01, decoupled: false, clipNorm: 0.5 })],
  ["AdamW", (p) => new AdamW(p, { weightDecay: 0.01, clipNorm: 0.5 })],
  [
    "NovoGrad with LARC and clipping",
    (p) => new NovoGrad(p, { weightDecay: 0.001, clipNorm: 0.5, larc: { eta: 0.001 } }),
  ],
  ["NovoGrad with gradient averaging", (p) => new NovoGrad(p, { weightDecay: 0.001, gradAveraging: true })],
];

async function updatedOn(
  backend: string,
  make: (p: Map<string, Tensor>) => Optimizer,
): Promise<Float32Array[]> {
  const params = new Map(
    names.map((k) => [k, tensor(fx.w0[k], fx.shapes[k], { backend, requiresGrad: true })]),
  );
  const opt = make(params);
  for (const [i, apply] of [[0, 1], [1, 1], [2, 0]]) {
    for (const k of names) params.get(k)!.grad = tensor(fx.grads[i][k], fx.shapes[k], { backend });
    const gradNorm = opt.gradNorm();
    opt.step(fx.lrs[i], 1, { gradNorm, apply: scalar(apply, { backend }) });
  }
  const out = [...params.values()].map((t) => t.data() as Promise<Float32Array>);
  for (const t of opt.stateDict().values()) out.push(t.data() as Promise<Float32Array>);
  return await Promise.all(out);
}

for (const [label, make] of kinds) {
  Deno.test({
    name: `${label}: updates on webgpu equal the cpu's to 1e-5 (weights and state)`,
    ignore: !webgpuReady,
    fn: async () => {
      const want = await updatedOn("cpu", make), got = await updatedOn("webgpu", make);
      assert.equal(got.length, want.length);
      want.forEach((w, j) =>
        w.forEach((v, i) => {
          const err = Math.abs(got[j][i] - v) / Math.max(1, Math.abs(v));
          assert.ok(err <= 1e-5, `tensor ${j} [${i}]: webgpu ${got[j][i]}, cpu ${v}`);
        })
      );
    },
  });
}
