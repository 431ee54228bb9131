/**
 * Training on the cuda backend: the `small` config's model (residual TDNN: conv1d, batch norm
 * with lengths, ReLU, masks, CTC, NovoGrad) takes the same first step on cuda as on the cpu
 * from the same weights and batch, and its loss falls over a few more steps. Skipped loudly
 * without a CUDA device.
 */
import assert from "node:assert/strict";
import "../../../ops/backends/cpu/mod.ts";
import { emulatedCudaReason } from "./emulator/emulator.ts";
import { type CudaBackend, probeCuda } from "../../../ops/backends/cuda/mod.ts";
import { getBackend, setDefaultBackend } from "../../../ops/backend_registry.ts";
import { configs } from "../../../models/configs/mod.ts";
import { CtcModel } from "../../../models/ctc_model.ts";
import { makeOptimizer, vocabularyOf } from "../../../models/trainer.ts";
import { Rng, tensor, TensorScope } from "../../../ops/mod.ts";

// DENO_CTC_CUDA_EMULATE=1 runs this test on the host emulation (tests/ops/cuda/emulator/).
const reason = Deno.env.get("DENO_CTC_CUDA_EMULATE") === "1" ? emulatedCudaReason() : await probeCuda();
if (reason !== null) console.warn(`SKIPPED (no CUDA device): cuda training test: ${reason}`);

/** Losses of `steps` training steps of the small config on `backend`, from fixed seeds. */
async function losses(backend: string, steps: number): Promise<number[]> {
  setDefaultBackend(backend);
  try {
    const config = configs.small;
    const vocab = vocabularyOf(config);
    const nFeatures = config.features.numFeatures, batch = 3, frames = 96, targetLength = 12;
    const model = new CtcModel(nFeatures, vocab.size, config.encoder, new Rng(0));
    const optimizer = makeOptimizer(config, model.parameters());
    const rng = new Rng(1);
    const x = Float32Array.from({ length: batch * nFeatures * frames }, () => rng.normal());
    const lengths = Int32Array.from({ length: batch }, (_, i) => frames - 10 * i);
    const targetLengths = new Int32Array(batch).fill(targetLength);
    const targets = Int32Array.from({ length: batch * targetLength }, () => 1 + rng.int(vocab.size - 2));
    const out: number[] = [];
    for (let s = 0; s < steps; s++) {
      model.train();
      using _scope = new TensorScope();
      const { logits, lengths: outLens } = model.forward(tensor(x, [batch, nFeatures, frames]), lengths);
      const loss = model.loss(logits, outLens, targets, targetLengths);
      out.push(await loss.item());
      loss.backward();
      optimizer.step(0.01);
    }
    return out;
  } finally {
    setDefaultBackend("cpu");
  }
}

Deno.test({
  name: "the small config trains on cuda: first step as on the cpu, then a falling loss",
  ignore: reason !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cuda = getBackend("cuda") as CudaBackend;
    cuda.allowTf32 = false; // compare in f32; TF32 is the default for speed
    try {
      const [cpu] = await losses("cpu", 1);
      const gpu = await losses("cuda", 6);
      assert.ok(Math.abs(gpu[0] - cpu) <= 1e-3 * Math.abs(cpu), `first loss: cpu ${cpu}, cuda ${gpu[0]}`);
      assert.ok(gpu[5] < gpu[0], `loss did not fall: ${gpu.join(", ")}`);
    } finally {
      cuda.allowTf32 = true;
    }
  },
});
