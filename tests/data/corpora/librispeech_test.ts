import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readAudio } from "../../../data/audio/audio.ts";
import { readManifest } from "../../../data/pipeline/manifest.ts";
import {
  importLibriSpeechFolder,
  importLibriSpeechTarballs,
  normalizeLibriSpeechTranscript,
  parseTransFile,
} from "../../../data/corpora/librispeech.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

const fixture = fileURLToPath(new URL("../../fixtures/librispeech/", import.meta.url));
const EXPECTED_DEV = [
  ["174-50561-0000", "a cafe in the town"],
  ["84-121123-0000", "go do you hear"],
  ["84-121123-0001", "but in less than five minutes"],
];

const idOf = (p: string): string => p.split("/").pop()!.replace(/\.(flac|wav)$/, "");

Deno.test("LibriSpeech transcripts are NFKD-folded to ASCII and lower-cased like import_librivox.py", () => {
  assert.equal(normalizeLibriSpeechTranscript(" A CAFÉ NAÏVE  "), "a cafe naive");
  const m = parseTransFile("84-121123-0000 GO DO YOU HEAR\r\n\n84-121123-0001 BUT IN\n", "x.trans.txt");
  assert.deepEqual([...m], [["84-121123-0000", "go do you hear"], ["84-121123-0001", "but in"]]);
  assert.throws(() => parseTransFile("lonely\n", "x.trans.txt"), /x\.trans\.txt:1: expected/);
});

Deno.test("importLibriSpeechFolder() writes one librivox-<subset>.csv per subset with absolute FLAC paths", () => {
  const out = makeTestTempDir("librispeech_test_");
  const res = importLibriSpeechFolder(fixture, { outDir: out });
  assert.deepEqual([...res.keys()], ["dev-clean", "test-clean"]);
  const dev = readManifest(join(out, "librivox-dev-clean.csv"));
  assert.deepEqual(dev.map((e) => [idOf(e.audioPath), e.transcript]), EXPECTED_DEV);
  for (const e of dev) {
    assert.ok(e.audioPath.startsWith(fixture) && e.audioPath.endsWith(".flac"));
    assert.equal(e.nBytes, Deno.statSync(e.audioPath).size);
  }
  const test = readManifest(join(out, "librivox-test-clean.csv"));
  assert.deepEqual(test.map((e) => e.transcript), ["he hoped there would be stew"]);
  // A subset folder alone imports only that subset.
  const only = importLibriSpeechFolder(join(fixture, "LibriSpeech", "test-clean"), {
    outDir: makeTestTempDir("librispeech_test_"),
  });
  assert.deepEqual([...only.keys()], ["test-clean"]);
});

Deno.test("importLibriSpeechTarballs() on the fixture tarball matches the folder import and converts to WAV exactly", async () => {
  const out = makeTestTempDir("librispeech_test_");
  const res = await importLibriSpeechTarballs([join(fixture, "LibriSpeech.tar.gz")], {
    outDir: out,
    toWav: true,
  });
  const dev = res.get("dev-clean")!.entries;
  assert.deepEqual(dev.map((e) => [idOf(e.audioPath), e.transcript]), EXPECTED_DEV);
  for (const e of dev) {
    assert.ok(e.audioPath.startsWith(join(out, "dev-clean-wav")));
    const wav = readAudio(e.audioPath);
    const id = idOf(e.audioPath);
    const [spk, ch] = id.split("-");
    const flac = readAudio(join(fixture, "LibriSpeech", "dev-clean", spk, ch, `${id}.flac`));
    assert.equal(wav.sampleRate, 16000);
    assert.deepEqual(wav.samples, flac.samples); // 16-bit FLAC -> 16-bit WAV is lossless
  }
  // A second run reuses the converted WAVs (their mtimes stay) and writes the same manifest.
  const mtimes = dev.map((e) => Deno.statSync(e.audioPath).mtime?.getTime());
  const again = await importLibriSpeechTarballs([join(fixture, "LibriSpeech.tar.gz")], {
    outDir: out,
    toWav: true,
  });
  assert.deepEqual(again.get("dev-clean")!.entries, dev);
  assert.deepEqual(dev.map((e) => Deno.statSync(e.audioPath).mtime?.getTime()), mtimes);
  const kept = await importLibriSpeechTarballs([join(fixture, "LibriSpeech.tar.gz")], {
    outDir: makeTestTempDir("librispeech_test_"),
    subsets: ["test-clean"],
  });
  assert.deepEqual([...kept.keys()], ["test-clean"]);
  const flacPath = kept.get("test-clean")!.entries[0].audioPath;
  assert.deepEqual(
    Deno.readFileSync(flacPath),
    Deno.readFileSync(join(fixture, "LibriSpeech/test-clean/1089/134686/1089-134686-0000.flac")),
  );
});

Deno.test("an utterance without transcript or a transcript without audio is an error listing them", () => {
  const root = makeTestTempDir("librispeech_test_");
  const dir = join(root, "LibriSpeech", "dev-clean", "1", "2");
  Deno.mkdirSync(dir, { recursive: true });
  Deno.copyFileSync(
    join(fixture, "LibriSpeech/dev-clean/84/121123/84-121123-0000.flac"),
    join(dir, "1-2-0000.flac"),
  );
  Deno.writeTextFileSync(join(dir, "1-2.trans.txt"), "1-2-0001 HELLO\n");
  assert.throws(() => importLibriSpeechFolder(root, { outDir: join(root, "out") }), (e: Error) => {
    assert.match(e.message, /no transcript for .*1-2-0000\.flac/);
    assert.match(e.message, /no audio for .*1-2\.trans\.txt: dev-clean\/1-2-0001/);
    return true;
  });
});

Deno.test("scripts/import_librispeech.ts imports the fixture tarball with the task's narrow permissions", async () => {
  const out = makeTestTempDir("librispeech_test_");
  const script = fileURLToPath(new URL("../../../scripts/import_librispeech.ts", import.meta.url));
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      script,
      "--out",
      out,
      join(fixture, "LibriSpeech.tar.gz"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  assert.match(new TextDecoder().decode(r.stdout), /dev-clean: 3 utterances/);
  assert.equal(readManifest(join(out, "librivox-dev-clean.csv")).length, 3);
  const bad = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      script,
      "--out",
      out,
      "--subsets",
      "dev-dirty",
      "x",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /unknown subset "dev-dirty"/);
});

Deno.test("import_librispeech.ts --download fetches from a mirror, resumes a partial file, checks MD5 and imports", async () => {
  const tarball = Deno.readFileSync(join(fixture, "LibriSpeech.tar.gz"));
  const md5 = createHash("md5").update(tarball).digest("hex");
  const requests: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    const range = req.headers.get("range");
    requests.push(`${path} ${range ?? ""}`.trim());
    if (path === "/res12/md5sum.txt") {
      return new Response(`${md5}  dev-clean.tar.gz\n${"0".repeat(32)}  other.tar.gz\n`);
    }
    if (path !== "/res12/dev-clean.tar.gz") return new Response("no", { status: 404 });
    const from = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    return new Response(tarball.slice(from), { status: from > 0 ? 206 : 200 });
  });
  try {
    const out = makeTestTempDir("librispeech_test_");
    Deno.writeFileSync(join(out, "dev-clean.tar.gz.part"), tarball.subarray(0, 1000));
    const script = fileURLToPath(new URL("../../../scripts/import_librispeech.ts", import.meta.url));
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net=127.0.0.1",
        script,
        "--out",
        out,
        "--download",
        "--subsets",
        "dev-clean",
        "--mirror",
        `http://127.0.0.1:${server.addr.port}/res12/`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.deepEqual(requests, ["/res12/md5sum.txt", "/res12/dev-clean.tar.gz bytes=1000-"]);
    assert.deepEqual(Deno.readFileSync(join(out, "dev-clean.tar.gz")), tarball);
    const dev = readManifest(join(out, "librivox-dev-clean.csv"));
    assert.deepEqual(dev.map((e) => [idOf(e.audioPath), e.transcript]), EXPECTED_DEV);
    assert.throws(() => Deno.statSync(join(out, "librivox-test-clean.csv")));
  } finally {
    await server.shutdown();
  }
});
