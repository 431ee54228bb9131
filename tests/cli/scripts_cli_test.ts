/**
 * The command-line convention, checked on every script as a user meets it: --help exits 0,
 * an unknown flag or a bad value is one line on stderr with exit status 2 and no stack trace,
 * and the mistakes of issue 14 (`--minutes abc`, `--alpha abc`, `--training.maxSteps=-5`,
 * `--lrPolicy.lr=-1`, `--decoder.kind=bogus`, `--config nope`, a header-only manifest) stop
 * before any work is done.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const scripts = [...Deno.readDirSync(`${root}/scripts`)].filter((e) => e.name.endsWith(".ts")).map((e) =>
  `scripts/${e.name}`
).sort();

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_CTC_QUIET: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function assertUsageError(r: { code: number; stderr: string }, message: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: one line expected, got\n${r.stderr}`);
  assert.match(lines[0], message, what);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: stack trace`);
}

Deno.test("every script answers --help with exit 0 and its flags", async () => {
  assert.ok(scripts.length >= 8, scripts.join(", "));
  for (const script of scripts) {
    const r = await run([script, "--help"]);
    assert.equal(r.code, 0, `${script} --help: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stdout, /^Usage: /, script);
    assert.match(r.stdout, /-h, --help/, script);
  }
});

Deno.test("every script rejects an unknown flag in one line with exit 2", async () => {
  for (const script of scripts) {
    assertUsageError(await run([script, "--no-such-flag"]), /unknown flag --no-such-flag/, script);
  }
});

Deno.test("bad values stop the demo, transcribe and train at the command line", async () => {
  const cases: [string[], RegExp][] = [
    [["scripts/demo.ts", "--minutes", "abc"], /--minutes must be a number in \[1, 1440\], got "abc"/],
    [["scripts/demo.ts", "--minutes=0"], /--minutes must be a number in \[1, 1440\], got 0/],
    [["scripts/demo.ts", "--scratch", "--init", "x"], /--scratch and --init exclude each other/],
    [["scripts/demo.ts", "--init", "no/such.safetensors"], /--init no\/such\.safetensors: cannot read it/],
    [["scripts/transcribe.ts", "--alpha", "abc", "a.wav"], /--alpha must be a number >= 0, got "abc"/],
    [["scripts/transcribe.ts"], /expected at least 1 AUDIO argument/],
    [
      ["scripts/train.ts", "--training.maxSteps=-5"],
      /--training\.maxSteps=-5: training\.maxSteps must be an integer >= 1/,
    ],
    [["scripts/train.ts", "--lrPolicy.lr=-1"], /lrPolicy\.lr must be a number > 0, got -1/],
    [["scripts/train.ts", "--decoder.kind=bogus"], /decoder\.kind must be one of greedy, beam, got "bogus"/],
    [["scripts/train.ts", "--config", "nope"], /--config: unknown config "nope"/],
    [["scripts/train.ts", "--section.key="], /"section" is not a section of the config/],
    [["scripts/train.ts", "--backend", "tpu"], /--backend must be one of auto, cpu, webgpu, cuda/],
    [["scripts/build_lm.ts", "--order", "0"], /--order must be an integer >= 1, got 0/],
    [["scripts/decode.ts", "--mode", "eval"], /--logits is required/],
  ];
  for (const [args, message] of cases) assertUsageError(await run(args), message, args.join(" "));
});

Deno.test("train --mode eval on a header-only manifest is an error naming it, not WER=NaN%", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scripts_cli_test_" });
  try {
    const manifest = `${dir}/empty.csv`;
    await Deno.writeTextFile(manifest, "wav_filename,wav_filesize,transcript\n");
    const r = await run([
      "scripts/train.ts",
      "--config",
      "small_wide",
      "--mode",
      "eval",
      "--backend",
      "cpu",
      "--checkpoint",
      "models/pretrained/small_wide_espeak.safetensors",
      `--data.eval=${manifest}`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /empty\.csv: the manifest lists no utterances/);
    assert.doesNotMatch(r.stdout, /NaN/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unavailable --backend is a one-line error naming it", async () => {
  const r = await run(["scripts/transcribe.ts", "--backend", "cuda", "a.wav"]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /Backend "cuda" is unavailable/);
});
