/**
 * The training step the step benchmarks time: a config's model and optimizer on a fixed random
 * batch (features [batch, F, frames] with lengths frames − 6i, 60 random targets each), run
 * through `trainStep` (models/train_step.ts: forward → CTC loss → backward → gradient norm →
 * on-device check → update), then one read of the loss, so that each timed step ends with its
 * work done on any backend. Shared by bench/train_vs_torch.ts (against PyTorch) and
 * bench/train_step_profile.ts (per kernel).
 */
import type { SpeechConfig } from "../models/configs/types.ts";
import { CtcModel } from "../models/ctc_model.ts";
import { makeOptimizer, vocabularyOf } from "../models/trainer.ts";
import { trainStep as runTrainStep } from "../models/train_step.ts";
import { Rng, tensor, TensorScope } from "../ops/mod.ts";

/** CTC targets per utterance in the benchmark batch. */
export const TARGET_LENGTH = 60;

/** A model, its optimizer and the fixed batch; `trainStep` runs one step at learning rate `lr`. */
export function makeTrainStep(config: SpeechConfig, batch: number, frames: number, lr: number) {
  const vocab = vocabularyOf(config);
  const nFeatures = config.features.numFeatures;
  const model = new CtcModel(nFeatures, vocab.size, config.encoder, new Rng(0));
  const optimizer = makeOptimizer(config, model.parameters());
  const rng = new Rng(1);
  const x = Float32Array.from({ length: batch * nFeatures * frames }, () => rng.normal());
  const lengths = Int32Array.from({ length: batch }, (_, i) => frames - 6 * i);
  const targetLengths = new Int32Array(batch).fill(TARGET_LENGTH);
  const targets = Int32Array.from({ length: batch * TARGET_LENGTH }, () => rng.int(vocab.size - 1));
  const trainStep = async (): Promise<void> => {
    model.train();
    using _scope = new TensorScope();
    const features = tensor(x, [batch, nFeatures, frames]);
    const { loss } = runTrainStep(model, optimizer, {
      features,
      featureLengths: lengths,
      targets,
      targetLengths,
    }, {
      lr,
    });
    await loss.item();
  };
  return { model, vocab, rng, trainStep };
}
