/**
 * Conformance cases of `gruLayer` and `lstmLayer` (ops/rnn.ts), with finite-difference
 * gradients of every input (x, initial states and all weights):
 * - the one-layer cases of tests/fixtures/ops/make_rnn.py (torch.nn.GRU / torch.nn.LSTM in
 *   float64, one or both directions, with and without lengths), outputs and PyTorch's
 *   gradients;
 * - against the float64 reference (conformance/rnn_reference.ts): a bidirectional batch of
 *   mixed lengths, a hidden size above the 64 units one webgpu workgroup handles, and 50 steps.
 *
 * Not here: the fixture's stacked and batch-first cases (rnn_stack.ts, through models/rnn.ts),
 * error messages and tape memory (tests/ops/rnn_test.ts).
 */
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput } from "../conformance/reference.ts";
import { refRnnLayer } from "../conformance/rnn_reference.ts";
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

/** Runs the layer op on case tensors [x, h0 (, c0), then 4 weights per direction]. */
function runLayer(kind: "gru" | "lstm", xs: Tensor[], lengths: readonly number[] | null): Tensor[] {
  const nStates = kind === "lstm" ? 2 : 1;
  const weights: RnnDirectionWeights[] = [];
  for (let o = 1 + nStates; o < xs.length; o += 4) {
    weights.push({ wIh: xs[o], wHh: xs[o + 1], bIh: xs[o + 2], bHh: xs[o + 3] });
  }
  const options = { weights, lengths };
  return kind === "gru" ? gruLayer(xs[0], xs[1], options) : lstmLayer(xs[0], [xs[1], xs[2]], options);
}

function layerCase(fx: RnnFixtureCase): OpCase {
  const arrays = layerArrays(fx);
  const outputs = fx.kind === "lstm" ? [fx.y, fx.hN, fx.cN!] : [fx.y, fx.hN];
  return {
    name: `${fx.kind}Layer matches torch.nn.${fx.kind.toUpperCase()} for ${fx.name.replace(/^\w+ /, "")}`,
    inputs: (): CaseInput[] =>
      arrays.map((a) => ({ data: Float64Array.from(a.data), shape: a.shape, dtype: "float", grad: true })),
    run: (xs: Tensor[]): Tensor[] => runLayer(fx.kind, xs, fx.lengths),
    expected: () => outputs.map((o) => Float64Array.from(o.data)),
    expectedGrads: () => arrays.map((a) => Float64Array.from(a.grad!)),
    tolerance: { float32: 2e-4, float64: 1e-9 },
    gradCheck: true,
  };
}

/** Sizes of a reference case: T frames, N sequences, I inputs, H hidden units per direction. */
interface ReferenceLayer {
  kind: "gru" | "lstm";
  what: string;
  T: number;
  N: number;
  I: number;
  H: number;
  bidirectional: boolean;
  lengths: number[] | null;
  seed: number;
}

function referenceCase(c: ReferenceLayer): OpCase {
  const D = c.bidirectional ? 2 : 1;
  const G = (c.kind === "gru" ? 3 : 4) * c.H;
  return {
    name: `${c.kind}Layer matches the float64 reference for ${c.what}`,
    inputs: (): CaseInput[] => {
      let seed = c.seed;
      const input = (shape: number[], range: number): CaseInput =>
        floatInput(shape, seed++, { low: -range, high: range, grad: true });
      const list = [input([c.T, c.N, c.I], 1), input([D, c.N, c.H], 0.5)];
      if (c.kind === "lstm") list.push(input([D, c.N, c.H], 0.5));
      // Weights in ±1/√H as PyTorch initialises them, so the gates stay away from saturation.
      const k = 1 / Math.sqrt(c.H);
      for (let d = 0; d < D; d++) {
        list.push(input([G, c.I], k), input([G, c.H], k), input([G], k), input([G], k));
      }
      return list;
    },
    run: (xs: Tensor[]): Tensor[] => runLayer(c.kind, xs, c.lengths),
    expected: (inputs) => refRnnLayer(c.kind, inputs, { bidirectional: c.bidirectional, lengths: c.lengths }),
    tolerance: { float32: 2e-4, float64: 1e-9 },
    gradCheck: true,
  };
}

const referenceLayers: ReferenceLayer[] = [
  ...(["gru", "lstm"] as const).flatMap((kind, i): ReferenceLayer[] => [
    {
      kind,
      what: "a bidirectional batch of lengths 7, 2, 5 and 1",
      T: 7,
      N: 4,
      I: 5,
      H: 6,
      bidirectional: true,
      lengths: [7, 2, 5, 1],
      seed: 100 + i,
    },
    {
      kind,
      what: `hidden size ${kind === "gru" ? 80 : 72} (more than one workgroup of 64 units)`,
      T: 4,
      N: 2,
      I: 8,
      H: kind === "gru" ? 80 : 72,
      bidirectional: true,
      lengths: [4, 3],
      seed: 200 + i,
    },
    {
      kind,
      what: "50 steps, bidirectional with lengths 50, 37 and 12",
      T: 50,
      N: 3,
      I: 4,
      H: 8,
      bidirectional: true,
      lengths: [50, 37, 12],
      seed: 300 + i,
    },
  ]),
];

/** gruLayer / lstmLayer cases. */
export const cases: OpCase[] = [
  ...rnnFixture().filter((fx) => fx.config.numLayers === 1 && !fx.config.batchFirst).map(layerCase),
  ...referenceLayers.map(referenceCase),
];
