/**
 * End to end through the command-line scripts, each spawned as its own Deno process: 4 tiny
 * espeak-ng utterances → scripts/train.ts (train; train + `--continue`, which must give the same
 * weights; eval; infer with logits) →
 * scripts/decode.ts reads the logits → scripts/transcribe.ts prints text. Skips loudly
 * without espeak-ng. The model is tiny and trains 20 steps: this checks the plumbing and the
 * agreement between the paths (eval WER = decode's greedy WER, infer CSV = transcribe), not
 * recognition quality (tests/slow/convergence_test.ts does that).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { hasEspeak, hasFlite, synthesizeCorpus } from "../../data/corpora/synth.ts";
import { sharedDataDir } from "../shared_data.ts";
import { loadCheckpoint } from "../../models/checkpoint.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const espeak = hasEspeak();
if (!espeak) {
  console.warn("SKIPPED: tests/models/scripts_test.ts needs espeak-ng (apt-get install espeak-ng sox)");
}
const flite = hasFlite();
if (!flite) {
  console.warn("SKIPPED: the demo test in tests/models/scripts_test.ts needs flite (apt-get install flite)");
}

const sentences = ["go left", "stop now", "turn right", "go back"];

/** Runs `deno run -A <script> ...args` from the repository root; returns stdout, stderr, code. */
async function runScript(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(r.code, 0, `${what} exited with ${r.code}:\n${r.stderr}\n${r.stdout}`);
}

Deno.test({
  name: "train, eval, infer, decode and transcribe work end to end through the scripts",
  ignore: !espeak,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "scripts_test_" });
    try {
      const synth = await synthesizeCorpus(sentences, { outDir: `${dir}/data`, seed: 3, concurrency: 2 });
      const manifest = synth.manifestPath;
      const logDir = `${dir}/run`;
      // A config file, as users write them: --config takes a .ts path exporting `config`.
      const config = {
        name: "scripts-test",
        vocabulary: "english",
        features: {
          inputType: "logfbank",
          numFeatures: 32,
          backend: "librosa",
          windowSize: 0.02,
          windowStride: 0.01,
          normPerFeature: true,
          padTo: 8,
        },
        encoder: {
          kind: "tdnn",
          activation: "relu",
          bnMomentum: 0.1,
          bnEps: 1e-3,
          blocks: [
            { repeat: 1, kernel: 11, stride: 2, channels: 32, dropout: 0.1 },
            { repeat: 1, kernel: 7, channels: 32, dropout: 0.1, residual: true },
            { repeat: 1, kernel: 1, channels: 48, dropout: 0.1 },
          ],
        },
        data: {
          train: [manifest],
          eval: [manifest],
          infer: [manifest],
          batchSize: 2,
          // Random state that --continue must restore.
          freqMasks: { count: 1, width: 4 },
          timeMasks: { count: 1, width: 8 },
        },
        optimizer: { kind: "adam", beta1: 0.9, beta2: 0.999 },
        lrPolicy: { kind: "fixed", lr: 0.003 },
        training: {
          maxSteps: 20,
          iterSize: 1,
          logEvery: 5,
          evalEvery: 1000,
          saveEvery: 4,
          keepCheckpoints: 2,
          maxNonFiniteSteps: 5,
          seed: 1,
          logDir,
        },
        decoder: { kind: "greedy" },
      };
      const configPath = `${dir}/tiny_config.ts`;
      await Deno.writeTextFile(configPath, `export const config = ${JSON.stringify(config, null, 2)};\n`);

      const trained = await runScript("scripts/train.ts", ["--config", configPath, "--mode", "train"]);
      assertOk(trained, "train");
      const logs = trained.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(logs.map((l) => l.step), [0, 5, 10, 15]);
      assert.ok(logs.every((l) => Number.isFinite(l.loss) && l.loss > 0));
      const ckpt = `${logDir}/ckpt-00000020.safetensors`;
      assert.ok((await Deno.stat(ckpt)).isFile);
      assert.ok((await Deno.stat(`${logDir}/training.svg`)).isFile);

      // `--continue` through the script: 10 steps (mid-epoch: 4 one-utterance batches per epoch),
      // then on to 20, equals the straight 20-step run.
      const logDir2 = `${dir}/run2`;
      const first = await runScript("scripts/train.ts", [
        "--config",
        configPath,
        "--mode",
        "train",
        `--training.logDir=${logDir2}`,
        "--training.maxSteps=10",
      ]);
      assertOk(first, "train 10 steps");
      const cont = await runScript("scripts/train.ts", [
        "--config",
        configPath,
        "--mode",
        "train",
        `--training.logDir=${logDir2}`,
        "--continue",
      ]);
      assertOk(cont, "train --continue");
      assert.match(cont.stderr, /resumed from .*ckpt-00000010\.safetensors at step 10/);
      const [a, b] = [
        await loadCheckpoint(ckpt),
        await loadCheckpoint(`${logDir2}/ckpt-00000020.safetensors`),
      ];
      assert.equal(b.meta.step, 20);
      for (const [name, t] of a.state) {
        assert.deepEqual(await b.state.get(name)!.data(), await t.data(), `${name} after --continue`);
      }

      const evaluated = await runScript("scripts/train.ts", ["--config", configPath, "--mode", "eval"]);
      assertOk(evaluated, "eval");
      const m = evaluated.stdout.match(/EVAL WER=([\d.]+)% CER=([\d.]+)% loss=([\d.]+) on 4 utterances/);
      assert.ok(m, `eval printed: ${evaluated.stdout}`);
      const evalWer = Number(m[1]) / 100;

      const csv = `${dir}/infer.csv`, logits = `${dir}/logits.safetensors`;
      const inferred = await runScript("scripts/train.ts", [
        "--config",
        configPath,
        "--mode",
        "infer",
        "--infer_output_file",
        csv,
        "--logits_output_file",
        logits,
      ]);
      assertOk(inferred, "infer");
      const rows = (await Deno.readTextFile(csv)).trim().split("\n");
      assert.equal(rows[0], "wav_filename,transcript");
      assert.equal(rows.length, 1 + sentences.length);
      const inferText = new Map(
        rows.slice(1).map((r) => [r.slice(0, r.indexOf(",")), r.slice(r.indexOf(",") + 1)]),
      );
      for (const e of synth.entries) assert.ok(inferText.has(e.audioPath), `${e.audioPath} in ${csv}`);

      const decoded = await runScript("scripts/decode.ts", ["--logits", logits, "--labels", manifest]);
      assertOk(decoded, "decode");
      const g = decoded.stdout.match(/Greedy WER = ([\d.]+)/);
      assert.ok(g, `decode printed: ${decoded.stdout}`);
      // The same checkpoint, the same greedy decoding: batch eval and per-file logits agree.
      assert.ok(Math.abs(Number(g[1]) - evalWer) < 1e-4 + 5e-5, `decode ${g[1]} vs eval ${evalWer}`);

      const wavs = synth.entries.map((e) => e.audioPath);
      const transcribed = await runScript("scripts/transcribe.ts", ["--checkpoint", ckpt, "--json", ...wavs]);
      assertOk(transcribed, "transcribe");
      const results = transcribed.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(results.map((r) => r.path), wavs);
      for (const r of results) {
        assert.equal(r.text, inferText.get(r.path), `transcribe and infer agree on ${r.path}`);
        assert.equal(r.words.map((w: { word: string }) => w.word).join(" "), r.text);
        for (const w of r.words) assert.ok(w.startS >= 0 && w.endS > w.startS);
      }
      const plain = await runScript("scripts/transcribe.ts", ["--checkpoint", ckpt, wavs[0]]);
      assertOk(plain, "transcribe (text)");
      assert.ok(plain.stdout.startsWith(`${wavs[0]}: ${inferText.get(wavs[0])}`), plain.stdout);

      // Beam search + LM where the config asks: eval reports it beside greedy, and it agrees with
      // scripts/decode.ts on the saved logits; infer and transcribe decode the same way.
      const words = [...new Set(sentences.join(" ").split(" "))];
      const lm = `${dir}/lm.arpa`;
      await Deno.writeTextFile(
        lm,
        `\\data\\\nngram 1=${words.length + 3}\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n-3\t<unk>\n` +
          words.map((w) => `-1\t${w}\n`).join("") + `\n\\end\\\n`,
      );
      const beam = [
        "--decoder.kind=beam",
        `--decoder.lm=${lm}`,
        "--decoder.alpha=0.5",
        "--decoder.beamWidth=16",
      ];
      const beamEval = await runScript("scripts/train.ts", [
        "--config",
        configPath,
        "--mode",
        "eval",
        ...beam,
      ]);
      assertOk(beamEval, "eval with beam + LM");
      assert.match(beamEval.stdout, /EVAL WER=[\d.]+% CER=[\d.]+% loss=[\d.]+ on 4 utterances/);
      const bm = beamEval.stdout.match(
        /EVAL beam 16 \+ LM .* \(alpha 0\.5, beta 0\) WER=([\d.]+)% CER=([\d.]+)%/,
      );
      assert.ok(bm, `eval printed: ${beamEval.stdout}`);
      const beamDecoded = await runScript("scripts/decode.ts", [
        ...["--logits", logits, "--labels", manifest, "--lm", lm],
        ...["--alpha", "0.5", "--beta", "0", "--beam_width", "16"],
      ]);
      assertOk(beamDecoded, "decode with LM");
      const best = beamDecoded.stdout.match(/BEST: alpha=0\.50, beta=0\.00, WER=([\d.]+)/);
      assert.ok(best, `decode printed: ${beamDecoded.stdout}`);
      assert.ok(
        Math.abs(Number(best[1]) - Number(bm[1]) / 100) < 1e-4 + 5e-5,
        `decode ${best[1]} vs eval ${bm[1]}%`,
      );
      const beamCsv = `${dir}/infer_beam.csv`;
      assertOk(
        await runScript("scripts/train.ts", [
          ...["--config", configPath, "--mode", "infer", "--infer_output_file", beamCsv, ...beam],
        ]),
        "infer with beam + LM",
      );
      const beamRows = new Map(
        (await Deno.readTextFile(beamCsv)).trim().split("\n").slice(1)
          .map((r) => [r.slice(0, r.indexOf(",")), r.slice(r.indexOf(",") + 1)]),
      );
      const beamTranscribed = await runScript("scripts/transcribe.ts", [
        ...["--checkpoint", ckpt, "--json", "--lm", lm, "--alpha", "0.5", "--beam_width", "16", ...wavs],
      ]);
      assertOk(beamTranscribed, "transcribe with beam + LM");
      for (const line of beamTranscribed.stdout.trim().split("\n")) {
        const r = JSON.parse(line);
        assert.equal(r.text, beamRows.get(r.path), `beam transcribe and infer agree on ${r.path}`);
        // The lexicon keeps every word inside the LM's vocabulary.
        for (const w of r.words) assert.ok(words.includes(w.word), `${w.word} in the LM`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "demo: evaluates the shipped checkpoint, fine-tunes it on a schedule fitted to the budget, keeps the better model, prints the dev-set table and says where its outputs are",
  ignore: !espeak || !flite,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "demo_test_" });
    try {
      const started = Date.now();
      const args = ["--minutes", "2", "--train", "24", "--heldout", "4", "--out", dir];
      const r = await runScript("scripts/demo.ts", args);
      assertOk(r, "demo");
      assert.ok(Date.now() - started < 120_000 + 20_000, `took ${Date.now() - started} ms`);
      const runDir = `${dir}/runs/demo-2min`;
      const plan = JSON.parse(await Deno.readTextFile(`${runDir}/plan.json`));
      assert.ok(
        plan.steps >= 20 && plan.nTrain === 24 && plan.minutes === 2,
        `plan ${JSON.stringify(plan)}`,
      );
      assert.match(r.stderr, /synthesising training audio: 24\/24 \(100%\)/);
      const m = r.stdout.match(
        /Held-out voices \(4 utterances\), after (\d+) steps on 24 utterances: WER ([\d.]+)% CER [\d.]+% \(greedy\); the starting model: WER ([\d.]+)%/,
      );
      assert.ok(m, r.stdout);
      assert.ok(Number(m[1]) <= plan.steps);
      assert.match(
        r.stderr,
        /starting from the weights of .*models\/pretrained\/small_wide_mixed\.safetensors/,
      );
      // The shipped model gets most words right (an untrained one gets every word wrong).
      assert.ok(Number(m[3]) < 60, `WER ${m[3]} % with the shipped checkpoint`);
      assert.match(
        r.stdout,
        /Held-out voices, beam 128 \+ LM .*train_transcripts_3gram\.bin \(alpha 2\.5, beta 0\): WER [\d.]+% CER [\d.]+%/,
      );
      // The better of the two is the result, and the closing lines say which and where things are.
      const isTrainedBetter = Number(m[2]) < Number(m[3]);
      assert.match(
        r.stdout,
        isTrainedBetter ? /Result: the trained model beat / : /Result: the trained model .* did not beat /,
      );
      assert.ok(Deno.statSync(`${runDir}/result.safetensors`).size > 1e6);
      assert.match(r.stdout, new RegExp(`Outputs \\([\\d.]+ [kMG]?B in ${dir} in all\\):`));
      assert.match(r.stdout, /synth\/train_mixed: [\d.]+ [kMG]?B in \d+ files/);
      // The closing table: every dev set with greedy, beam + LM and, for the held-out FSDD speaker, the lexicon.
      assert.match(r.stdout, /^set +utts +greedy WER +greedy CER +beam WER +beam CER +lexicon WER$/m);
      for (const set of ["espeak_unseen", "flite_awb", "flite_rms"]) {
        assert.match(r.stdout, new RegExp(`^${set} +4 +[\\d.]+ %`, "m"));
      }
      if (sharedDataDir !== null) assert.match(r.stdout, /^fsdd_george +500 +[\d.]+ % .* [\d.]+ %$/m);
      const table = JSON.parse(await Deno.readTextFile(`${runDir}/evaluation.json`));
      assert.ok(table.rows.every((row: { nSeenInTraining?: number }) => row.nSeenInTraining === undefined));
      // Re-running with the same budget reuses the audio and the plan, and resumes where it stopped.
      const again = await runScript("scripts/demo.ts", args);
      assertOk(again, "demo rerun");
      assert.match(again.stderr, /resumed from/);
      assert.match(again.stderr, /24 training utterances \(24 already synthesised\)/);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${runDir}/plan.json`)), plan);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
