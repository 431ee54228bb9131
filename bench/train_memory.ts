/**
 * Peak resident memory (VmHWM) of a training step: the toolkit and PyTorch each run `steps`
 * training steps of one config (same batch: bench/train_step.ts and bench/train_vs_torch.py's
 * Bench, the model built from the same encoder config) in a fresh child process at one thread,
 * and each child's VmHWM is read from /proc/<pid>/status after the last step. The interpreter's
 * own footprint (a child that loaded everything and ran no step) is printed too, so the step's
 * share can be told apart from the runtime's.
 *
 *   ./deno run -A bench/train_memory.ts [--config small_wide] [--steps 3] [--batch 16] [--frames 400]
 *
 * Linux only (/proc). Not here: GPU memory (bench/infer_memory.ts covers inference).
 */
import { parseArgs } from "node:util";
import { configs } from "../models/configs/mod.ts";
import { vocabularyOf } from "../models/trainer.ts";
import { setBlasThreads } from "../ops/mod.ts";
import { makeTrainStep, TARGET_LENGTH } from "./train_step.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string", default: "small_wide" },
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "16" },
    frames: { type: "string", default: "400" },
    child: { type: "boolean", default: false },
  },
});
const steps = Number(values.steps), batch = Number(values.batch), frames = Number(values.frames);
const config = configs[values.config];
if (!config) throw new Error(`bench/train_memory.ts: unknown config "${values.config}"`);

/** VmHWM and VmRSS of a process in MiB, from /proc/<pid>/status. */
function memoryOf(pid: number | "self"): { hwm: number; rss: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string): number =>
    Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
  return { hwm: kib("VmHWM") / 1024, rss: kib("VmRSS") / 1024 };
}

if (values.child) {
  // The toolkit side: print the footprint before the first step and after the last.
  setBlasThreads(1);
  const { trainStep } = makeTrainStep(config, batch, frames, 0.01);
  const idle = memoryOf("self");
  for (let i = 0; i < steps; i++) await trainStep();
  console.log(JSON.stringify({ idle, after: memoryOf("self") }));
  Deno.exit(0);
}

async function toolkit(): Promise<{ idle: { hwm: number }; after: { hwm: number; rss: number } }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child", ...Deno.args],
    env: { DENO_CTC_QUIET: "1" },
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("bench/train_memory.ts: the toolkit child failed");
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

async function torch(): Promise<{ idle: { hwm: number }; after: { hwm: number; rss: number } }> {
  const python = Deno.env.get("REF_PYTHON") ?? Deno.env.get("PYTHON") ?? "/opt/refvenv/bin/python";
  const child = new Deno.Command(python, {
    args: [new URL("./train_vs_torch.py", import.meta.url).pathname, "--serve"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const ask = async (msg: Record<string, unknown>): Promise<void> => {
    await writer.write(new TextEncoder().encode(JSON.stringify(msg) + "\n"));
    while (!pending.includes("\n")) {
      const r = await reader.read();
      if (r.done) throw new Error("bench/train_vs_torch.py exited before answering");
      pending += r.value;
    }
    const line = pending.slice(0, pending.indexOf("\n"));
    pending = pending.slice(pending.indexOf("\n") + 1);
    if (JSON.parse(line).error) throw new Error(`bench/train_vs_torch.py: ${line}`);
  };
  await ask({
    cmd: "setup",
    threads: 1,
    encoder: config.encoder,
    numFeatures: config.features.numFeatures,
    vocab: vocabularyOf(config).size,
    batch,
    frames,
    optimizer: config.optimizer,
    lr: 0.01,
    targetLength: TARGET_LENGTH,
    features: config.features,
    inferSeconds: 1,
  });
  const idle = memoryOf(child.pid);
  for (let i = 0; i < steps; i++) await ask({ cmd: "train" });
  const after = memoryOf(child.pid);
  await ask({ cmd: "quit" });
  await writer.close();
  await child.status;
  return { idle, after };
}

const ours = await toolkit();
const theirs = await torch();
console.log(`${config.name}, batch ${batch} × ${frames} frames, ${steps} training steps, 1 thread; MiB`);
console.log("| side | VmHWM before the first step | VmHWM after the steps | VmRSS after |");
console.log("| --- | --- | --- | --- |");
for (const [side, m] of [["toolkit", ours], ["PyTorch", theirs]] as const) {
  console.log(
    `| ${side} | ${m.idle.hwm.toFixed(0)} | ${m.after.hwm.toFixed(0)} | ${m.after.rss.toFixed(0)} |`,
  );
}
console.log(`peak ratio toolkit / PyTorch: ${(ours.after.hwm / theirs.after.hwm).toFixed(2)}`);
