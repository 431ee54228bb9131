/**
 * Conformance cases of `gruLayer` and `lstmLayer` (ops/rnn.ts): one layer, one or both
 * directions, with and without per-sequence lengths, against torch.nn.GRU / torch.nn.LSTM in
 * float64 (tests/fixtures/ops/make_rnn.py), with finite-difference and PyTorch gradients of
 * every input (x, initial states and all weights).
 *
 * Not here: stacked layers and batch-first layouts (tests/models/rnn_test.ts), error messages
 * and tape memory (tests/ops/rnn_test.ts).
 */
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { gruLayer, lstmLayer, type RnnDirectionWeights } from "../../../ops/rnn.ts";
import type { Tensor } from "../../../ops/tensor.ts";

/** One stored array of the fixture: shape, values and (for inputs) PyTorch's gradient. */
export interface FixtureArray {
  shape: number[];
  data: number[];
  grad?: number[];
}

/** One case of tests/fixtures/ops/rnn_reference.json. */
export interface RnnFixtureCase {
  name: string;
  kind: "gru" | "lstm";
  config: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    bidirectional: boolean;
    batchFirst: boolean;
    bias: boolean;
  };
  lengths: number[] | null;
  x: FixtureArray;
  h0: FixtureArray;
  c0?: FixtureArray;
  params: Record<string, FixtureArray>;
  y: FixtureArray;
  hN: FixtureArray;
  cN?: FixtureArray;
}

/** The fixture's cases, by name. */
export function rnnFixture(): RnnFixtureCase[] {
  const text = Deno.readTextFileSync(new URL("../../fixtures/ops/rnn_reference.json", import.meta.url));
  return (JSON.parse(text) as { cases: RnnFixtureCase[] }).cases;
}

/** The op inputs of a one-layer fixture case: x, h0 (, c0), then 4 weights per direction. */
function layerArrays(fx: RnnFixtureCase): FixtureArray[] {
  const list = [fx.x, fx.h0];
  if (fx.kind === "lstm") list.push(fx.c0!);
  for (const sfx of fx.config.bidirectional ? ["", "_reverse"] : [""]) {
    for (const p of ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]) list.push(fx.params[`${p}_l0${sfx}`]);
  }
  return list;
}

function layerCase(fx: RnnFixtureCase): OpCase {
  const arrays = layerArrays(fx);
  const nStates = fx.kind === "lstm" ? 2 : 1;
  const outputs = fx.kind === "lstm" ? [fx.y, fx.hN, fx.cN!] : [fx.y, fx.hN];
  return {
    name: `${fx.kind}Layer matches torch.nn.${fx.kind.toUpperCase()} for ${fx.name.replace(/^\w+ /, "")}`,
    inputs: (): CaseInput[] =>
      arrays.map((a) => ({ data: Float64Array.from(a.data), shape: a.shape, dtype: "float", grad: true })),
    run: (xs: Tensor[]): Tensor[] => {
      const weights: RnnDirectionWeights[] = [];
      for (let o = 1 + nStates; o < xs.length; o += 4) {
        weights.push({ wIh: xs[o], wHh: xs[o + 1], bIh: xs[o + 2], bHh: xs[o + 3] });
      }
      const options = { weights, lengths: fx.lengths };
      return fx.kind === "gru" ? gruLayer(xs[0], xs[1], options) : lstmLayer(xs[0], [xs[1], xs[2]], options);
    },
    expected: () => outputs.map((o) => Float64Array.from(o.data)),
    expectedGrads: () => arrays.map((a) => Float64Array.from(a.grad!)),
    tolerance: { float32: 2e-4, float64: 1e-9 },
    gradCheck: true,
  };
}

/** gruLayer / lstmLayer cases. */
export const cases: OpCase[] = rnnFixture()
  .filter((fx) => fx.config.numLayers === 1 && !fx.config.batchFirst)
  .map(layerCase);
