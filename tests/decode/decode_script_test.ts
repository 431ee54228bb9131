import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { convertArpaToBinary } from "../../decode/lm_binary.ts";
import { writeLogitsFile } from "../../decode/logits_file.ts";
import { readLogitsFile } from "../../decode/logits_file.ts";
import type { CtcLogits } from "../../decode/ctc_logits.ts";
import { OS2S_VOCAB, spellLogits } from "./decode_test_helpers.ts";
import { loadCheckpoint } from "../../models/checkpoint.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";
import { resolveDecoderConfig } from "../../cli/decoder_flags.ts";

const repo = fromFileUrl(new URL("../../", import.meta.url));
const arpa = fromFileUrl(new URL("../fixtures/decode/tiny_bigram.arpa", import.meta.url));

/** Writes logits for three utterances (one acoustically ambiguous) and their labels CSV. */
async function makeInputs(dir: string): Promise<{ logits: string; labels: string }> {
  const utts: Record<string, CtcLogits> = {};
  const said = { "wav/a.wav": "i read books", "wav/b.wav": "read a red books", "wav/c.wav": "books" };
  let seed = 1;
  for (const [wav, text] of Object.entries(said)) {
    utts[wav] = spellLogits(text, { noise: 1, seed: seed++ });
  }
  // "i rad books" acoustically: only the LM's lexicon turns "rad" back into a word.
  utts["wav/d.wav"] = spellLogits("i rad books", { noise: 1, seed: 9 });
  const logits = `${dir}/logits.safetensors`;
  await writeLogitsFile(logits, utts, { vocabulary: OS2S_VOCAB, stepSize: 0.02 });
  const labels = `${dir}/dev.csv`;
  await Deno.writeTextFile(
    labels,
    "wav_filename,wav_filesize,transcript\n" +
      "/data/wav/a.wav,100,i read books\n/data/wav/b.wav,100,read a red books\n" +
      "/data/wav/c.wav,100,books\n/data/wav/d.wav,100,i read books\n",
  );
  return { logits, labels };
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: repo, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("writeLogitsFile() and readLogitsFile() round-trip utterances, vocabulary and step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logits } = await makeInputs(dir);
    const back = await readLogitsFile(logits);
    assert.deepEqual(back.vocabulary, OS2S_VOCAB);
    assert.equal(back.stepSize, 0.02);
    assert.deepEqual([...back.utterances.keys()], ["wav/a.wav", "wav/b.wav", "wav/c.wav", "wav/d.wav"]);
    assert.equal(back.utterances.get("wav/c.wav")!.V, 29);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/decode.ts grid-searches alpha and beta with only read and write access to its files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logits, labels } = await makeInputs(dir);
    const dump = `${dir}/beams.txt`;
    const infer = `${dir}/out.csv`;
    const r = await run([
      "run",
      `--allow-read=${dir},${arpa},${repo}`,
      `--allow-write=${dir}`,
      "scripts/decode.ts",
      "--logits",
      logits,
      "--labels",
      labels,
      "--lm",
      arpa,
      "--alpha",
      "0",
      "--alpha_max",
      "1",
      "--alpha_step",
      "0.5",
      "--beta",
      "0",
      "--beta_max",
      "1",
      "--beta_step",
      "1",
      "--beam_width",
      "16",
      "--workers",
      "2",
      "--dump_all_beams_to",
      dump,
      "--infer_output_file",
      infer,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    // Greedy spells "rad": 1 error in 11 words.
    assert.equal(lines[0], "Greedy WER = 0.0909");
    const grid = lines.filter((l) => /^alpha=\d\.\d\d, beta=\d\.\d\d: WER=\d\.\d{4}$/.test(l));
    assert.equal(grid.length, 6, r.stdout);
    assert.ok(grid.includes("alpha=1.00, beta=0.00: WER=0.0000"), r.stdout);
    assert.match(lines[lines.length - 1], /^BEST: alpha=\d\.\d\d, beta=\d\.\d\d, WER=0\.0000$/);
    assert.match(r.stderr, /\[#+\] 4\/4/);
    const csv = (await Deno.readTextFile(infer)).trim().split("\n");
    assert.equal(csv[0], "wav_filename,transcript");
    assert.deepEqual(csv.slice(1), [
      "wav/a.wav,i read books",
      "wav/b.wav,read a red books",
      "wav/c.wav,books",
      "wav/d.wav,i read books",
    ]);
    const beams = await Deno.readTextFile(dump);
    const blocks = beams.split("E=>>>>>>>>\n").filter((b) => b !== "");
    assert.equal(blocks.length, 4);
    for (const b of blocks) {
      const rows = b.split("\n").filter((x) => x !== "");
      assert.equal(rows[0], "B=>>>>>>>>");
      assert.ok(rows.length >= 2);
      for (const row of rows.slice(1)) assert.match(row, /^-?\d+(\.\d+)?(e-?\d+)? 0\.0 0\.0 [a-z' ]*$/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task decode runs infer mode, and the script refuses to write where it may not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logits } = await makeInputs(dir);
    const infer = `${dir}/out.csv`;
    const ok = await run([
      "task",
      "decode",
      "--logits",
      logits,
      "--mode",
      "infer",
      "--infer_output_file",
      infer,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const csv = (await Deno.readTextFile(infer)).trim().split("\n");
    assert.equal(csv[1], "wav/a.wav,i read books");
    assert.equal(csv[4], "wav/d.wav,i rad books"); // no LM, no lexicon
    // The toolkit's binary LM works as well as ARPA.
    const bin = `${dir}/lm.bin`;
    await convertArpaToBinary(arpa, bin);
    const withLm = await run([
      "task",
      "decode",
      "--logits",
      logits,
      "--mode",
      "infer",
      "--lm",
      bin,
      "--alpha",
      "1",
      "--beta",
      "0.5",
      "--infer_output_file",
      infer,
    ]);
    assert.equal(withLm.code, 0, withLm.stderr);
    assert.equal((await Deno.readTextFile(infer)).trim().split("\n")[4], "wav/d.wav,i read books");
    const denied = await run([
      "run",
      `--allow-read=${dir},${repo}`,
      "scripts/decode.ts",
      "--logits",
      logits,
      "--mode",
      "infer",
      "--infer_output_file",
      `${dir}/x.csv`,
    ]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /write|NotCapable|PermissionDenied/i);
    const bad = await run(["run", `--allow-read=${dir}`, "scripts/decode.ts", "--mode", "eval"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--logits is required/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/decode.ts takes the alphabet from --vocab and evaluates without an LM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const utts = { "x.wav": spellLogits("ab ba", { vocab: [" ", "a", "b"], noise: 1 }) };
    const logits = `${dir}/l.safetensors`;
    await writeLogitsFile(logits, utts); // no vocab metadata
    await Deno.writeTextFile(`${dir}/vocab.txt`, " \na\nb\n");
    await Deno.writeTextFile(`${dir}/l.csv`, "wav_filename,wav_filesize,transcript\nx.wav,1,AB BA\n");
    const base = ["run", `--allow-read=${dir},${repo}`, "scripts/decode.ts", "--logits", logits];
    const r = await run([
      ...base,
      "--labels",
      `${dir}/l.csv`,
      "--vocab",
      `${dir}/vocab.txt`,
      "--workers",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
    // References are lower-cased as decode.py does.
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "Greedy WER = 0.0000",
      "alpha=0.00, beta=0.00: WER=0.0000",
      "BEST: alpha=0.00, beta=0.00, WER=0.0000",
    ]);
    const noVocab = await run([...base, "--labels", `${dir}/l.csv`]);
    assert.equal(noVocab.code, 1);
    assert.match(noVocab.stderr, /no "vocab" metadata; give --vocab/);
    const wrong = await run([...base, "--mode", "infer", "--vocab", `${dir}/vocab.txt`, "--lm", arpa]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--lm needs --alpha and --beta/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/decode.ts reads --labels with the manifest reader: quoted commas, file:line errors, --beta -1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const utts = { "x.wav": spellLogits("ab ba", { vocab: [" ", "a", "b"], noise: 1 }) };
    const logits = `${dir}/l.safetensors`;
    await writeLogitsFile(logits, utts, { vocabulary: [" ", "a", "b"] });
    const base = [
      "run",
      `--allow-read=${dir},${repo}`,
      "scripts/decode.ts",
      "--logits",
      logits,
      "--workers",
      "0",
    ];
    // A quoted comma stays in the reference: "ab, ba" is 2 words of which "ab," is wrong.
    await Deno.writeTextFile(`${dir}/quoted.csv`, 'wav_filename,wav_filesize,transcript\nx.wav,1,"ab, ba"\n');
    const quoted = await run([...base, "--labels", `${dir}/quoted.csv`]);
    assert.equal(quoted.code, 0, quoted.stderr);
    assert.equal(quoted.stdout.split("\n")[0], "Greedy WER = 0.5000");
    // A row short of a field was once scored with the file size as its transcript.
    await Deno.writeTextFile(`${dir}/short.csv`, "wav_filename,wav_filesize,transcript\nx.wav,ab ba\n");
    const short = await run([...base, "--labels", `${dir}/short.csv`]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /short\.csv:2: expected 3 fields, found 2/);
    await Deno.writeTextFile(`${dir}/empty.csv`, "wav_filename,wav_filesize,transcript\n");
    const empty = await run([...base, "--labels", `${dir}/empty.csv`]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /empty\.csv: the manifest lists no utterances/);
    // A negative word bonus as a separate argument.
    await Deno.writeTextFile(`${dir}/ok.csv`, "wav_filename,transcript\nx.wav,ab ba\n");
    const negative = await run([
      ...base,
      "--labels",
      `${dir}/ok.csv`,
      "--beta",
      "-1",
      "--lm",
      arpa,
      "--alpha",
      "0",
    ]);
    assert.equal(negative.code, 0, negative.stderr);
    assert.match(negative.stdout, /alpha=0\.00, beta=-1\.00: WER=/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode --save_decoder_to stores the best alpha and beta in a checkpoint, which --lm alone then uses", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { logits, labels } = await makeInputs(dir);
    const ckpt = `${dir}/model.safetensors`;
    await Deno.copyFile(
      fromFileUrl(new URL("../../models/pretrained/small_wide_espeak.safetensors", import.meta.url)),
      ckpt,
    );
    const grid = [
      "--alpha",
      "0",
      "--alpha_max",
      "1",
      "--alpha_step",
      "1",
      "--beta",
      "0",
      "--beam_width",
      "16",
    ];
    const r = await run([
      "run",
      `--allow-read=${dir},${arpa},${repo}`,
      `--allow-write=${dir}`,
      "scripts/decode.ts",
      ...["--logits", logits, "--labels", labels, "--lm", arpa, ...grid, "--save_decoder_to", ckpt],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const best = /BEST: alpha=(\d\.\d\d), beta=(\d\.\d\d), WER=/.exec(r.stdout);
    assert.ok(best, r.stdout);
    const { meta } = await loadCheckpoint(ckpt); // the checksum still verifies
    const decoder = (meta.config as SpeechConfig).decoder;
    assert.deepEqual(decoder, {
      kind: "beam",
      lm: arpa,
      beamWidth: 16,
      alpha: Number(best[1]),
      beta: Number(best[2]),
    });
    assert.deepEqual(resolveDecoderConfig({ isGreedy: false, lm: arpa }, decoder), decoder);
    // Without a grid search there is nothing to store.
    const infer = await run([
      "run",
      "-A",
      "scripts/decode.ts",
      "--logits",
      logits,
      "--mode",
      "infer",
      "--lm",
      arpa,
      "--alpha",
      "1",
      "--beta",
      "0",
      "--save_decoder_to",
      ckpt,
    ]);
    assert.equal(infer.code, 2);
    assert.match(infer.stderr, /--save_decoder_to .*needs --mode eval and --lm/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
