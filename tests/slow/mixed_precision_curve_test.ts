/**
 * The long form of the mixed-precision curve test (tests/models/mixed_precision_test.ts): 30
 * steps of the `small` config on webgpu in fp16 against 30 in f32, both on webgpu, on three
 * tiny random utterances. About 6 minutes on llvmpipe on 2 shared cores, hence tests/slow/.
 * Skips loudly without a WebGPU adapter or without shader-f16.
 */
import assert from "node:assert/strict";
import { initWebGpu, webGpuBackend } from "../../ops/mod.ts";
import { CURVE_SCALER, CURVE_TOLERANCE, curveDrift, lossCurve } from "../models/tiny_training.ts";

const webgpuReady = await initWebGpu({ quiet: true });
const hasF16 = webgpuReady && webGpuBackend()!.hasFloat16 === true;
if (!hasF16) console.warn("mixed_precision_curve_test: SKIPPING: no WebGPU adapter with shader-f16");

Deno.test({
  name: "30 fp16 steps of the small config on webgpu lower the loss and track the webgpu f32 run within 15%",
  ignore: !hasF16,
  async fn() {
    const f32 = await lossCurve("webgpu", "f32", 30, null);
    const fp16 = await lossCurve("webgpu", "fp16", 30, CURVE_SCALER);
    const { drift, at } = curveDrift(fp16.losses, f32.losses);
    console.log(`largest drift ${(drift * 100).toFixed(2)}% at step ${at}`);
    assert.equal(await fp16.lossScaler!.scale.item(), CURVE_SCALER.initialScale, "no step overflowed");
    assert.ok(fp16.losses[29] < 0.1 * fp16.losses[0], `fp16 loss ${fp16.losses[0]} → ${fp16.losses[29]}`);
    assert.ok(
      drift <= CURVE_TOLERANCE.steps30,
      `step ${at}: fp16 loss ${fp16.losses[at]} vs f32 ${f32.losses[at]} (${(drift * 100).toFixed(2)}%)`,
    );
    fp16.lossScaler!.dispose();
  },
});
