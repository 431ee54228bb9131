/**
 * `GRU` and `LSTM`: multi-layer, optionally bidirectional recurrent layers with PyTorch's
 * constructor options, parameter names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...), gate
 * order (GRU r, z, n; LSTM i, f, g, o) and initialisation (uniform in ±1/√hiddenSize), so a
 * torch.nn.GRU / torch.nn.LSTM state_dict loads unchanged.
 *
 * `forward(x, lengths)` behaves like running the PyTorch module on
 * pack_padded_sequence(x, lengths, enforce_sorted=False) and padding the result back: every
 * sequence stops at its own length, outputs past it are 0, the reverse direction starts at
 * the sequence's last valid frame, and hN is the state at that frame. Each layer is one
 * `gruLayer` / `lstmLayer` op (ops/rnn.ts); dropout is applied between layers in training
 * mode, as in PyTorch.
 *
 * Not here: proj_size, and returning packed sequences (lengths are passed alongside instead).
 */
import {
  concat,
  dropout,
  gruLayer,
  lstmLayer,
  narrow,
  randomUniform,
  Rng,
  type RnnDirectionWeights,
  type Tensor,
  transpose,
  zeros,
} from "../ops/mod.ts";
import { Module } from "./module.ts";

/** Options of `GRU` and `LSTM`, with PyTorch's meanings. */
export interface RnnOptions {
  /** Features per input frame. */
  inputSize: number;
  /** Features of the hidden state (per direction). */
  hiddenSize: number;
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Add a reverse direction; outputs then have 2·hiddenSize features (default false). */
  bidirectional?: boolean;
  /** Input and output are [N, T, F] instead of [T, N, F] (default false). */
  batchFirst?: boolean;
  /** Use bias_ih / bias_hh (default true). */
  bias?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Seed of the initialisation and of the dropout masks (default 0). */
  seed?: number;
  /** Parameter dtype (default float32). */
  dtype?: "float32" | "float64";
  /** Backend of the parameters (default: the current default backend). */
  backend?: string;
}

/**
 * Per-sequence lengths, kept on the host: they become the layer ops' `lengths` attribute (as
 * cuDNN's seqLengthArray), so no step of the forward reads a device buffer back.
 */
export type SequenceLengths = Int32Array | readonly number[];

function hostLengths(lengths: SequenceLengths | undefined | null): number[] | null {
  if (lengths === undefined || lengths === null) return null;
  return Array.from(lengths);
}

/** What GRU and LSTM share: parameters, initialisation, layouts, states between layers. */
export abstract class RecurrentBase extends Module {
  /** The options, with defaults filled in. */
  readonly options: Required<Omit<RnnOptions, "backend">> & { backend?: string };
  #rng: Rng;
  #gates: number;
  /** Zero biases used when `bias` is false (not parameters). */
  #zeroBias: Tensor | null = null;

  /** Registers the parameters of every layer and direction, initialised from `options.seed`. */
  constructor(kind: "GRU" | "LSTM", options: RnnOptions) {
    super();
    this.options = {
      numLayers: 1,
      bidirectional: false,
      batchFirst: false,
      bias: true,
      dropout: 0,
      seed: 0,
      dtype: "float32",
      ...options,
    };
    const { inputSize, hiddenSize: H, numLayers, bidirectional, bias, dtype, backend } = this.options;
    if (!(H > 0 && inputSize > 0 && numLayers > 0)) {
      throw new RangeError(`${kind}: inputSize, hiddenSize and numLayers must be positive`);
    }
    this.#gates = kind === "GRU" ? 3 : 4;
    this.#rng = new Rng(this.options.seed);
    const k = 1 / Math.sqrt(H);
    const init = (shape: number[]): Tensor =>
      randomUniform(shape, this.#rng, { low: -k, high: k, dtype, backend });
    const G = this.#gates * H;
    for (let l = 0; l < numLayers; l++) {
      const inSize = l === 0 ? inputSize : H * (bidirectional ? 2 : 1);
      for (const sfx of bidirectional ? ["", "_reverse"] : [""]) {
        this.param(`weight_ih_l${l}${sfx}`, init([G, inSize]));
        this.param(`weight_hh_l${l}${sfx}`, init([G, H]));
        if (bias) {
          this.param(`bias_ih_l${l}${sfx}`, init([G]));
          this.param(`bias_hh_l${l}${sfx}`, init([G]));
        }
      }
    }
    // Created here, outside any caller's scope, so that no tidy() disposes them.
    if (!bias) this.#zeroBias = zeros([G], { dtype, backend });
  }

  /** Number of directions. */
  get numDirections(): number {
    return this.options.bidirectional ? 2 : 1;
  }

  /** Weights of layer `l`, per direction, as the layer ops take them. */
  protected layerWeights(l: number): RnnDirectionWeights[] {
    const p = this.parameters();
    const list: RnnDirectionWeights[] = [];
    for (const sfx of this.options.bidirectional ? ["", "_reverse"] : [""]) {
      list.push({
        wIh: p.get(`weight_ih_l${l}${sfx}`)!,
        wHh: p.get(`weight_hh_l${l}${sfx}`)!,
        bIh: this.options.bias ? p.get(`bias_ih_l${l}${sfx}`)! : this.#zeroBias!,
        bHh: this.options.bias ? p.get(`bias_hh_l${l}${sfx}`)! : this.#zeroBias!,
      });
    }
    return list;
  }

  /** x in the module's layout → time-major [T, N, F], checking the feature size. */
  protected timeMajor(x: Tensor): Tensor {
    if (x.rank !== 3) {
      throw new RangeError(`${this.constructor.name}: input must be rank 3, got [${x.shape}]`);
    }
    if (x.shape[2] !== this.options.inputSize) {
      throw new RangeError(
        `${this.constructor.name}: input has ${
          x.shape[2]
        } features, expected inputSize ${this.options.inputSize}`,
      );
    }
    return this.options.batchFirst ? transpose(x, 0, 1) : x;
  }

  /** Layer output → the next layer's input (dropout between layers while training). */
  protected betweenLayers(y: Tensor, l: number): Tensor {
    const p = this.options.dropout;
    if (l === this.options.numLayers - 1 || p === 0 || !this.training) return y;
    return dropout(y, p, { training: true, rng: this.#rng });
  }

  /** An initial state [L·D, N, H] (given, or zeros), sliced per layer. */
  protected initialState(given: Tensor | undefined, n: number, like: Tensor, what: string): Tensor {
    const shape = [this.options.numLayers * this.numDirections, n, this.options.hiddenSize];
    if (!given) return zeros(shape, { dtype: like.dtype, backend: like.backend.name });
    if (given.shape.join() !== shape.join()) {
      throw new RangeError(`${this.constructor.name}: ${what} must be [${shape}], got [${given.shape}]`);
    }
    return given;
  }

  /** The slice of an [L·D, N, H] state for layer `l`. */
  protected layerState(state: Tensor, l: number): Tensor {
    const D = this.numDirections;
    return this.options.numLayers === 1 ? state : narrow(state, 0, l * D, D);
  }

  /** Output in the module's layout. */
  protected outputLayout(y: Tensor): Tensor {
    return this.options.batchFirst ? transpose(y, 0, 1) : y;
  }
}

/**
 * A multi-layer GRU like `torch.nn.GRU` (gates r, z, n;
 * n = tanh(W_in x + b_in + r·(W_hn h + b_hn))).
 *
 * @example
 * ```ts
 * const gru = new GRU({ inputSize: 160, hiddenSize: 512, numLayers: 2, bidirectional: true });
 * const [y, hN] = gru.forward(x, lengths); // x [T, N, 160] → y [T, N, 1024], hN [4, N, 512]
 * ```
 */
export class GRU extends RecurrentBase {
  /** Builds the layer with PyTorch-like initialisation from `options.seed`. */
  constructor(options: RnnOptions) {
    super("GRU", options);
  }

  /**
   * Runs the sequence batch. `lengths` (optional) are the valid frames per sequence;
   * `options.h0` is the initial state [numLayers·D, N, H] (zeros by default).
   * Returns [output ([T, N, D·H], or [N, T, D·H] when batchFirst), hN [numLayers·D, N, H]].
   */
  forward(x: Tensor, lengths?: SequenceLengths | null, options: { h0?: Tensor } = {}): [Tensor, Tensor] {
    let input = this.timeMajor(x);
    const lens = hostLengths(lengths);
    const h0 = this.initialState(options.h0, input.shape[1], input, "h0");
    const hN: Tensor[] = [];
    for (let l = 0; l < this.options.numLayers; l++) {
      const [y, h] = gruLayer(input, this.layerState(h0, l), {
        weights: this.layerWeights(l),
        lengths: lens,
      });
      hN.push(h);
      input = this.betweenLayers(y, l);
    }
    return [this.outputLayout(input), hN.length === 1 ? hN[0] : concat(hN, 0)];
  }
}

/**
 * A multi-layer LSTM like `torch.nn.LSTM` (gates i, f, g, o; c' = f·c + i·g, h' = o·tanh(c')).
 *
 * @example
 * ```ts
 * const lstm = new LSTM({ inputSize: 40, hiddenSize: 256, numLayers: 3 });
 * const [y, [hN, cN]] = lstm.forward(x, lengths);
 * ```
 */
export class LSTM extends RecurrentBase {
  /** Builds the layer with PyTorch-like initialisation from `options.seed`. */
  constructor(options: RnnOptions) {
    super("LSTM", options);
  }

  /**
   * Runs the sequence batch. `lengths` (optional) are the valid frames per sequence;
   * `options.state` is the initial [h0, c0], each [numLayers·D, N, H] (zeros by default).
   * Returns [output, [hN, cN]] like PyTorch.
   */
  forward(
    x: Tensor,
    lengths?: SequenceLengths | null,
    options: { state?: [Tensor, Tensor] } = {},
  ): [Tensor, [Tensor, Tensor]] {
    let input = this.timeMajor(x);
    const lens = hostLengths(lengths);
    const n = input.shape[1];
    const h0 = this.initialState(options.state?.[0], n, input, "h0");
    const c0 = this.initialState(options.state?.[1], n, input, "c0");
    const hN: Tensor[] = [], cN: Tensor[] = [];
    for (let l = 0; l < this.options.numLayers; l++) {
      const [y, h, c] = lstmLayer(input, [this.layerState(h0, l), this.layerState(c0, l)], {
        weights: this.layerWeights(l),
        lengths: lens,
      });
      hN.push(h);
      cN.push(c);
      input = this.betweenLayers(y, l);
    }
    const join = (list: Tensor[]): Tensor => (list.length === 1 ? list[0] : concat(list, 0));
    return [this.outputLayout(input), [join(hN), join(cN)]];
  }
}
