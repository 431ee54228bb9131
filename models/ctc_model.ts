/**
 * CtcModel: an encoder (TDNN or DeepSpeech2) plus OpenSeq2Seq's fully connected CTC decoder,
 * the CTC loss as OpenSeq2Seq computes it (summed per utterance, averaged over the batch),
 * and greedy transcription. Logits are batch-major [N, T', V] with the blank last.
 */
import { ctcLoss, div, logSoftmax, permute, type Rng, type Tensor, tensor } from "../ops/mod.ts";
import { DeepSpeech2Encoder, type DeepSpeech2EncoderConfig } from "./deepspeech2.ts";
import { Linear } from "./layers.ts";
import { Module } from "./module.ts";
import { TdnnEncoder, type TdnnEncoderConfig } from "./tdnn.ts";

/** Encoder settings of any family. */
export type EncoderConfig = TdnnEncoderConfig | DeepSpeech2EncoderConfig;

/** An encoder + FC decoder speech model trained with CTC. */
export class CtcModel extends Module {
  /** The encoder the config's `kind` names: TDNN (output [N, C, T']) or DeepSpeech2 ([T', N, C]). */
  readonly encoder: TdnnEncoder | DeepSpeech2Encoder;
  /** Fully connected layer from the encoder's channels to `numClasses` logits (OpenSeq2Seq's FC decoder). */
  readonly decoder: Linear;
  /** Number of output classes, blank included (the blank is the last). */
  readonly numClasses: number;

  /** A model over `inFeatures` features per frame with `numClasses` outputs (blank last), seeded by `rng`. */
  constructor(inFeatures: number, numClasses: number, encoder: EncoderConfig, rng: Rng) {
    super();
    this.encoder = this.child(
      "encoder",
      encoder.kind === "tdnn"
        ? new TdnnEncoder(inFeatures, encoder, rng)
        : new DeepSpeech2Encoder(inFeatures, encoder, rng),
    );
    this.decoder = this.child("decoder", new Linear(this.encoder.outChannels, numClasses, { rng }));
    this.numClasses = numClasses;
  }

  /** Index of the CTC blank (last, as in OpenSeq2Seq). */
  get blank(): number {
    return this.numClasses - 1;
  }

  /** Frames of input per output frame. */
  get timeStride(): number {
    return this.encoder.timeStride;
  }

  /** features [N, F, T] and lengths in frames → logits [N, T', V] and output lengths. */
  forward(features: Tensor, lengths: Int32Array): { logits: Tensor; lengths: Int32Array } {
    const enc = this.encoder.forward(features, lengths);
    // TDNN gives [N, C, T'], DeepSpeech2 [T', N, C]; the decoder works on [N, T', C].
    const seq = this.encoder instanceof TdnnEncoder
      ? permute(enc.output, [0, 2, 1])
      : permute(enc.output, [1, 0, 2]);
    return { logits: this.decoder.forward(seq), lengths: enc.lengths };
  }

  /**
   * CTC loss of a batch as OpenSeq2Seq reports it: each utterance's −log p(target) summed,
   * divided by the batch size. Targets are concatenated label ids.
   */
  loss(logits: Tensor, lengths: Int32Array, targets: Int32Array, targetLengths: Int32Array): Tensor {
    const logProbs = permute(logSoftmax(logits, -1), [1, 0, 2]); // [T', N, V]
    const b = logits.backend.name;
    const total = ctcLoss(
      logProbs,
      tensor(targets, [targets.length], { dtype: "int32", backend: b }),
      // Lengths stay on the host: ctcLoss reads them there (a GPU tensor has no synchronous read).
      lengths,
      targetLengths,
      { blank: this.blank, reduction: "sum", zeroInfinity: true },
    );
    return div(total, lengths.length);
  }
}
