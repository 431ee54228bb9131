/**
 * GRU and LSTM against torch.nn.GRU / torch.nn.LSTM (tests/fixtures/ops/make_rnn.py):
 * stacked, bidirectional, batch-first, without bias, with per-sequence lengths; outputs,
 * final states and the gradients of every input and parameter. Also PyTorch's parameter
 * names and initialisation range, and dropout only between layers and only in training.
 */
import assert from "node:assert/strict";
import { GRU, LSTM, type RnnOptions } from "../../models/rnn.ts";
import { add, mul, releaseGrad, sum, type Tensor, tensor, TensorScope } from "../../ops/mod.ts";
import { type FixtureArray, rnnFixture } from "../ops/cases/rnn.ts";
import { assertClose } from "../ops/conformance/harness.ts";
import { gradWeights } from "../ops/conformance/finite_diff.ts";

function leaf(a: FixtureArray, dtype: "float32" | "float64"): Tensor {
  return tensor(a.data, a.shape, { dtype, requiresGrad: true });
}

function weightedLoss(outs: Tensor[]): Tensor {
  let loss: Tensor | null = null;
  outs.forEach((o, k) => {
    const term = sum(mul(o, tensor(gradWeights(k, o.size), o.shape, { dtype: o.dtype })));
    loss = loss ? add(loss, term) : term;
  });
  return loss!;
}

for (const fx of rnnFixture()) {
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-9 : 2e-4;
    Deno.test(`${fx.kind.toUpperCase()} matches PyTorch for ${fx.name.replace(/^\w+ /, "")} (${dtype})`, () => {
      using _scope = new TensorScope();
      const options: RnnOptions = { ...fx.config, dtype };
      const net = fx.kind === "gru" ? new GRU(options) : new LSTM(options);
      assert.deepEqual([...net.parameters().keys()].sort(), Object.keys(fx.params).sort(), "parameter names");
      const record: Record<string, Tensor> = {};
      for (const [name, p] of Object.entries(fx.params)) record[name] = tensor(p.data, p.shape, { dtype });
      net.loadStateDict(record);
      const x = leaf(fx.x, dtype), h0 = leaf(fx.h0, dtype);
      let outs: Tensor[];
      let c0: Tensor | null = null;
      if (net instanceof LSTM) {
        c0 = leaf(fx.c0!, dtype);
        const [y, [hN, cN]] = net.forward(x, fx.lengths, { state: [h0, c0] });
        outs = [y, hN, cN];
      } else {
        const [y, hN] = (net as GRU).forward(x, fx.lengths, { h0 });
        outs = [y, hN];
      }
      assertClose(outs[0].dataSync(), fx.y.data, tol, "output");
      assert.deepEqual(outs[0].shape, fx.y.shape);
      assertClose(outs[1].dataSync(), fx.hN.data, tol, "hN");
      if (c0) assertClose(outs[2].dataSync(), fx.cN!.data, tol, "cN");
      weightedLoss(outs).backward();
      assertClose(x.grad!.dataSync(), fx.x.grad!, tol, "d input");
      assertClose(h0.grad!.dataSync(), fx.h0.grad!, tol, "d h0");
      if (c0) assertClose(c0.grad!.dataSync(), fx.c0!.grad!, tol, "d c0");
      for (const [name, p] of net.parameters()) {
        assertClose(p.grad!.dataSync(), fx.params[name].grad!, tol, `d ${name}`);
        releaseGrad(p);
      }
    });
  }
}

Deno.test("GRU initialises every parameter uniformly within ±1/sqrt(hiddenSize), reproducibly by seed", () => {
  const a = new GRU({ inputSize: 6, hiddenSize: 16, numLayers: 2, bidirectional: true, seed: 5 });
  const b = new GRU({ inputSize: 6, hiddenSize: 16, numLayers: 2, bidirectional: true, seed: 5 });
  assert.equal(a.parameters().size, 16);
  assert.deepEqual(a.parameters().get("weight_ih_l1_reverse")!.shape, [48, 32]);
  for (const [name, p] of a.parameters()) {
    const v = p.dataSync();
    const k = 1 / 4;
    let lo = Infinity, hi = -Infinity;
    for (const e of v) [lo, hi] = [Math.min(lo, e), Math.max(hi, e)];
    assert.ok(lo >= -k && hi <= k && hi - lo > k, `${name} spans [${lo}, ${hi}]`);
    assert.deepEqual(v, b.parameters().get(name)!.dataSync(), `${name} reproducible`);
  }
});

Deno.test("LSTM applies dropout between layers in training mode only", () => {
  using _scope = new TensorScope();
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 8, numLayers: 2, dropout: 0.5, seed: 1 });
  const x = tensor(Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i)), [5, 2, 3]);
  const [evalA] = lstm.eval().forward(x);
  const [evalB] = lstm.forward(x);
  assert.deepEqual(evalA.dataSync(), evalB.dataSync(), "eval is deterministic");
  const [trainA] = lstm.train().forward(x);
  assert.notDeepEqual(trainA.dataSync(), evalA.dataSync(), "training mode drops units");
  const single = new LSTM({ inputSize: 3, hiddenSize: 8, numLayers: 1, dropout: 0.5, seed: 1 }).train();
  const [s1] = single.forward(x);
  const [s2] = single.eval().forward(x);
  assert.deepEqual(s1.dataSync(), s2.dataSync(), "no dropout after the last layer");
});

Deno.test("GRU names the input size it expected", () => {
  using _scope = new TensorScope();
  const gru = new GRU({ inputSize: 4, hiddenSize: 2 });
  assert.throws(
    () => gru.forward(tensor(new Float32Array(30), [5, 2, 3])),
    /3 features, expected inputSize 4/,
  );
  assert.throws(
    () =>
      gru.forward(tensor(new Float32Array(40), [5, 2, 4]), null, {
        h0: tensor(new Float32Array(2), [1, 1, 2]),
      }),
    /h0 must be \[1,2,2\]/,
  );
});
