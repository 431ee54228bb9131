/**
 * Conformance cases of stacked GRU / LSTM layers: the fixture's cases with several layers or a
 * batch-first layout (tests/fixtures/ops/make_rnn.py, torch.nn.GRU / torch.nn.LSTM in float64),
 * run through the models/rnn.ts modules, the stacks every model uses: outputs, final states and
 * PyTorch's gradients of x, the initial states and every parameter, plus finite differences.
 *
 * Besides `gruLayer` / `lstmLayer` these use the layout ops the modules glue layers with
 * (`slice` for each layer's initial state, `concat` for hN, `permute` for batch-first), so a
 * backend without those kernels reports these cases as not covered.
 *
 * Not here: one-layer cases (rnn.ts), parameter names and loading a state dict by name
 * (tests/models/rnn_test.ts).
 */
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { GRU, LSTM, type RnnOptions } from "../../../models/rnn.ts";
import type { RnnDirectionWeights } from "../../../ops/rnn.ts";
import type { Tensor } from "../../../ops/tensor.ts";
import { type FixtureArray, rnnFixture, type RnnFixtureCase } from "./rnn.ts";

/** Per layer and direction, the case tensors standing in for the module's parameters. */
type CaseWeights = (l: number, given: RnnDirectionWeights[]) => RnnDirectionWeights[];

function caseWeights(fx: RnnFixtureCase, params: Tensor[]): CaseWeights {
  const byName = new Map(Object.keys(fx.params).map((name, i) => [name, params[i]]));
  return (l, given) =>
    given.map((w, d) => {
      const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
      return {
        wIh: byName.get(`weight_ih${sfx}`)!,
        wHh: byName.get(`weight_hh${sfx}`)!,
        // Without bias the module's zero biases stay.
        bIh: byName.get(`bias_ih${sfx}`) ?? w.bIh,
        bHh: byName.get(`bias_hh${sfx}`) ?? w.bHh,
      };
    });
}

/** A GRU whose layers use the case's tensors, so gradients reach the case inputs. */
class CaseGru extends GRU {
  #weights: CaseWeights;
  constructor(options: RnnOptions, weights: CaseWeights) {
    super(options);
    this.#weights = weights;
  }
  protected override layerWeights(l: number): RnnDirectionWeights[] {
    return this.#weights(l, super.layerWeights(l));
  }
}

/** An LSTM whose layers use the case's tensors. */
class CaseLstm extends LSTM {
  #weights: CaseWeights;
  constructor(options: RnnOptions, weights: CaseWeights) {
    super(options);
    this.#weights = weights;
  }
  protected override layerWeights(l: number): RnnDirectionWeights[] {
    return this.#weights(l, super.layerWeights(l));
  }
}

function stackCase(fx: RnnFixtureCase): OpCase {
  const nStates = fx.kind === "lstm" ? 2 : 1;
  const arrays: FixtureArray[] = [
    fx.x,
    fx.h0,
    ...(fx.kind === "lstm" ? [fx.c0!] : []),
    ...Object.values(fx.params),
  ];
  const outputs = fx.kind === "lstm" ? [fx.y, fx.hN, fx.cN!] : [fx.y, fx.hN];
  return {
    name: `${fx.kind.toUpperCase()} matches torch.nn.${fx.kind.toUpperCase()} for ${
      fx.name.replace(/^\w+ /, "")
    }`,
    inputs: (): CaseInput[] =>
      arrays.map((a) => ({ data: Float64Array.from(a.data), shape: a.shape, dtype: "float", grad: true })),
    run: (xs: Tensor[]): Tensor[] => {
      const options: RnnOptions = {
        ...fx.config,
        dtype: xs[0].dtype === "float64" ? "float64" : "float32",
        backend: xs[0].backend.name,
      };
      const weights = caseWeights(fx, xs.slice(1 + nStates));
      if (fx.kind === "gru") return new CaseGru(options, weights).forward(xs[0], fx.lengths, { h0: xs[1] });
      const [y, [hN, cN]] = new CaseLstm(options, weights).forward(xs[0], fx.lengths, {
        state: [xs[1], xs[2]],
      });
      return [y, hN, cN];
    },
    expected: () => outputs.map((o) => Float64Array.from(o.data)),
    expectedGrads: () => arrays.map((a) => Float64Array.from(a.grad!)),
    tolerance: { float32: 2e-4, float64: 1e-9 },
    gradCheck: true,
  };
}

/** The fixture's stacked and batch-first cases. */
export const cases: OpCase[] = rnnFixture()
  .filter((fx) => fx.config.numLayers > 1 || fx.config.batchFirst)
  .map(stackCase);
