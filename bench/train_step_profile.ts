/**
 * Where a training step's time goes, per kernel: runs warm-up steps, then profiles `--steps`
 * steps of each config (bench/train_step.ts's batch) and prints the kernels by total time.
 *
 *   ./deno run -A bench/train_step_profile.ts [--configs small_wide] [--steps 10] [--top 15]
 *     [--batch 16] [--frames 400] [--backend cpu|webgpu|cuda|auto]
 *
 * On webgpu a kernel's time is the time to encode and submit it, not the GPU's work: the step
 * time (which ends with a read of the loss) is the figure to compare.
 */
import { parseArgs } from "node:util";
import { configs } from "../models/configs/mod.ts";
import { type BackendChoice, setBackend, startKernelProfile, stopKernelProfile } from "../ops/mod.ts";
import { makeTrainStep } from "./train_step.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    configs: { type: "string", default: "small_wide" },
    steps: { type: "string", default: "10" },
    top: { type: "string", default: "15" },
    batch: { type: "string", default: "16" },
    frames: { type: "string", default: "400" },
    backend: { type: "string", default: "cpu" },
  },
});
const backend = await setBackend(values.backend as BackendChoice);
const steps = Number(values.steps), top = Number(values.top);

for (const name of values.configs.split(",")) {
  const config = configs[name];
  if (!config) throw new Error(`bench/train_step_profile.ts: unknown config "${name}"`);
  const { trainStep } = makeTrainStep(config, Number(values.batch), Number(values.frames), 0.01);
  for (let i = 0; i < 3; i++) await trainStep();
  startKernelProfile();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await trainStep();
  const stepMs = (performance.now() - t0) / steps;
  const entries = stopKernelProfile();
  const kernelMs = entries.reduce((s, e) => s + e.ms, 0) / steps;
  console.log(
    `\n${name} on ${backend.name}: ${stepMs.toFixed(0)} ms a step, ${
      kernelMs.toFixed(0)
    } ms of it in kernels ` +
      `(the rest: tape, scopes, batch assembly, JS glue)\n`,
  );
  console.log("| kernel | calls a step | ms a step | share of step |");
  console.log("| --- | --- | --- | --- |");
  for (const e of entries.slice(0, top)) {
    console.log(
      `| ${e.op} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(1)} | ${
        (100 * e.ms / steps / stepMs).toFixed(1)
      } % |`,
    );
  }
}
