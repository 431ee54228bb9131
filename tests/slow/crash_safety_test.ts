/**
 * Crash safety of training, through `deno task train` as a child process on a tiny config and
 * a tiny synthetic data set (6 noise-and-tone WAVs, two-letter transcripts), so a run takes
 * seconds:
 * - kill -9 at 20 seeded random moments, resuming with `--continue` after each: every newest
 *   checkpoint loads (checksums verified), at most one save interval of steps is lost, and the
 *   run that finally completes has the same per-step losses and bit-identical weights as an
 *   uninterrupted run (so the data order and every random state continued exactly);
 * - a full disk (`ulimit -f` on the child, SIGXFSZ ignored so the write fails with EFBIG as on
 *   a full disk rather than killing the process) gives a one-line error naming the checkpoint
 *   file and leaves the previous checkpoint intact and loadable.
 * RELIABILITY.md records the figures this prints.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { encodeWav } from "../../data/audio/wav.ts";
import { listCheckpoints, loadCheckpoint, loadOptimizerState } from "../../models/checkpoint.ts";
import { Rng } from "../../ops/random.ts";
import { NovoGrad } from "../../models/optimizers/novograd.ts";
import { CtcModel } from "../../models/ctc_model.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const SAVE_EVERY = 3;
const MAX_STEPS = 1500;
const N_KILLS = 20;
// The kills find the training process through /proc and the full disk needs bash's ulimit.
const isLinux = Deno.build.os === "linux";
if (!isLinux) console.warn("SKIPPED: tests/slow/crash_safety_test.ts needs Linux (/proc, bash ulimit)");

/** Writes the WAVs, the manifest and a config file; returns the config's path. */
async function tinyRun(dir: string, logDir: string, maxSteps: number): Promise<string> {
  const rng = new Rng(11);
  const rows = ["wav_filename,wav_filesize,transcript"];
  const words = ["ab", "ba", "abc", "cab", "bb", "ca"];
  for (let i = 0; i < words.length; i++) {
    const n = 3200 + 400 * i; // 0.2 to 0.325 s at 16 kHz
    const f = 200 + 150 * i;
    const samples = Float32Array.from(
      { length: n },
      (_, t) => 0.3 * Math.sin(2 * Math.PI * f * t / 16000) + 0.05 * rng.normal(),
    );
    const bytes = encodeWav(samples, 16000);
    await Deno.writeFile(`${dir}/u${i}.wav`, bytes);
    rows.push(`u${i}.wav,${bytes.length},${words[i]}`);
  }
  await Deno.writeTextFile(`${dir}/train.csv`, rows.join("\n") + "\n");
  const config = {
    name: "crash-test",
    vocabulary: "english",
    features: { inputType: "logfbank", numFeatures: 16, windowSize: 0.02, windowStride: 0.01, padTo: 8 },
    encoder: {
      kind: "tdnn",
      activation: "relu",
      bnMomentum: 0.1,
      bnEps: 1e-3,
      blocks: [
        { repeat: 1, kernel: 5, stride: 2, channels: 16, dropout: 0.1 },
        { repeat: 1, kernel: 3, channels: 16, dropout: 0.1, residual: true },
        { repeat: 1, kernel: 1, channels: 24, dropout: 0.1 },
      ],
    },
    data: {
      train: [`${dir}/train.csv`],
      eval: [`${dir}/train.csv`],
      infer: [],
      batchSize: 2,
      freqMasks: { count: 1, width: 3 },
      timeMasks: { count: 1, width: 4 },
    },
    optimizer: { kind: "novograd", beta1: 0.9, beta2: 0.5, weightDecay: 0.001 },
    lrPolicy: { kind: "fixed", lr: 0.01 },
    training: {
      maxSteps,
      iterSize: 1,
      logEvery: 1,
      evalEvery: 100000,
      saveEvery: SAVE_EVERY,
      keepCheckpoints: 3,
      maxNonFiniteSteps: 5,
      seed: 3,
      logDir,
    },
    decoder: { kind: "greedy" },
  };
  const path = `${dir}/crash_config.ts`;
  await Deno.writeTextFile(path, `export const config = ${JSON.stringify(config, null, 2)};\n`);
  return path;
}

/** Starts `deno task train` (the repository's task, with its permissions) as a child. */
function startTrain(args: string[], prefix: string[] = []): Deno.ChildProcess {
  const deno = [Deno.execPath(), "task", "--quiet", "train", ...args];
  const [cmd, ...rest] = prefix.length > 0 ? [...prefix, ...deno] : deno;
  return new Deno.Command(cmd, {
    args: rest,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** The pids of `pid`'s descendants, deepest first, from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let children: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) children = children.concat(text.split(/\s+/).map(Number));
    }
  } catch {
    return out; // already gone
  }
  for (const c of children) out.push(...descendants(c), c);
  return out;
}

/** SIGKILLs the training process (the task runner's child) and then the task runner itself. */
function killTree(child: Deno.ChildProcess): void {
  for (const pid of descendants(child.pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // exited between the listing and the kill
    }
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // already exited
  }
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** ms from the start to the first step record (the end of start-up), or -1 if none came. */
  firstStepMs: number;
}

/** Waits for a child, reading stdout as it comes; `onFirstStep` runs when the first step is logged. */
async function collect(child: Deno.ChildProcess, onFirstStep: () => void = () => {}): Promise<RunResult> {
  const t0 = performance.now();
  const stderr = new Response(child.stderr).text();
  const dec = new TextDecoder();
  let stdout = "";
  let firstStepMs = -1;
  for await (const chunk of child.stdout) {
    stdout += dec.decode(chunk, { stream: true });
    if (firstStepMs < 0 && stdout.includes('"loss"')) {
      firstStepMs = performance.now() - t0;
      onFirstStep();
    }
  }
  return { code: (await child.status).code, stdout, stderr: await stderr, firstStepMs };
}

/** Step numbers of the JSON step records a run printed. */
function loggedSteps(stdout: string): number[] {
  const steps: number[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const r = JSON.parse(line);
      if (typeof r.loss === "number") steps.push(r.step);
    } catch {
      // a line cut by the kill
    }
  }
  return steps;
}

async function lossesOf(logDir: string): Promise<Map<number, number>> {
  const losses = new Map<number, number>();
  for (const line of (await Deno.readTextFile(`${logDir}/log.jsonl`)).split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (typeof r.loss === "number") losses.set(r.step, r.loss);
  }
  return losses;
}

/** Loads the newest checkpoint with its optimizer state: both verified by their checksums. */
async function loadNewest(logDir: string, configPath: string): Promise<number> {
  const newest = listCheckpoints(logDir).at(-1);
  if (newest === undefined) return 0;
  const ckpt = await loadCheckpoint(newest);
  const { config } = await import(configPath);
  const model = new CtcModel(16, 29, config.encoder, new Rng(0));
  model.loadStateDict(ckpt.state);
  await loadOptimizerState(newest, new NovoGrad(model.parameters()));
  return ckpt.meta.step;
}

Deno.test({
  name: `training killed with SIGKILL at ${N_KILLS} random moments resumes each time and ends bit-identical`,
  ignore: !isLinux,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "crash_" });
    try {
      const reference = `${dir}/reference`;
      const configPath = await tinyRun(dir, reference, MAX_STEPS);
      const t0 = performance.now();
      const straight = await collect(startTrain(["--config", configPath, "--mode", "train"]));
      const straightMs = performance.now() - t0;
      assert.equal(straight.code, 0, straight.stderr);
      const msPerStep = (straightMs - straight.firstStepMs) / MAX_STEPS;
      console.log(
        `uninterrupted run: ${MAX_STEPS} steps in ${(straightMs / 1000).toFixed(1)} s ` +
          `(start-up ${straight.firstStepMs.toFixed(0)} ms, ${msPerStep.toFixed(1)} ms a step)`,
      );

      const crashed = `${dir}/crashed`;
      const args = ["--config", configPath, "--mode", "train", `--training.logDir=${crashed}`];
      const rng = new Rng(2026);
      let kills = 0, runs = 0, maxLost = 0, totalLost = 0, litter = 0;
      const moments: number[] = [];
      const killedAt: string[] = []; // "resumed step -> last logged step" per kill
      for (;;) {
        // The step this run must resume at: the newest checkpoint the previous kill left.
        const resumeStep = runs === 0 ? 0 : await loadNewest(crashed, configPath);
        const child = startTrain(runs === 0 ? args : [...args, "--continue"]);
        runs++;
        if (kills < N_KILLS) {
          // Every fifth kill lands in start-up (module loading, reading the checkpoint back);
          // the others at a random moment within ~40 steps of the first step record, which
          // spans steps, log writes and checkpoint saves alike.
          const inStartUp = kills % 5 === 4;
          const delay = inStartUp
            ? rng.uniform() * straight.firstStepMs * 0.9
            : rng.uniform() * 40 * msPerStep;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const arm = () => {
            timer = setTimeout(() => killTree(child), delay);
          };
          if (inStartUp) arm();
          const r = await collect(child, inStartUp ? undefined : arm);
          clearTimeout(timer);
          moments.push(Math.round(inStartUp ? delay : r.firstStepMs + delay));
          if (r.code === 0) break; // finished before the kill
          kills++;
          const done = loggedSteps(r.stdout);
          const ckptStep = await loadNewest(crashed, configPath);
          const completed = done.length > 0 ? done.at(-1)! + 1 : 0;
          const lost = Math.max(0, completed - ckptStep);
          const from = /at step (\d+)/.exec(r.stderr)?.[1] ?? (runs === 1 ? "0" : "-");
          killedAt.push(done.length > 0 ? `${from}->${completed}` : `${from}->start-up`);
          maxLost = Math.max(maxLost, lost);
          totalLost += lost;
          assert.ok(
            lost <= SAVE_EVERY,
            `kill ${kills} at ${moments.at(-1)} ms lost ${lost} steps (save interval ${SAVE_EVERY})`,
          );
          if (done.length > 0) {
            // Past start-up, the run resumed where the newest checkpoint said and went on from there.
            if (resumeStep > 0) assert.match(r.stderr, new RegExp(`resumed from .*at step ${resumeStep}\n`));
            assert.equal(done[0], resumeStep, `kill ${kills}: the first step after resuming`);
          }
          continue;
        }
        const r = await collect(child);
        assert.equal(r.code, 0, `the final --continue failed:\n${r.stderr}`);
        assert.match(r.stderr, new RegExp(`resumed from .*ckpt-\\d+\\.safetensors at step ${resumeStep}\n`));
        assert.equal(loggedSteps(r.stdout)[0], resumeStep);
        break;
      }
      litter = [...Deno.readDirSync(crashed)].filter((e) => e.name.includes(".tmp")).length;
      console.log(
        `kills: ${kills} of ${N_KILLS} (at ${moments.join(", ")} ms), runs: ${runs}, steps lost per kill: ` +
          `max ${maxLost}, total ${totalLost}, temporary files left by kills: ${litter}\n` +
          `kills by step (resumed at, - when killed before resuming -> steps done when killed): ${
            killedAt.join(", ")
          }`,
      );
      const midTraining = killedAt.filter((k) => !k.endsWith("start-up")).length;
      assert.ok(midTraining >= N_KILLS / 2, `only ${midTraining} kills landed during training`);
      assert.ok(runs > N_KILLS);
      assert.equal(kills, N_KILLS, "every kill landed before the run finished");
      assert.equal(litter, 0, "the completed run removed the temporary files the kills left");

      // Same data order and random states: same loss at every step, same final weights.
      const [a, b] = [await lossesOf(reference), await lossesOf(crashed)];
      assert.deepEqual([...b.keys()].sort((x, y) => x - y), [...a.keys()].sort((x, y) => x - y));
      for (const [step, loss] of a) assert.equal(b.get(step), loss, `loss at step ${step}`);
      const last = `ckpt-${String(MAX_STEPS).padStart(8, "0")}.safetensors`;
      const [ra, rb] = [
        await loadCheckpoint(`${reference}/${last}`),
        await loadCheckpoint(`${crashed}/${last}`),
      ];
      for (const [name, t] of ra.state) {
        assert.deepEqual(await rb.state.get(name)!.data(), await t.data(), name);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a full disk during a save gives a one-line error naming the file and keeps the previous checkpoint",
  ignore: !isLinux,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fulldisk_" });
    try {
      const logDir = `${dir}/run`;
      const configPath = await tinyRun(dir, logDir, 6);
      const first = await collect(startTrain(["--config", configPath, "--mode", "train"]));
      assert.equal(first.code, 0, first.stderr);
      const before = listCheckpoints(logDir);
      assert.equal(before.at(-1), `${logDir}/ckpt-00000006.safetensors`);
      const kib = Math.floor((await Deno.stat(before.at(-1)!)).size / 1024 / 2);
      const prefix = ["bash", "-c", `trap '' XFSZ; ulimit -f ${kib}; exec "$@"`, "bash"];
      const full = await collect(
        startTrain(
          ["--config", configPath, "--mode", "train", "--continue", "--training.maxSteps=12"],
          prefix,
        ),
      );
      console.log(
        `full disk (ulimit -f ${kib} KiB): exit ${full.code}, stderr: ${
          full.stderr.trim().split("\n").at(-1)
        }`,
      );
      assert.equal(full.code, 1);
      const errors = full.stderr.split("\n").filter((l) => l.startsWith("error"));
      assert.equal(errors.length, 1, full.stderr);
      assert.match(
        errors[0],
        /^error: \S+ckpt-00000009\.(optim\.)?safetensors: could not write safetensors file \(.*File too large/,
      );
      assert.doesNotMatch(full.stderr, /^\s+at /m, "no stack trace");
      assert.deepEqual(listCheckpoints(logDir), before);
      assert.equal(await loadNewest(logDir, configPath), 6);
      assert.deepEqual([...Deno.readDirSync(logDir)].filter((e) => e.name.includes(".tmp-")), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
