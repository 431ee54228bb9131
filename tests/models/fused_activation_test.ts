/**
 * The fused activations of the TDNN and DeepSpeech2 encoders (models/tdnn.ts `activateMasked`:
 * residual add, activation, dropout mask and frame mask in one elementwise op, the later
 * convolutions skipping their own masking) against the chains of separate ops they replaced,
 * written out here (`unfusedTdnn`, `unfusedDs2`): the same seeded model on the same batch gives
 * the same logits, CTC loss and gradient of every parameter, in training (dropout on) and in
 * eval mode, for ReLU and clipped-ReLU configs with strides, dense residuals and separable
 * blocks, on both cpu kernel paths.
 */
import assert from "node:assert/strict";
import { tinyDs2Encoder } from "./tiny_training.ts";
import { CtcModel, type EncoderConfig } from "../../models/ctc_model.ts";
import type { DeepSpeech2Encoder } from "../../models/deepspeech2.ts";
import { frameMask, type TdnnEncoder, type TdnnEncoderConfig } from "../../models/tdnn.ts";
import { smallEncoder } from "../../models/configs/small.ts";
import { setCpuKernelPath } from "../../ops/backends/cpu/wasm/kernel_path.ts";
import {
  add,
  dropout,
  hardtanh,
  mul,
  permute,
  relu,
  reshape,
  Rng,
  type Tensor,
  TensorScope,
} from "../../ops/mod.ts";
import { F, onBackend, tinyBatch, vocab, worstRelative } from "./tiny_training.ts";

function activate(x: Tensor, kind: "relu" | "clipped_relu"): Tensor {
  return kind === "relu" ? relu(x) : hardtanh(x, 0, 20);
}

/** TdnnEncoder.forward as it was before the fusion: mask, conv, norm, add, activation, dropout. */
function unfusedTdnn(
  enc: TdnnEncoder,
  x: Tensor,
  lengths: Int32Array,
): { output: Tensor; lengths: Int32Array } {
  let lens = Int32Array.from(lengths);
  let h = x;
  let mask = frameMask(lens, h.shape[2], h);
  const residualInputs: { t: Tensor; mask: Tensor; lengths: Int32Array }[] = [];
  enc.config.blocks.forEach((b, i) => {
    const block = enc.blocks[i];
    if (b.residual) residualInputs.push({ t: h, mask, lengths: lens });
    const sources = b.residual
      ? (b.residualDense ? residualInputs : [residualInputs[residualInputs.length - 1]])
      : [];
    block.subs.forEach((sub, r) => {
      h = sub.conv(h, mask);
      const s = b.stride ?? 1;
      if (s > 1) {
        lens = lens.map((l) => Math.ceil(l / s));
        mask = frameMask(lens, h.shape[2], h);
      }
      h = sub.norm(h, lens);
      if (r === b.repeat - 1) {
        sources.forEach((src, k) => h = add(h, block.projections[k].forward(src.t, src.mask, src.lengths)));
      }
      h = dropout(activate(h, enc.config.activation), b.dropout, { training: enc.training, rng: enc.rng });
    });
  });
  return { output: mul(h, mask), lengths: lens };
}

/** DeepSpeech2Encoder.forward as it was before the fusion. */
function unfusedDs2(
  enc: DeepSpeech2Encoder,
  x: Tensor,
  lengths: Int32Array,
): { output: Tensor; lengths: Int32Array } {
  const [n, f, t] = x.shape;
  let lens = Int32Array.from(lengths);
  let h = reshape(permute(x, [0, 2, 1]), [n, 1, t, f]);
  enc.convs.forEach((conv, i) => {
    const inMask = reshape(frameMask(lens, h.shape[2], h), [n, 1, h.shape[2], 1]);
    h = conv.forward(mul(h, inMask));
    lens = lens.map((l) => Math.ceil(l / enc.config.convLayers[i].stride[0]));
    h = activate(enc.bns[i].forward(h, lens), enc.config.activation);
  });
  const [, c, t2, f2] = h.shape;
  const [rnnOut] = enc.rnn.forward(reshape(permute(h, [2, 0, 1, 3]), [t2, n, c * f2]), lens);
  const hidden = dropout(activate(enc.fc.forward(rnnOut), enc.config.activation), enc.config.dropout, {
    training: enc.training,
    rng: enc.rng,
  });
  return { output: hidden, lengths: lens };
}

/** Loss, every parameter's gradient (by name) and the logits of one step of a seed-7 model. */
async function lossAndGrads(
  encoder: EncoderConfig,
  fused: boolean,
  training: boolean,
): Promise<{ loss: number; logits: Float32Array; grads: Map<string, Float32Array> }> {
  using _scope = new TensorScope();
  const model = new CtcModel(F, vocab.size, encoder, new Rng(7));
  if (!training) model.eval();
  const enc = model.encoder;
  if (!fused && enc.config.kind === "tdnn") {
    const tdnn = enc as TdnnEncoder;
    tdnn.forward = (x, lengths) => unfusedTdnn(tdnn, x, lengths);
  } else if (!fused) {
    const ds2 = enc as DeepSpeech2Encoder;
    ds2.forward = (x, lengths) => unfusedDs2(ds2, x, lengths);
  }
  const batch = onBackend(tinyBatch(3), "cpu");
  const { logits, lengths } = model.forward(batch.features, batch.featureLengths);
  const loss = model.loss(logits, lengths, batch.targets, batch.targetLengths);
  loss.backward();
  const grads = new Map<string, Float32Array>();
  for (const [name, p] of model.parameters()) {
    assert.ok(p.grad, `${name} has a gradient`);
    grads.set(name, await p.grad.data() as Float32Array);
  }
  return { loss: await loss.item(), logits: await logits.data() as Float32Array, grads };
}

/** Clipped ReLU, a strided first block, dense residuals into a separable block, dropout 0.2. */
const clippedDense: TdnnEncoderConfig = {
  kind: "tdnn",
  activation: "clipped_relu",
  bnMomentum: 0.1,
  bnEps: 1e-3,
  blocks: [
    { repeat: 1, kernel: 5, stride: 2, channels: 16, dropout: 0.2 },
    { repeat: 2, kernel: 5, channels: 16, dropout: 0.2, residual: true, residualDense: true },
    {
      repeat: 2,
      kernel: 3,
      channels: 24,
      dropout: 0.2,
      residual: true,
      residualDense: true,
      separable: true,
    },
    { repeat: 1, kernel: 1, channels: 32, dropout: 0.2 },
  ],
};

const ds2: EncoderConfig = tinyDs2Encoder(0.2);

// The WASM kernels compute in float32 as the separate ops do, so their results are identical;
// the TypeScript kernels keep x + y in float64 inside the fused pass, so theirs may differ by
// float32 roundings (measured: 3e-6 of the logits, 1.2e-6 of a gradient's largest entry).
const tolerance = { wasm: 0, ts: 1e-5 } as const;

const configs: [string, EncoderConfig][] = [
  ["TDNN small (ReLU, residual)", smallEncoder],
  ["TDNN clipped ReLU, dense", clippedDense],
  ["DeepSpeech2", ds2],
];
for (const [configName, encoder] of configs) {
  for (const path of ["wasm", "ts"] as const) {
    for (const training of [true, false]) {
      Deno.test(
        `the fused activation gives the unfused chain's loss and gradients for ${configName}, ${
          training ? "training" : "eval"
        } mode, ${path} kernels`,
        async () => {
          const previous = setCpuKernelPath(path);
          try {
            const fused = await lossAndGrads(encoder, true, training);
            const unfused = await lossAndGrads(encoder, false, training);
            assert.ok(Number.isFinite(unfused.loss) && unfused.loss > 0, `loss ${unfused.loss}`);
            assert.ok(
              worstRelative([fused.loss], [unfused.loss]) <= tolerance[path],
              `loss ${fused.loss} vs ${unfused.loss}`,
            );
            const logitsErr = worstRelative(fused.logits, unfused.logits);
            assert.ok(logitsErr <= tolerance[path], `logits differ by ${logitsErr}`);
            assert.equal(fused.grads.size, unfused.grads.size);
            for (const [name, want] of unfused.grads) {
              const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
              assert.ok(scale > 0, `${name}'s gradient is not all zero`);
              const got = fused.grads.get(name)!;
              let err = 0;
              for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]) / scale);
              assert.ok(err <= tolerance[path], `${name}: gradient differs by ${err} of its largest entry`);
            }
          } finally {
            setCpuKernelPath(previous);
          }
        },
      );
    }
  }
}
