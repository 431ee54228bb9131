/**
 * Training step time and inference real-time factor of the `small` and `quartznet_small`
 * configs, side by side with the same architecture in PyTorch (bench/train_vs_torch.py, built
 * from the same encoder config sent as JSON), interleaved in one process pair so both sides
 * see the same machine load. Prints medians of wall and CPU time and toolkit/PyTorch ratios
 * for each thread count (setBlasThreads here, torch.set_num_threads there).
 *
 * - Train step: a fixed random batch (16 × 64 features × 400 frames, lengths 400, 394, …,
 *   60 random targets each) → forward → CTC loss (one host read) → backward → gradient norm
 *   (one host read) → NovoGrad update, as models/trainer.ts does it.
 * - Inference: 10 s of audio → log-mel features → eval-mode forward → logits on the host.
 *
 * Before timing, each config's weights go through the torch model once and its eval-mode logits
 * must equal the toolkit's (so both sides time the same function; the one difference left is
 * that torch's BatchNorm1d counts padded frames in training statistics and ours does not).
 *
 * Run: ./deno run -A bench/train_vs_torch.ts [--threads 1,2] [--reps 5] [--configs small,quartznet_small]
 *      [--batch 16] [--frames 400]
 * Not here: GPU backends, data loading, DeepSpeech2 (see the GRU rows of bench/ops_vs_torch.ts).
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { computeFeatures } from "../data/features/compute_features.ts";
import { configs } from "../models/configs/mod.ts";
import { CtcModel } from "../models/ctc_model.ts";
import { vocabularyOf } from "../models/trainer.ts";
import { noGrad, Rng, setBlasThreads, tensor, TensorScope } from "../ops/mod.ts";
import { median, PeerProcess } from "./peer.ts";
import { makeTrainStep, TARGET_LENGTH } from "./train_step.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    threads: { type: "string", default: "1,2" },
    reps: { type: "string", default: "5" },
    configs: { type: "string", default: "small,quartznet_small" },
    batch: { type: "string", default: "16" },
    frames: { type: "string", default: "400" },
    "infer-seconds": { type: "string", default: "10" },
  },
});
const threadCounts = values.threads.split(",").map(Number);
const reps = Number(values.reps);
const batch = Number(values.batch), frames = Number(values.frames);
const inferSeconds = Number(values["infer-seconds"]);
const lr = 0.01;

const peer = new PeerProcess(new URL("./train_vs_torch.py", import.meta.url), ["--serve"]);

/** Sends one JSON command to the torch process and returns its one-line JSON answer. */
async function ask(msg: Record<string, unknown>): Promise<Record<string, number>> {
  const answer = JSON.parse(await peer.ask(JSON.stringify(msg)));
  if (answer.error) throw new Error(`bench/train_vs_torch.py: ${answer.error}`);
  return answer;
}

/** Wall and CPU milliseconds of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** One config's model, optimizer, batch and audio on the toolkit side. */
function setup(name: string) {
  const config = configs[name];
  if (!config) throw new Error(`bench/train_vs_torch.ts: unknown config "${name}"`);
  const { model, vocab, rng, trainStep } = makeTrainStep(config, batch, frames, lr);
  const nFeatures = config.features.numFeatures;
  const audio = new Float32Array(Math.round(inferSeconds * 16000));
  for (let i = 0; i < audio.length; i++) {
    audio[i] = 0.3 * Math.sin(2 * Math.PI * 220 * i / 16000) + 0.05 * rng.normal();
  }
  const infer = async (): Promise<void> => {
    model.eval();
    using _scope = new TensorScope();
    const f = computeFeatures(audio, { ...config.features, sampleRate: 16000 });
    const { logits } = noGrad(() =>
      model.forward(tensor(f.data, [1, f.nFeatures, f.nFrames]), Int32Array.of(f.nFrames))
    );
    await logits.data();
  };
  const spec = {
    cmd: "setup",
    encoder: config.encoder,
    numFeatures: nFeatures,
    vocab: vocab.size,
    batch,
    frames,
    optimizer: config.optimizer,
    lr,
    targetLength: TARGET_LENGTH,
    features: config.features,
    inferSeconds,
  };
  return { model, trainStep, infer, spec };
}

/**
 * Proves the two sides compute the same function: a separate model of the config with random
 * batch-norm statistics, its weights and a padded input written to a temporary folder, and
 * the torch side's eval-mode logits compared with ours.
 */
async function checkSameFunction(name: string): Promise<number> {
  const config = configs[name];
  const vocab = vocabularyOf(config);
  const nFeatures = config.features.numFeatures;
  const model = new CtcModel(nFeatures, vocab.size, config.encoder, new Rng(3)).eval();
  const rng = new Rng(4);
  for (const [k, t] of model.stateDict()) {
    if (/running_(mean|var)$|bn\.(weight|bias)$/.test(k)) {
      const v = Float32Array.from(
        { length: t.size },
        () => k.endsWith("var") ? 0.5 + rng.uniform() : 0.3 * rng.normal(),
      );
      model.loadStateDict(new Map([[k, tensor(v, t.shape)]]), { strict: false });
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "train_vs_torch_" });
  try {
    const names: [string, number[]][] = [];
    const parts: Float32Array[] = [];
    for (const [k, t] of model.stateDict()) {
      names.push([k, [...t.shape]]);
      parts.push(Float32Array.from(await t.data()));
    }
    const flat = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (flat.set(p, o), o + p.length), 0);
    const shape = [2, nFeatures, 120], lengths = Int32Array.of(120, 97);
    const x = Float32Array.from({ length: 2 * nFeatures * 120 }, () => rng.normal());
    const { logits } = noGrad(() => model.forward(tensor(x, shape), lengths));
    await Deno.writeTextFile(`${dir}/names.json`, JSON.stringify(names));
    await Deno.writeFile(`${dir}/state.f32`, new Uint8Array(flat.buffer));
    await Deno.writeFile(`${dir}/x.f32`, new Uint8Array(x.buffer));
    await Deno.writeFile(
      `${dir}/logits.f32`,
      new Uint8Array((await logits.data() as Float32Array).slice().buffer),
    );
    const r = await ask({
      cmd: "check",
      dir,
      encoder: config.encoder,
      numFeatures: nFeatures,
      vocab: vocab.size,
      shape,
      lengths: [...lengths],
    });
    if (!(r.maxAbsDiff <= 1e-4 * Math.max(1, r.maxAbs))) {
      throw new Error(`bench/train_vs_torch.ts: ${name} logits differ from PyTorch's by ${r.maxAbsDiff}`);
    }
    return r.maxAbsDiff;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(
  `batch ${batch} × ${frames} frames, ${reps} interleaved repetitions after 1 warm-up each; medians in ms; ` +
    `inference on ${inferSeconds} s of audio`,
);
console.log(
  "config | threads | what | toolkit wall | torch wall | wall ratio | toolkit CPU | torch CPU | CPU ratio",
);
try {
  for (const name of values.configs.split(",")) {
    console.log(
      `${name}: eval-mode logits equal PyTorch's to ${(await checkSameFunction(name)).toExponential(1)}`,
    );
  }
  for (const threads of threadCounts) {
    setBlasThreads(threads);
    for (const name of values.configs.split(",")) {
      const s = setup(name);
      const peer = await ask({ ...s.spec, threads });
      if (peer.params !== s.model.parameterCount()) {
        throw new Error(
          `bench/train_vs_torch.ts: ${name} has ${s.model.parameterCount()} parameters here and ${peer.params} in PyTorch`,
        );
      }
      for (const what of ["train", "infer"] as const) {
        const run = what === "train" ? s.trainStep : s.infer;
        await run();
        await ask({ cmd: what });
        const mine: { wall: number; cpu: number }[] = [], theirs: { wall: number; cpu: number }[] = [];
        for (let i = 0; i < reps; i++) {
          mine.push(await timed(run));
          const p = await ask({ cmd: what });
          theirs.push({ wall: p.wall_ms, cpu: p.cpu_ms });
        }
        const [w, pw] = [median(mine.map((m) => m.wall)), median(theirs.map((m) => m.wall))];
        const [c, pc] = [median(mine.map((m) => m.cpu)), median(theirs.map((m) => m.cpu))];
        const label = what === "train"
          ? "train step"
          : `infer (RTF ${(w / 1000 / inferSeconds).toFixed(3)} vs ${(pw / 1000 / inferSeconds).toFixed(3)})`;
        console.log(
          `${name} | ${threads} | ${label} | ${w.toFixed(0)} | ${pw.toFixed(0)} | ${(w / pw).toFixed(2)} | ${
            c.toFixed(0)
          } | ${pc.toFixed(0)} | ${(c / pc).toFixed(2)}`,
        );
      }
    }
  }
} finally {
  await peer.close(JSON.stringify({ cmd: "quit" }));
}
