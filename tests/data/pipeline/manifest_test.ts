import assert from "node:assert/strict";
import { join } from "node:path";
import { checkTranscripts, Vocabulary } from "../../../data/pipeline/vocabulary.ts";
import { testWithSharedData } from "../../shared_data.ts";
import {
  formatCsvField,
  parseCsvManifest,
  parseJsonlManifest,
  readManifest,
  readManifests,
  writeManifest,
} from "../../../data/pipeline/manifest.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

Deno.test("a CSV manifest round-trips with paths relative to its folder", () => {
  const dir = makeTestTempDir("manifest_test_");
  Deno.mkdirSync(join(dir, "wav"));
  const entries = [
    { audioPath: join(dir, "wav", "a.wav"), transcript: "hello world", nBytes: 100 },
    { audioPath: join(dir, "wav", "b.wav"), transcript: 'comma, and "quote"', nBytes: 200 },
  ];
  const path = join(dir, "m.csv");
  writeManifest(path, entries);
  const text = Deno.readTextFileSync(path);
  assert.ok(text.startsWith("wav_filename,wav_filesize,transcript\nwav/a.wav,100,hello world\n"));
  const back = readManifest(path);
  assert.deepEqual(
    back.map((e) => [e.audioPath, e.transcript, e.nBytes]),
    entries.map((e) => [e.audioPath, e.transcript, e.nBytes]),
  );
  assert.equal(back[1].source, `${path}:3`);
});

Deno.test("a NeMo JSON-lines manifest round-trips, absolute paths kept when asked", () => {
  const dir = makeTestTempDir("manifest_test_");
  const entries = [{ audioPath: "/elsewhere/x.flac", transcript: "one", durationS: 1.25 }];
  const path = join(dir, "m.jsonl");
  writeManifest(path, entries, { paths: "absolute" });
  assert.equal(
    Deno.readTextFileSync(path),
    '{"audio_filepath":"/elsewhere/x.flac","duration":1.25,"text":"one"}\n',
  );
  const back = readManifest(path);
  assert.equal(back[0].audioPath, "/elsewhere/x.flac");
  assert.equal(back[0].durationS, 1.25);
});

Deno.test("relative paths resolve against the manifest's folder, not the working directory", () => {
  const rows = parseCsvManifest(
    "wav_filename,wav_filesize,transcript\n../audio/a.wav,10,x\n",
    "/data/sets/m.csv",
  );
  assert.equal(rows[0].audioPath, "/data/audio/a.wav");
  const j = parseJsonlManifest('{"audio_filepath":"a.wav","duration":1,"text":"x"}', "/data/sets/m.json");
  assert.equal(j[0].audioPath, "/data/sets/a.wav");
});

Deno.test("CSV with CRLF line ends and a BOM parses", () => {
  const rows = parseCsvManifest("\uFEFFwav_filename,wav_filesize,transcript\r\na.wav,1,x y\r\n", "/d/m.csv");
  assert.equal(rows.length, 1);
  assert.equal(rows[0].transcript, "x y");
});

Deno.test("manifest errors name the file and the line", () => {
  assert.throws(() => parseCsvManifest("wav,transcript\n", "/d/m.csv"), /\/d\/m\.csv:1: expected a header/);
  assert.throws(
    () => parseCsvManifest("wav_filename,wav_filesize,transcript\na.wav,1,x\nb.wav,2\n", "/d/m.csv"),
    /\/d\/m\.csv:3: expected 3 fields, found 2/,
  );
  assert.throws(
    () => parseCsvManifest("wav_filename,wav_filesize,transcript\na.wav,big,x\n", "/d/m.csv"),
    /m\.csv:2: wav_filesize "big"/,
  );
  assert.throws(
    () =>
      parseJsonlManifest(
        '{"audio_filepath":"a","duration":1,"text":"x"}\n\n{"duration":1,"text":"y"}\n',
        "/d/n.jsonl",
      ),
    /\/d\/n\.jsonl:3: missing or non-string "audio_filepath"/,
  );
  assert.throws(() => parseJsonlManifest("{oops\n", "/d/n.jsonl"), /n\.jsonl:1: invalid JSON/);
});

Deno.test("writing a NeMo manifest without durations is refused", () => {
  const dir = makeTestTempDir("manifest_test_");
  assert.throws(
    () => writeManifest(join(dir, "m.json"), [{ audioPath: "a.wav", transcript: "x" }]),
    /need a duration/,
  );
});

Deno.test("a manifest without utterances is an error naming it, unless allowed", () => {
  const dir = makeTestTempDir("manifest_test_");
  for (const [name, text] of [["h.csv", "wav_filename,wav_filesize,transcript\n"], ["e.jsonl", "\n"]]) {
    const path = join(dir, name);
    Deno.writeTextFileSync(path, text);
    assert.throws(() => readManifest(path), new RegExp(`${name}: the manifest lists no utterances`));
    assert.deepEqual(readManifest(path, { allowEmpty: true }), []);
  }
  assert.throws(() => readManifests([]), /no manifest given/);
});

Deno.test("manifest rows keep the path as written, and quoted fields round-trip commas and quotes", () => {
  const rows = parseCsvManifest(
    'wav_filename,transcript\nsub/a.wav,"one, two"\n"b,c.wav","say ""hi"""\n',
    "/d/m.csv",
  );
  assert.deepEqual(rows.map((r) => [r.writtenPath, r.audioPath, r.transcript]), [
    ["sub/a.wav", "/d/sub/a.wav", "one, two"],
    ["b,c.wav", "/d/b,c.wav", 'say "hi"'],
  ]);
  assert.equal(formatCsvField('say "hi", twice'), '"say ""hi"", twice"');
  assert.equal(formatCsvField("plain"), "plain");
});

testWithSharedData(
  "the shared FSDD manifest reads with paths resolved beside it and every transcript in the English vocabulary",
  "real/fsdd/manifest.csv",
  (path) => {
    const entries = readManifest(path);
    assert.equal(entries.length, 2500);
    for (const e of entries.slice(0, 50)) assert.equal(Deno.statSync(e.audioPath).size, e.nBytes);
    checkTranscripts(entries, Vocabulary.english());
  },
);
