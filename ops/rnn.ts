/**
 * GRU and LSTM layers as coarse ops: one op runs one layer (both directions when
 * bidirectional) over a whole sequence batch, and one explicit backward op returns every
 * gradient of it. This is the granularity of cuDNN's RNN API (cudnnRNNForward with a reserve
 * space, cudnnRNNBackwardData_v8 + cudnnRNNBackwardWeights_v8), so a GPU backend maps each op
 * onto those calls; the cpu kernels are in ops/backends/cpu/rnn.ts.
 *
 * Semantics are PyTorch's (torch.nn.GRU / torch.nn.LSTM with pack_padded_sequence):
 * - GRU gates r, z, n: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise,
 *   n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
 * - LSTM gates i, f, g, o: c' = f·c + i·g, h' = o·tanh(c').
 * - `lengths[b]` frames of sequence b are valid: the forward direction stops after frame
 *   lengths[b] − 1, the reverse direction starts there; outputs past a sequence's length are
 *   0 and hN is the state at the sequence's own last processed frame.
 *
 * Layouts: x [T, N, I] (time-major), h0/c0 [D, N, H] (D = 2 when bidirectional),
 * y [T, N, D·H] (forward direction in columns 0..H−1, reverse in H..2H−1, as PyTorch),
 * weights per direction w_ih [G·H, I], w_hh [G·H, H], b_ih [G·H], b_hh [G·H] with G = 3 (GRU)
 * or 4 (LSTM), gate blocks in PyTorch's order. The third (fourth for LSTM) output is the
 * reserve space backward reads: GRU [D, T, N, 4H] holding r, z, n and W_hn h + b_hn per step;
 * LSTM [D, T, N, 5H] holding i, f, g, o and c per step.
 *
 * Not here: stacking layers, dropout between them, batch-first layouts (models/rnn.ts);
 * projections (proj_size) and the packed cuDNN weight blob.
 */
import { defineOp, type OpDef, type OutputSpec } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import type { Tensor } from "./tensor.ts";
import { zeros } from "./creation.ts";

/** Attributes shared by the GRU and LSTM layer ops and their backward ops. */
export interface RnnLayerAttrs {
  /** Run a reverse direction too (its weights follow the forward direction's in the inputs). */
  readonly bidirectional: boolean;
  /**
   * Valid frames per sequence (host numbers, like cuDNN's seqLengthArray), each in 1..T;
   * null when every sequence has all T frames.
   */
  readonly lengths: readonly number[] | null;
}

/** Attributes of the backward ops: the forward's, plus whether dx is wanted. */
export interface RnnLayerBackwardAttrs extends RnnLayerAttrs {
  /** False for a first layer fed by data, so the [T·N, G·H]×[G·H, I] product is skipped. */
  readonly needsInputGrad: boolean;
}

/** Sizes of one RNN layer call, read from its inputs. */
export interface RnnDims {
  /** Frames. */
  T: number;
  /** Sequences in the batch. */
  N: number;
  /** Input features. */
  I: number;
  /** Hidden features per direction. */
  H: number;
  /** Number of directions (1 or 2). */
  D: number;
}

/** Per-direction weights of one layer, in PyTorch's gate order. */
export interface RnnDirectionWeights {
  /** weight_ih: [G·H, I], gate blocks stacked (GRU r, z, n; LSTM i, f, g, o). */
  wIh: Tensor;
  /** weight_hh: [G·H, H]. */
  wHh: Tensor;
  /** bias_ih: [G·H]. */
  bIh: Tensor;
  /** bias_hh: [G·H]. */
  bHh: Tensor;
}

/** Checks the shapes and lengths of a GRU or LSTM layer call and returns its sizes. */
export function rnnLayerDims(
  kind: "gru" | "lstm",
  inputs: readonly Tensor[],
  attrs: RnnLayerAttrs,
): RnnDims {
  const gates = kind === "gru" ? 3 : 4;
  const nStates = kind === "gru" ? 1 : 2;
  const D = attrs.bidirectional ? 2 : 1;
  const name = `${kind}Layer`;
  if (inputs.length !== 1 + nStates + 4 * D) {
    throw new RangeError(`${name}: expected ${1 + nStates + 4 * D} inputs, got ${inputs.length}`);
  }
  const x = inputs[0];
  if (x.rank !== 3) throw new RangeError(`${name}: x must be [T, N, I], got [${x.shape}]`);
  const [T, N, I] = x.shape;
  if (x.dtype === "int32") throw new TypeError(`${name}: x must be a float tensor, got int32`);
  const H = inputs[1].shape[2];
  const expect = (t: Tensor, shape: number[], what: string): void => {
    if (t.rank !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new RangeError(`${name}: ${what} must be [${shape}], got [${t.shape}]`);
    }
    if (t.dtype !== x.dtype) throw new TypeError(`${name}: ${what} is ${t.dtype} but x is ${x.dtype}`);
  };
  for (let s = 0; s < nStates; s++) expect(inputs[1 + s], [D, N, H], s === 0 ? "h0" : "c0");
  for (let d = 0; d < D; d++) {
    const o = 1 + nStates + 4 * d;
    const sfx = d === 1 ? "_reverse" : "";
    expect(inputs[o], [gates * H, I], `weight_ih${sfx}`);
    expect(inputs[o + 1], [gates * H, H], `weight_hh${sfx}`);
    expect(inputs[o + 2], [gates * H], `bias_ih${sfx}`);
    expect(inputs[o + 3], [gates * H], `bias_hh${sfx}`);
  }
  if (attrs.lengths) {
    if (attrs.lengths.length !== N) {
      throw new RangeError(`${name}: ${attrs.lengths.length} lengths for a batch of ${N}`);
    }
    for (const len of attrs.lengths) {
      if (!Number.isInteger(len) || len < 1 || len > T) {
        throw new RangeError(`${name}: sequence length ${len} is outside 1..${T}`);
      }
    }
  }
  return { T, N, I, H, D };
}

/** Positions of the inputs backward reads: x, the states, and both weight matrices per direction. */
function savedInputs(nStates: number) {
  return (attrs: RnnLayerAttrs): number[] => {
    const list = [0];
    for (let s = 0; s < nStates; s++) list.push(1 + s);
    for (let d = 0; d < (attrs.bidirectional ? 2 : 1); d++) {
      const o = 1 + nStates + 4 * d;
      list.push(o, o + 1);
    }
    return list;
  };
}

function zerosFor(like: Tensor, shape: readonly number[]): Tensor {
  return zeros(shape, { dtype: like.dtype, backend: like.backend.name });
}

/** Declaration of `gruLayer`. Kernels: ops/backends/<name>/rnn.ts. */
export const gruLayerOp: OpDef<RnnLayerAttrs> = defineOp<RnnLayerAttrs>({
  name: "gruLayer",
  outputs(inputs, attrs): OutputSpec[] {
    const { T, N, H, D } = rnnLayerDims("gru", inputs, attrs);
    const dtype = inputs[0].dtype;
    return [
      { shape: [T, N, D * H], dtype },
      { shape: [D, N, H], dtype },
      { shape: [D, T, N, 4 * H], dtype },
    ];
  },
  saveInputs: savedInputs(1),
  saveOutputs: [0, 2],
  backward({ grads, inputs, outputs, attrs, needsGrad }) {
    const [x, h0] = inputs as Tensor[];
    const [y, , ws] = outputs as Tensor[];
    const D = attrs.bidirectional ? 2 : 1;
    const dy = grads[0] ?? zerosFor(y, y.shape);
    const dhN = grads[1] ?? zerosFor(h0, h0.shape);
    const weights: Tensor[] = [];
    for (let d = 0; d < D; d++) weights.push(inputs[2 + 4 * d]!, inputs[3 + 4 * d]!);
    const g = runOp(gruLayerBackwardOp, [x, h0, y, ws, dy, dhN, ...weights], {
      ...attrs,
      needsInputGrad: needsGrad[0],
    });
    return [needsGrad[0] ? g[0] : null, ...g.slice(1)];
  },
});

/**
 * Declaration of `gruLayerBackward`: inputs [x, h0, y, reserve, dy, dhN, w_ih, w_hh (per
 * direction)], outputs [dx, dh0, then dw_ih, dw_hh, db_ih, db_hh per direction].
 */
export const gruLayerBackwardOp: OpDef<RnnLayerBackwardAttrs> = defineOp<RnnLayerBackwardAttrs>({
  name: "gruLayerBackward",
  outputs(inputs, attrs): OutputSpec[] {
    return rnnBackwardOutputs(inputs, attrs, 1, 3);
  },
});

/** Declaration of `lstmLayer`. Kernels: ops/backends/<name>/rnn.ts. */
export const lstmLayerOp: OpDef<RnnLayerAttrs> = defineOp<RnnLayerAttrs>({
  name: "lstmLayer",
  outputs(inputs, attrs): OutputSpec[] {
    const { T, N, H, D } = rnnLayerDims("lstm", inputs, attrs);
    const dtype = inputs[0].dtype;
    return [
      { shape: [T, N, D * H], dtype },
      { shape: [D, N, H], dtype },
      { shape: [D, N, H], dtype },
      { shape: [D, T, N, 5 * H], dtype },
    ];
  },
  saveInputs: savedInputs(2),
  saveOutputs: [0, 3],
  backward({ grads, inputs, outputs, attrs, needsGrad }) {
    const [x, h0, c0] = inputs as Tensor[];
    const [y, , , ws] = outputs as Tensor[];
    const D = attrs.bidirectional ? 2 : 1;
    const dy = grads[0] ?? zerosFor(y, y.shape);
    const dhN = grads[1] ?? zerosFor(h0, h0.shape);
    const dcN = grads[2] ?? zerosFor(c0, c0.shape);
    const weights: Tensor[] = [];
    for (let d = 0; d < D; d++) weights.push(inputs[3 + 4 * d]!, inputs[4 + 4 * d]!);
    const g = runOp(lstmLayerBackwardOp, [x, h0, c0, y, ws, dy, dhN, dcN, ...weights], {
      ...attrs,
      needsInputGrad: needsGrad[0],
    });
    return [needsGrad[0] ? g[0] : null, ...g.slice(1)];
  },
});

/**
 * Declaration of `lstmLayerBackward`: inputs [x, h0, c0, y, reserve, dy, dhN, dcN, w_ih, w_hh
 * (per direction)], outputs [dx, dh0, dc0, then dw_ih, dw_hh, db_ih, db_hh per direction].
 */
export const lstmLayerBackwardOp: OpDef<RnnLayerBackwardAttrs> = defineOp<RnnLayerBackwardAttrs>({
  name: "lstmLayerBackward",
  outputs(inputs, attrs): OutputSpec[] {
    return rnnBackwardOutputs(inputs, attrs, 2, 4);
  },
});

function rnnBackwardOutputs(
  inputs: readonly Tensor[],
  attrs: RnnLayerBackwardAttrs,
  nStates: number,
  gates: number,
): OutputSpec[] {
  const x = inputs[0];
  const [T, N, I] = x.shape;
  const [D, , H] = inputs[1].shape;
  const dtype = x.dtype;
  const specs: OutputSpec[] = [{ shape: attrs.needsInputGrad ? [T, N, I] : [0], dtype }];
  for (let s = 0; s < nStates; s++) specs.push({ shape: [D, N, H], dtype });
  for (let d = 0; d < D; d++) {
    specs.push(
      { shape: [gates * H, I], dtype },
      { shape: [gates * H, H], dtype },
      { shape: [gates * H], dtype },
      { shape: [gates * H], dtype },
    );
  }
  return specs;
}

function layerInputs(states: Tensor[], weights: readonly RnnDirectionWeights[], x: Tensor): Tensor[] {
  const list = [x, ...states];
  for (const w of weights) list.push(w.wIh, w.wHh, w.bIh, w.bHh);
  return list;
}

/**
 * One GRU layer over a time-major batch, like one layer of `torch.nn.GRU` on a packed
 * sequence. Returns [y [T, N, D·H], hN [D, N, H]].
 *
 * @example
 * ```ts
 * const [y, hN] = gruLayer(x, h0, [{ wIh, wHh, bIh, bHh }], { lengths: [5, 3] });
 * ```
 */
export function gruLayer(
  x: Tensor,
  h0: Tensor,
  options: { weights: readonly RnnDirectionWeights[]; lengths?: readonly number[] | null },
): [Tensor, Tensor] {
  const [y, hN] = runOp(gruLayerOp, layerInputs([h0], options.weights, x), {
    bidirectional: options.weights.length === 2,
    lengths: options.lengths ?? null,
  });
  return [y, hN];
}

/**
 * One LSTM layer over a time-major batch, like one layer of `torch.nn.LSTM` on a packed
 * sequence. Returns [y [T, N, D·H], hN [D, N, H], cN [D, N, H]].
 *
 * @example
 * ```ts
 * const [y, hN, cN] = lstmLayer(x, [h0, c0], { weights: [fwd, rev] });
 * ```
 */
export function lstmLayer(
  x: Tensor,
  state: [Tensor, Tensor],
  options: { weights: readonly RnnDirectionWeights[]; lengths?: readonly number[] | null },
): [Tensor, Tensor, Tensor] {
  const [y, hN, cN] = runOp(lstmLayerOp, layerInputs(state, options.weights, x), {
    bidirectional: options.weights.length === 2,
    lengths: options.lengths ?? null,
  });
  return [y, hN, cN];
}
