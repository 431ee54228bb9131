/**
 * DeepSpeech2 as OpenSeq2Seq builds it (DeepSpeech2Encoder): 2-D convolutions over
 * (time, frequency) with batch norm and (clipped) ReLU, then bidirectional GRU layers with
 * per-utterance lengths, then a fully connected hidden layer. No row convolution.
 *
 * Input [N, F, T] features; output [T', N, hidden] time-major and the lengths after strides.
 * Padded frames are zeroed before every convolution and skipped by batch statistics and by
 * the GRU (packed-sequence semantics), so padding never changes valid frames.
 */
import { dropoutMask, mul, permute, reshape, type Rng, type Tensor } from "../ops/mod.ts";
import { BatchNorm, Conv2d, Linear } from "./layers.ts";
import { Module } from "./module.ts";
import { GRU } from "./rnn.ts";
import { activateMasked, frameMask } from "./tdnn.ts";

/** One 2-D convolution layer: kernel and stride as [time, frequency], as in OpenSeq2Seq. */
export interface Conv2dLayerConfig {
  /** Kernel size [time, frequency]; both odd. */
  kernel: [number, number];
  /** Strides [time, frequency]; the time strides multiply into the encoder's `timeStride`. */
  stride: [number, number];
  /** Output channels. */
  channels: number;
}

/** A DeepSpeech2 encoder (ds2_large, ds2_small, ds2_toy). */
export interface DeepSpeech2EncoderConfig {
  /** Selects the DeepSpeech2 family in an `EncoderConfig`. */
  kind: "ds2";
  /** The 2-D convolutions in order, each followed by batch norm and the activation. */
  convLayers: Conv2dLayerConfig[];
  /** Stacked GRU layers. */
  rnnLayers: number;
  /** Hidden size of each GRU direction. */
  rnnUnits: number;
  /** Bidirectional GRUs: both directions' outputs concatenated (2·rnnUnits wide). */
  bidirectional: boolean;
  /** Width of the fully connected layer after the RNN (n_hidden). */
  hidden: number;
  /** Dropout probability (1 − keep_prob) after the hidden layer and between RNN layers. */
  dropout: number;
  /** "relu", or "clipped_relu" = min(max(x, 0), 20); after every batch norm and the hidden layer. */
  activation: "relu" | "clipped_relu";
  /** PyTorch-sense momentum of every batch norm (TF decay 0.9 → 0.1). */
  bnMomentum: number;
  /** Epsilon of every batch norm (added to the variance). */
  bnEps: number;
}

/** The DeepSpeech2 encoder. */
export class DeepSpeech2Encoder extends Module {
  /** The settings the layers were built from. */
  readonly config: DeepSpeech2EncoderConfig;
  /** One Conv2d (no bias) per `config.convLayers` entry (children conv0, conv1, ...). */
  readonly convs: Conv2d[] = [];
  /** The batch norm after each convolution (children bn0, bn1, ...). */
  readonly bns: BatchNorm[] = [];
  /** The time-major GRU stack over [T', N, C·F'] (last conv's channels × remaining frequency bins). */
  readonly rnn: GRU;
  /** Fully connected hidden layer from the GRU output to `config.hidden` units. */
  readonly fc: Linear;
  /** Width of the output: `config.hidden`. */
  readonly outChannels: number;
  /** Random source of the initialisation and of the dropout after the hidden layer. */
  readonly rng: Rng;

  /** Builds the layers for `inFeatures` frequency bins per frame, initialised from `rng`. */
  constructor(inFeatures: number, config: DeepSpeech2EncoderConfig, rng: Rng) {
    super();
    this.config = config;
    this.rng = rng;
    let cin = 1, freq = inFeatures;
    config.convLayers.forEach((c, i) => {
      this.convs.push(
        this.child(`conv${i}`, new Conv2d(cin, c.channels, c.kernel, { stride: c.stride, rng })),
      );
      this.bns.push(
        this.child(`bn${i}`, new BatchNorm(c.channels, { momentum: config.bnMomentum, eps: config.bnEps })),
      );
      cin = c.channels;
      freq = Math.ceil(freq / c.stride[1]);
    });
    this.rnn = this.child(
      "rnn",
      new GRU({
        inputSize: cin * freq,
        hiddenSize: config.rnnUnits,
        numLayers: config.rnnLayers,
        bidirectional: config.bidirectional,
        batchFirst: false,
        dropout: config.dropout,
        seed: rng.nextUint32(),
      }),
    );
    const rnnOut = config.rnnUnits * (config.bidirectional ? 2 : 1);
    this.fc = this.child("fc", new Linear(rnnOut, config.hidden, { rng }));
    this.outChannels = config.hidden;
  }

  /** Total time stride. */
  get timeStride(): number {
    return this.config.convLayers.reduce((s, c) => s * c.stride[0], 1);
  }

  /** Output lengths for input lengths. */
  outputLengths(lengths: Int32Array): Int32Array {
    const out = Int32Array.from(lengths);
    for (const c of this.config.convLayers) {
      for (let n = 0; n < out.length; n++) out[n] = Math.ceil(out[n] / c.stride[0]);
    }
    return out;
  }

  /** x: [N, F, T], lengths → [T', N, hidden] and lengths. */
  forward(x: Tensor, lengths: Int32Array): { output: Tensor; lengths: Int32Array } {
    const [n, f, t] = x.shape;
    let lens = Int32Array.from(lengths);
    // [N, F, T] → [N, 1, T, F]: kernels are given as [time, frequency].
    let h = reshape(permute(x, [0, 2, 1]), [n, 1, t, f]);
    const maskOf = (y: Tensor): Tensor => reshape(frameMask(lens, y.shape[2], y), [n, 1, y.shape[2], 1]);
    // Every activation but the last also zeroes the padded frames the next convolution must not
    // see (`activateMasked`), so only the features take a masking multiply of their own.
    h = mul(h, maskOf(h));
    this.convs.forEach((conv, i) => {
      h = conv.forward(h);
      lens = lens.map((l) => Math.ceil(l / this.config.convLayers[i].stride[0]));
      const frames = i < this.convs.length - 1 ? maskOf(h) : null;
      h = activateMasked(this.bns[i].forward(h, lens), 0, this.config.activation, { frameMask: frames });
    });
    const [, c, t2, f2] = h.shape;
    // [N, C, T', F'] → [T', N, C·F'] for the time-major GRU.
    const seq = reshape(permute(h, [2, 0, 1, 3]), [t2, n, c * f2]);
    const [rnnOut] = this.rnn.forward(seq, lens);
    const fc = this.fc.forward(rnnOut);
    const drop = dropoutMask(fc, this.config.dropout, { training: this.training, rng: this.rng });
    const hidden = activateMasked(fc, 0, this.config.activation, { mask: drop });
    return { output: hidden, lengths: lens };
  }
}
