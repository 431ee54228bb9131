/**
 * Least privilege for the inference scripts: scripts/decode.ts and scripts/transcribe.ts run
 * with `--allow-read` scoped to exactly their inputs and model, and with that same scope
 * cannot read any other file: pointing an argument at an unrelated file ends in Deno's
 * permission error, reported by the script as one `error` line naming that file. Each script
 * runs as its own process, like a user's `deno run` line.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { convertArpaToBinary } from "../../decode/lm_binary.ts";
import { writeLogitsFile } from "../../decode/logits_file.ts";
import { encodeWav } from "../../data/audio/wav.ts";
import { ENGLISH_CHARS } from "../../data/pipeline/vocabulary.ts";
import { saveCheckpoint } from "../../models/checkpoint.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { CtcModel } from "../../models/ctc_model.ts";
import { Rng } from "../../ops/random.ts";
import { OS2S_VOCAB, spellLogits } from "../decode/decode_test_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

async function runDeno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Asserts that stderr is one line, Deno's read-permission refusal naming `path`. */
function assertReadDenied(r: { code: number; stderr: string }, path: string): void {
  assert.equal(r.code, 1, `the run must fail with exit code 1:\n${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr:\n${r.stderr}`);
  assert.match(lines[0], /^(deno task \w+: )?(error|scripts\/\w+\.ts): .*Requires read access to "/);
  assert.ok(lines[0].includes(`"${path}"`), `the error names ${path}: ${lines[0]}`);
}

Deno.test("decode.ts works with --allow-read scoped to its logits, labels and LM, and reads nothing else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "perm_decode_" });
  try {
    const logits = `${dir}/logits.safetensors`;
    await writeLogitsFile(logits, {
      "wav/a.wav": spellLogits("i read books", { noise: 1, seed: 1 }),
      "wav/b.wav": spellLogits("books", { noise: 1, seed: 2 }),
    }, { vocabulary: OS2S_VOCAB, stepSize: 0.02 });
    const labels = `${dir}/dev.csv`;
    await Deno.writeTextFile(
      labels,
      "wav_filename,wav_filesize,transcript\n/data/wav/a.wav,100,i read books\n/data/wav/b.wav,100,books\n",
    );
    const lm = `${dir}/lm.bin`;
    await convertArpaToBinary(
      fileURLToPath(new URL("../fixtures/decode/tiny_bigram.arpa", import.meta.url)),
      lm,
    );
    const secret = `${dir}/unrelated.csv`;
    await Deno.writeTextFile(secret, "wav_filename,wav_filesize,transcript\n/x.wav,1,secret\n");

    // The beam search's Workers load decode/beam_worker.ts and its imports at run time, which
    // needs read access to that code (the main module graph needs none): the decode/ folder.
    const scoped = `--allow-read=${logits},${labels},${lm},${root}decode`;
    const args = ["--logits", logits, "--lm", lm, "--alpha", "0.5", "--beta", "1", "--workers", "1"];
    const ok = await runDeno(["run", scoped, "scripts/decode.ts", ...args, "--labels", labels]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^BEST: alpha=0\.50, beta=1\.00, WER=\d\.\d{4}$/m);

    const denied = await runDeno(["run", scoped, "scripts/decode.ts", ...args, "--labels", secret]);
    assertReadDenied(denied, secret);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("transcribe.ts works with --allow-read scoped to its checkpoint and audio, and reads nothing else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "perm_transcribe_" });
  try {
    const config: SpeechConfig = {
      name: "perm",
      vocabulary: "english",
      features: { inputType: "logfbank", numFeatures: 16, padTo: 8 },
      encoder: {
        kind: "tdnn",
        activation: "relu",
        bnMomentum: 0.1,
        bnEps: 1e-3,
        blocks: [{ repeat: 1, kernel: 3, stride: 2, channels: 8, dropout: 0 }],
      },
      data: { train: [], eval: [], infer: [], batchSize: 1 },
      optimizer: { kind: "adam", beta1: 0.9, beta2: 0.999 },
      lrPolicy: { kind: "fixed", lr: 0.001 },
      training: {
        maxSteps: 1,
        iterSize: 1,
        logEvery: 1,
        evalEvery: 1,
        saveEvery: 1,
        keepCheckpoints: 1,
        maxNonFiniteSteps: 1,
        seed: 1,
        logDir: dir,
      },
      decoder: { kind: "greedy" },
    };
    const model = new CtcModel(16, ENGLISH_CHARS.length + 1, config.encoder, new Rng(1));
    const ckpt = await saveCheckpoint(`${dir}/run`, model, null, {
      config,
      vocabulary: [...ENGLISH_CHARS],
      blankIndex: ENGLISH_CHARS.length,
      step: 1,
      epoch: 0,
      batchInEpoch: 1,
      rngState: new Rng(1).state(),
      dataRngState: new Rng(2).state(),
    });
    const audio = `${dir}/a.wav`;
    const samples = Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i / 5));
    await Deno.writeFile(audio, encodeWav(samples, 16000));
    const secret = `${dir}/unrelated.wav`;
    await Deno.copyFile(audio, secret);

    // Greedy transcription needs read access to the two files and nothing else (the usage
    // line's --allow-env --allow-ffi only let it use OpenBLAS, which this tiny model does not need).
    // An explicit backend: "auto" would report its choice (and why cuda is unavailable) on stderr.
    const scoped = ["run", `--allow-read=${ckpt},${audio}`, "scripts/transcribe.ts", "--backend", "cpu"];
    const ok = await runDeno([...scoped, "--checkpoint", ckpt, "--json", audio]);
    assert.equal(ok.code, 0, ok.stderr);
    const out = JSON.parse(ok.stdout.trim());
    assert.equal(out.path, audio);
    assert.equal(typeof out.text, "string");

    const denied = await runDeno([...scoped, "--checkpoint", ckpt, "--json", secret]);
    assertReadDenied(denied, secret);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
