/**
 * Training step time of a config on the cuda backend beside the same architecture in PyTorch
 * on the same GPU (bench/cuda_train_vs_torch.py, which reuses bench/train_vs_torch.py's model
 * and NovoGrad), interleaved step by step. The step is bench/train_step.ts's: forward → CTC
 * loss (one host read) → backward → gradient norm (one host read) → update.
 *
 *   ./deno run -A bench/cuda_train_vs_torch.ts [--configs quartznet_small,jasper] [--reps 5]
 *        [--batch 16] [--frames 400] [--precision f32|bf16]
 *
 * The first step of each side is a warm-up (NVRTC compiles, cuDNN's algorithm search,
 * cudnn.benchmark). Prints the median step milliseconds, the ratio and the toolkit's peak memory.
 * Not here: the eval-mode equality check (bench/train_vs_torch.ts does it on the cpu).
 */
import { parseArgs } from "node:util";
import { configs } from "../models/configs/mod.ts";
import type { CudaBackend } from "../ops/backends/cuda/mod.ts";
import { setBackend } from "../ops/backends/mod.ts";
import { median, PeerProcess } from "./peer.ts";
import { makeTrainStep, TARGET_LENGTH } from "./train_step.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    configs: { type: "string", default: "quartznet_small,jasper" },
    reps: { type: "string", default: "5" },
    batch: { type: "string", default: "16" },
    frames: { type: "string", default: "400" },
    precision: { type: "string", default: "f32" },
  },
});
const reps = Number(values.reps), batch = Number(values.batch), frames = Number(values.frames);
const lr = 0.01;
if (!["f32", "bf16"].includes(values.precision)) {
  throw new RangeError(`--precision: expected f32 or bf16, got "${values.precision}"`);
}

const cuda = await setBackend("cuda", { quiet: true }) as CudaBackend;
cuda.precision = values.precision as "f32" | "bf16";
console.log(`toolkit: ${cuda.description}, precision ${cuda.precision}`);
const peer = new PeerProcess(new URL("./cuda_train_vs_torch.py", import.meta.url));
const ask = async (msg: Record<string, unknown>): Promise<Record<string, number>> => {
  const answer = JSON.parse(await peer.ask(JSON.stringify(msg)));
  if (answer.error) throw new Error(`bench/cuda_train_vs_torch.py: ${answer.error}`);
  return answer;
};

console.log(`batch ${batch} × ${frames} frames; median of ${reps} interleaved steps after one warm-up; ms`);
console.log("| config | params | toolkit step | torch step | ratio | toolkit peak MiB |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const name of values.configs.split(",")) {
  const config = configs[name];
  if (!config) throw new Error(`bench/cuda_train_vs_torch.ts: unknown config "${name}"`);
  const { model, vocab, trainStep } = makeTrainStep(config, batch, frames, lr);
  const { params } = await ask({
    cmd: "setup",
    encoder: config.encoder,
    numFeatures: config.features.numFeatures,
    vocab: vocab.size,
    batch,
    frames,
    optimizer: config.optimizer,
    lr,
    targetLength: TARGET_LENGTH,
    features: config.features,
  });
  await trainStep();
  await ask({ cmd: "train" });
  cuda.resetPeak();
  const ours: number[] = [], theirs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await trainStep();
    await cuda.flush();
    ours.push(performance.now() - t0);
    theirs.push((await ask({ cmd: "train" })).wall_ms);
  }
  const a = median(ours), b = median(theirs);
  const peak = cuda.memoryStats().peakBytesInUse / 2 ** 20;
  console.log(
    `| ${name} | ${params} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)} | ${
      peak.toFixed(0)
    } |`,
  );
  for (const [, t] of model.stateDict()) t.dispose();
}
await peer.close();
