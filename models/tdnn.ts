/**
 * The TDNN (1-D convolution) encoder family of OpenSeq2Seq: Jasper (residual and dense
 * residual), Wave2Letter+ (no residual, clipped ReLU) and QuartzNet (separable convolutions).
 *
 * A block is `repeat` sub-blocks of conv (no bias) → batch norm → activation → dropout. In a
 * residual block the last sub-block adds, before its activation, a 1×1 conv + batch-norm
 * projection of the block input (dense residual: of every earlier residual block's input,
 * the first being the prologue output) — OpenSeq2Seq's `conv_bn_res_bn_actv`.
 * Frames beyond each utterance's length are zeroed before every convolution (use_conv_mask:
 * the features by a multiply, every later input inside the fused activation pass that made it),
 * and batch statistics skip them, so padding never changes valid frames.
 *
 * Input [N, F, T] features; output [N, C_last, T'] and the lengths after strides.
 */
import {
  type ActivationMasks,
  add,
  addHardtanhMasked,
  addReluMasked,
  dropoutMask,
  mul,
  type Rng,
  type Tensor,
  tensor,
} from "../ops/mod.ts";
import { BatchNorm, Conv1d } from "./layers.ts";
import { Module } from "./module.ts";

/** One group of sub-blocks in a TDNN encoder config (OpenSeq2Seq's convnet_layers entry). */
export interface ConvBlockConfig {
  /** Sub-blocks in the block. */
  repeat: number;
  /** Kernel width in frames. */
  kernel: number;
  /** Time stride of every sub-block (default 1), so the block shortens time by stride^repeat. */
  stride?: number;
  /** Dilation of every sub-block's convolution; default 1. */
  dilation?: number;
  /** Output channels of every sub-block. */
  channels: number;
  /** Dropout probability (OpenSeq2Seq gives keep_prob; this is 1 − keep_prob). */
  dropout: number;
  /** Residual connection into the last sub-block. */
  residual?: boolean;
  /** Dense residual: projections of all earlier residual blocks' inputs. */
  residualDense?: boolean;
  /** Depthwise + pointwise convolution (QuartzNet). */
  separable?: boolean;
}

/** A TDNN encoder: Jasper, Wave2Letter+, QuartzNet. */
export interface TdnnEncoderConfig {
  /** Selects the TDNN family in an `EncoderConfig`. */
  kind: "tdnn";
  /** The blocks, input to output. */
  blocks: ConvBlockConfig[];
  /** "relu", or "clipped_relu" = min(max(x, 0), 20). */
  activation: "relu" | "clipped_relu";
  /** PyTorch-sense momentum of every batch norm (TF decay 0.9 → 0.1). */
  bnMomentum: number;
  /** Epsilon of every batch norm (added to the variance). */
  bnEps: number;
}

/**
 * activation(x + residual) · masks in one elementwise pass (and one backward pass): the
 * sub-block's activation, dropout and the frame mask the next convolution needs.
 */
export function activateMasked(
  x: Tensor,
  residual: Tensor | number,
  kind: TdnnEncoderConfig["activation"],
  masks: ActivationMasks,
): Tensor {
  return kind === "relu"
    ? addReluMasked(x, residual, masks)
    : addHardtanhMasked(x, residual, { ...masks, minVal: 0, maxVal: 20 });
}

/** [N, 1, T] float mask of valid frames, built on the host from lengths. */
export function frameMask(lengths: Int32Array, maxFrames: number, like: Tensor): Tensor {
  const m = new Float32Array(lengths.length * maxFrames);
  for (let n = 0; n < lengths.length; n++) {
    m.fill(1, n * maxFrames, n * maxFrames + Math.min(lengths[n], maxFrames));
  }
  return tensor(m, [lengths.length, 1, maxFrames], { backend: like.backend.name, dtype: like.dtype });
}

/**
 * The convolution of one sub-block (or of a residual projection) with its batch norm; the
 * activation and dropout are applied by `TdnnEncoder.forward`.
 */
export class ConvBn extends Module {
  /**
   * One Conv1d without bias (child `conv`), or a depthwise then a pointwise one (`depthwise`,
   * `pointwise`) in a separable block.
   */
  readonly convs: Conv1d[];
  /** Batch norm over the output channels (child `bn`). */
  readonly bn: BatchNorm;

  /**
   * Convolutions from `cin` to `cout` channels with a `kernel`-frame kernel (default `b.kernel`)
   * and `b`'s stride, dilation and separability (a 1-frame kernel takes none of them), and a
   * batch norm with `cfg`'s momentum and epsilon.
   */
  constructor(
    cin: number,
    cout: number,
    b: ConvBlockConfig,
    cfg: TdnnEncoderConfig,
    rng: Rng,
    kernel = b.kernel,
  ) {
    super();
    const opts = { stride: b.stride ?? 1, dilation: b.dilation ?? 1, rng };
    this.convs = b.separable && kernel > 1
      ? [
        this.child("depthwise", new Conv1d(cin, cin, kernel, { ...opts, groups: cin })),
        this.child("pointwise", new Conv1d(cin, cout, 1, { rng })),
      ]
      : [this.child("conv", new Conv1d(cin, cout, kernel, kernel === 1 ? { rng } : opts))];
    this.bn = this.child("bn", new BatchNorm(cout, { momentum: cfg.bnMomentum, eps: cfg.bnEps }));
  }

  /**
   * Convolutions of x with its padded frames zeroed first (inMask null: x is already zeroed
   * there). Only the first convolution needs the mask: the pointwise one after a depthwise
   * convolution is per frame, so valid output frames never see padded ones (and a strided
   * depthwise output no longer has inMask's length).
   */
  conv(x: Tensor, inMask: Tensor | null): Tensor {
    let y = inMask ? mul(x, inMask) : x;
    for (const c of this.convs) y = c.forward(y);
    return y;
  }

  /** Batch norm with statistics over the valid frames of the (possibly strided) output. */
  norm(y: Tensor, lengths: Int32Array): Tensor {
    return this.bn.forward(y, lengths);
  }

  /**
   * `conv` then `norm`: x [N, Cin, T], its frame mask [N, 1, T] (null when x is zero there
   * already), output lengths → [N, Cout, T'].
   */
  forward(x: Tensor, mask: Tensor | null, lengths: Int32Array): Tensor {
    return this.norm(this.conv(x, mask), lengths);
  }
}

/** A block: sub-blocks plus residual projections. */
export class TdnnBlock extends Module {
  /** The `repeat` sub-blocks (children sub0, sub1, ...); the first maps `cin` to `channels`. */
  readonly subs: ConvBn[] = [];
  /** 1×1 conv + batch-norm projections of the residual sources (res0, res1, ...); empty without residual. */
  readonly projections: ConvBn[] = [];

  /**
   * A block with `cin` input channels; `residualSources` holds the channels of each residual
   * input (the block input, or every earlier residual block's input for a dense residual).
   */
  constructor(cin: number, b: ConvBlockConfig, residualSources: number[], cfg: TdnnEncoderConfig, rng: Rng) {
    super();
    for (let r = 0; r < b.repeat; r++) {
      this.subs.push(this.child(`sub${r}`, new ConvBn(r === 0 ? cin : b.channels, b.channels, b, cfg, rng)));
    }
    residualSources.forEach((ch, i) => {
      this.projections.push(
        this.child(
          `res${i}`,
          new ConvBn(ch, b.channels, { ...b, stride: 1, dilation: 1, separable: false }, cfg, rng, 1),
        ),
      );
    });
  }
}

/** The encoder; `forward` returns [N, C, T'] and the output lengths. */
export class TdnnEncoder extends Module {
  /** The settings the blocks were built from. */
  readonly config: TdnnEncoderConfig;
  /** One block per `config.blocks` entry (children block0, block1, ...). */
  readonly blocks: TdnnBlock[] = [];
  /** Channels of the output: the last block's `channels`. */
  readonly outChannels: number;
  /** Random source of the initialisation and of the dropout masks. */
  readonly rng: Rng;

  /** Builds the blocks for `inFeatures` input channels (features per frame), initialised from `rng`. */
  constructor(inFeatures: number, config: TdnnEncoderConfig, rng: Rng) {
    super();
    this.config = config;
    this.rng = rng;
    let cin = inFeatures;
    const residualInputs: number[] = []; // channels of earlier residual blocks' inputs
    config.blocks.forEach((b, i) => {
      let sources: number[] = [];
      if (b.residual) {
        residualInputs.push(cin);
        sources = b.residualDense ? [...residualInputs] : [cin];
      }
      this.blocks.push(this.child(`block${i}`, new TdnnBlock(cin, b, sources, config, rng)));
      cin = b.channels;
    });
    this.outChannels = cin;
  }

  /** Total time stride of the encoder (OpenSeq2Seq's step multiplier). */
  get timeStride(): number {
    return this.config.blocks.reduce((s, b) => s * (b.stride ?? 1) ** b.repeat, 1);
  }

  /** Output lengths for input lengths: (len + s − 1) // s per strided sub-block. */
  outputLengths(lengths: Int32Array): Int32Array {
    const out = Int32Array.from(lengths);
    for (const b of this.config.blocks) {
      const s = b.stride ?? 1;
      if (s === 1) continue;
      for (let r = 0; r < b.repeat; r++) for (let n = 0; n < out.length; n++) out[n] = Math.ceil(out[n] / s);
    }
    return out;
  }

  /**
   * x: [N, F, T] features, lengths in frames → [N, C, T'] and lengths after strides.
   *
   * Each sub-block's activation also applies its dropout mask and the frame mask of its
   * output (`activateMasked`), so every later convolution and residual projection reads
   * input that is zero on padded frames already and skips its own masking multiply; only the
   * features are masked separately. The values are those of masking at each convolution (the
   * mask is 0 or 1, and every reader of a sub-block's output uses the mask of its length).
   */
  forward(x: Tensor, lengths: Int32Array): { output: Tensor; lengths: Int32Array } {
    let lens = Int32Array.from(lengths);
    let h = x;
    let mask = frameMask(lens, h.shape[2], h);
    // The mask h still needs before a convolution reads it; null once an activation applied it.
    let hMask: Tensor | null = mask;
    const residualInputs: { t: Tensor; mask: Tensor | null; lengths: Int32Array }[] = [];
    this.config.blocks.forEach((b, i) => {
      const block = this.blocks[i];
      if (b.residual) residualInputs.push({ t: h, mask: hMask, lengths: lens });
      const sources = b.residual
        ? (b.residualDense ? residualInputs : [residualInputs[residualInputs.length - 1]])
        : [];
      block.subs.forEach((sub, r) => {
        h = sub.conv(h, hMask);
        const s = b.stride ?? 1;
        if (s > 1) {
          lens = lens.map((l) => Math.ceil(l / s));
          mask = frameMask(lens, h.shape[2], h);
        }
        h = sub.norm(h, lens);
        // The residual projections are added in order, the last one inside the fused pass.
        let residual: Tensor | number = 0;
        if (r === b.repeat - 1) {
          sources.forEach((src, k) => {
            const projected = block.projections[k].forward(src.t, src.mask, src.lengths);
            if (k < sources.length - 1) h = add(h, projected);
            else residual = projected;
          });
        }
        const drop = dropoutMask(h, b.dropout, { training: this.training, rng: this.rng });
        h = activateMasked(h, residual, this.config.activation, { mask: drop, frameMask: mask });
        hMask = null;
      });
    });
    return { output: hMask ? mul(h, hMask) : h, lengths: lens };
  }
}
