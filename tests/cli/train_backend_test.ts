/**
 * `deno task train --backend webgpu` parses, selects the backend before the model is built and
 * trains on a tiny synthetic set. Skips loudly without espeak-ng or a WebGPU adapter. Until every
 * op the small model uses has a webgpu kernel, it fails with "Op X has no kernel on backend
 * webgpu": that failure is the work list, not a parse problem.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { hasEspeak, synthesizeCorpus } from "../../data/corpora/synth.ts";
import { listBackends } from "../../ops/backends/mod.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const webgpu = (await listBackends()).find((b) => b.name === "webgpu");
const reason = !hasEspeak()
  ? "espeak-ng"
  : !webgpu?.isAvailable
  ? `a WebGPU adapter (${webgpu?.description})`
  : null;
if (reason) console.warn(`SKIPPED: tests/cli/train_backend_test.ts needs ${reason}`);

Deno.test({
  name: "deno task train --config small --backend webgpu trains 20 steps on a tiny synthetic set",
  ignore: reason !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "train_backend_test_" });
    try {
      const synth = await synthesizeCorpus(["go left", "stop now"], { outDir: `${dir}/data`, seed: 3 });
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "task",
          "train",
          "--config",
          "small",
          "--backend",
          "webgpu",
          "--mode",
          "train",
          "--training.maxSteps=20",
          `--data.train=${synth.manifestPath}`,
          `--data.eval=${synth.manifestPath}`,
          "--data.batchSize=2",
          "--training.logEvery=5",
          `--training.logDir=${dir}/run`,
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.doesNotMatch(stderr, /unknown flag|see --help/, "the command line parses");
      assert.equal(out.code, 0, stderr);
      const logs = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
      assert.ok(logs.every((l) => Number.isFinite(l.loss)), JSON.stringify(logs));
      assert.ok(Deno.statSync(`${dir}/run/ckpt-00000020.safetensors`).isFile);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
