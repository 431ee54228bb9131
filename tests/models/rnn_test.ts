/**
 * GRU and LSTM as modules: a torch.nn.GRU / torch.nn.LSTM state dict loads by name and gives
 * PyTorch's outputs (tests/fixtures/ops/make_rnn.py), PyTorch's initialisation range, and
 * dropout only between layers and only in training. Outputs and gradients of every fixture
 * case on every backend are conformance cases (tests/ops/cases/rnn.ts, rnn_stack.ts).
 */
import assert from "node:assert/strict";
import { GRU, LSTM } from "../../models/rnn.ts";
import { type Tensor, tensor, TensorScope } from "../../ops/mod.ts";
import { rnnFixture } from "../ops/cases/rnn.ts";
import { assertClose } from "../ops/conformance/harness.ts";

for (const fx of rnnFixture()) {
  Deno.test(`${fx.kind.toUpperCase()} loads the PyTorch state dict for ${fx.name.replace(/^\w+ /, "")} by name`, () => {
    using _scope = new TensorScope();
    const options = { ...fx.config, dtype: "float64" as const };
    const net = fx.kind === "gru" ? new GRU(options) : new LSTM(options);
    assert.deepEqual([...net.parameters().keys()].sort(), Object.keys(fx.params).sort(), "parameter names");
    const record: Record<string, Tensor> = {};
    for (const [name, p] of Object.entries(fx.params)) {
      record[name] = tensor(p.data, p.shape, { dtype: "float64" });
    }
    net.loadStateDict(record);
    const x = tensor(fx.x.data, fx.x.shape, { dtype: "float64" });
    const h0 = tensor(fx.h0.data, fx.h0.shape, { dtype: "float64" });
    let y: Tensor, hN: Tensor;
    if (net instanceof LSTM) {
      const c0 = tensor(fx.c0!.data, fx.c0!.shape, { dtype: "float64" });
      [y, [hN]] = net.forward(x, fx.lengths, { state: [h0, c0] });
    } else [y, hN] = (net as GRU).forward(x, fx.lengths, { h0 });
    assert.deepEqual(y.shape, fx.y.shape);
    assertClose(y.dataSync(), fx.y.data, 1e-9, "output");
    assertClose(hN.dataSync(), fx.hN.data, 1e-9, "hN");
  });
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
