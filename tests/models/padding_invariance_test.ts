import assert from "node:assert/strict";
import { tinyDs2Encoder } from "./tiny_training.ts";
import { noGrad, Rng, tensor, TensorScope } from "../../ops/mod.ts";
import { defaultBackend, setDefaultBackend } from "../../ops/backend_registry.ts";
import { initWebGpu } from "../../ops/backends/webgpu/mod.ts";
import { CtcModel, type EncoderConfig } from "../../models/ctc_model.ts";

const tdnn: EncoderConfig = {
  kind: "tdnn",
  activation: "relu",
  bnMomentum: 0.1,
  bnEps: 1e-3,
  blocks: [
    { repeat: 1, kernel: 5, stride: 2, channels: 8, dropout: 0 },
    { repeat: 2, kernel: 5, channels: 8, dropout: 0, residual: true, residualDense: true },
    { repeat: 2, kernel: 3, channels: 12, dropout: 0, residual: true, residualDense: true, separable: true },
    { repeat: 1, kernel: 3, dilation: 2, channels: 12, dropout: 0 },
  ],
};
const ds2: EncoderConfig = tinyDs2Encoder(0);

/**
 * Runs `enc` on three utterances alone and in one batch padded with garbage, on `backend` (the
 * default backend while it runs), and asserts that every valid frame's logits agree.
 */
async function assertPaddingInvariant(enc: EncoderConfig, backend: string): Promise<void> {
  const previous = defaultBackend();
  setDefaultBackend(backend);
  try {
    using _scope = new TensorScope();
    const f = 16, lens = [37, 22, 29], tMax = 40;
    const rng = new Rng(3);
    const model = new CtcModel(f, 29, enc, new Rng(1)).eval();
    // Random running statistics, so eval-mode batch norm is not the identity.
    for (const [name, t] of model.stateDict()) {
      if (name.endsWith("running_var") || name.endsWith("running_mean")) {
        const v = new Float32Array(t.size).map(
          () => (name.endsWith("var") ? 0.5 + rng.uniform() : rng.normal()),
        );
        model.loadStateDict(new Map([[name, tensor(v, t.shape)]]), { strict: false });
      }
    }
    const utts = lens.map((l) => Float32Array.from({ length: f * l }, () => rng.normal()));
    const batch = new Float32Array(lens.length * f * tMax).fill(7); // garbage in the padding
    utts.forEach((u, n) => {
      for (let i = 0; i < f; i++) batch.set(u.subarray(i * lens[n], (i + 1) * lens[n]), (n * f + i) * tMax);
    });
    const together = noGrad(() =>
      model.forward(tensor(batch, [lens.length, f, tMax]), Int32Array.from(lens))
    );
    const all = await together.logits.data();
    const [, t2, v] = together.logits.shape;
    for (const [n, l] of lens.entries()) {
      const alone = noGrad(() => model.forward(tensor(utts[n], [1, f, l]), Int32Array.of(l)));
      assert.equal(alone.lengths[0], together.lengths[n]);
      const a = await alone.logits.data();
      for (let t = 0; t < alone.lengths[0]; t++) {
        for (let k = 0; k < v; k++) {
          const d = Math.abs(a[t * v + k] - all[(n * t2 + t) * v + k]);
          assert.ok(
            d < 1e-5 * Math.max(1, Math.abs(a[t * v + k])),
            `utt ${n} frame ${t} class ${k}: ${a[t * v + k]} vs ${all[(n * t2 + t) * v + k]}`,
          );
        }
      }
    }
  } finally {
    setDefaultBackend(previous);
  }
}

for (const [name, enc] of [["TDNN (Jasper-style)", tdnn], ["DeepSpeech2", ds2]] as const) {
  Deno.test(`${name}: an utterance alone and inside a padded batch give the same logits`, async () => {
    await assertPaddingInvariant(enc, "cpu");
  });
}

// The same on webgpu: the whole TDNN stack (conv1d incl. depthwise, batch norm with lengths,
// masks, residuals) and the DeepSpeech2 one (conv2d, batch norm, layout ops, GRU layers).
const hasWebGpu = await initWebGpu({ quiet: true });
if (!hasWebGpu) {
  console.warn("padding_invariance_test: SKIPPING the webgpu variants: initWebGpu() found no WebGPU adapter");
}
for (const [name, enc] of [["TDNN (Jasper-style)", tdnn], ["DeepSpeech2", ds2]] as const) {
  Deno.test({
    name: `${name} on webgpu: an utterance alone and inside a padded batch give the same logits`,
    ignore: !hasWebGpu,
    // The GPU device holds resources across tests by design.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await assertPaddingInvariant(enc, "webgpu");
    },
  });
}
