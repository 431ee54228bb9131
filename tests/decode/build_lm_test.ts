import assert from "node:assert/strict";
import { loadLanguageModel } from "../../decode/lm_binary.ts";
import { splitRepoPrompts } from "../../data/corpora/text_split.ts";

const script = new URL("../../scripts/build_lm.ts", import.meta.url).pathname;

async function runBuildLm(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const corpus = [
  "the cat sat on the mat",
  "the dog sat on the log",
  "a cat and a dog",
  "the cat and the dog sat on a mat",
  "on the mat sat a cat",
].join("\n") + "\n";

Deno.test("build_lm writes a gzip ARPA file and a binary that score the same", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/corpus.txt`, corpus);
    const r = await runBuildLm([
      "--order",
      "3",
      "--text",
      `${dir}/corpus.txt`,
      "--arpa",
      `${dir}/lm.arpa.gz`,
      "--binary",
      `${dir}/lm.bin`,
      "--discount_fallback",
      "--prune",
      "0",
      "0",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3-grams \d+\/\d+ .*\(fallback\)/);
    const fromArpa = await loadLanguageModel(`${dir}/lm.arpa.gz`);
    const fromBin = await loadLanguageModel(`${dir}/lm.bin`);
    assert.equal(fromArpa.order, 3);
    for (const s of ["the cat sat on the mat", "a dog sat", "zebra"]) {
      const words = s.split(" ");
      assert.equal(fromBin.scoreSentence(words), fromArpa.scoreSentence(words));
      assert.ok(fromArpa.scoreSentence(words) < 0);
    }
    assert.ok(fromArpa.scoreSentence(["the", "cat", "sat"]) > fromArpa.scoreSentence(["sat", "cat", "the"]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build_lm --char builds a character LM; --vocab_size and --limit_vocab_file limit a word LM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/corpus.txt`, corpus);
    const base = ["--order", "3", "--text", `${dir}/corpus.txt`, "--discount_fallback"];
    assert.equal((await runBuildLm([...base, "--char", "--arpa", `${dir}/char.arpa`])).code, 0);
    const chars = await loadLanguageModel(`${dir}/char.arpa`);
    assert.equal(chars.isCharacterBased, true);
    assert.ok(chars.vocabulary.includes("|"));
    assert.equal((await runBuildLm([...base, "--vocab_size", "3", "--arpa", `${dir}/v3.arpa`])).code, 0);
    const limited = await loadLanguageModel(`${dir}/v3.arpa`);
    assert.deepEqual([...limited.vocabulary].sort(), ["cat", "sat", "the"]);
    await Deno.writeTextFile(`${dir}/words.txt`, "mat\ndog on\n");
    const r = await runBuildLm([
      ...base,
      "--limit_vocab_file",
      `${dir}/words.txt`,
      "--arpa",
      `${dir}/w.arpa`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...(await loadLanguageModel(`${dir}/w.arpa`)).vocabulary].sort(), ["dog", "mat", "on"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build_lm exits 2 on an unknown flag, 0 on --help, and 1 on tiny data without fallback", async () => {
  const bad = await runBuildLm(["--order", "3", "--frobnicate"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --frobnicate/);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert.equal((await runBuildLm(["--help"])).code, 0);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/corpus.txt`, corpus);
    const r = await runBuildLm(["--order", "3", "--text", `${dir}/corpus.txt`, "--arpa", `${dir}/x.arpa`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /small or artificial data/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build_lm leaves out lines holding an evaluation sentence unless --keep_eval_sentences", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const prompts = Deno.readTextFileSync(
      new URL("../../data/corpora/text/gutenberg_sentences.txt", import.meta.url),
    ).split("\n");
    const heldOut = splitRepoPrompts(prompts).evaluation[0];
    // The held-out prompt inside a longer line, with a word nothing else has.
    await Deno.writeTextFile(`${dir}/corpus.txt`, corpus + `and so ${heldOut} plugh\n`);
    const base = ["--order", "2", "--text", `${dir}/corpus.txt`, "--discount_fallback"];
    const dropped = await runBuildLm([...base, "--arpa", `${dir}/dropped.arpa`]);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stderr, /left out [12] of 6 lines holding an evaluation sentence/);
    const arpa = await Deno.readTextFile(`${dir}/dropped.arpa`);
    assert.ok(!arpa.includes("plugh"), "the line holding the held-out prompt is gone");
    assert.ok(arpa.includes("the log"), "an ordinary line stays");
    const kept = await runBuildLm([...base, "--arpa", `${dir}/kept.arpa`, "--keep_eval_sentences"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok((await Deno.readTextFile(`${dir}/kept.arpa`)).includes("plugh"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
