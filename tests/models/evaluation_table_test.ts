import assert from "node:assert/strict";
import { join } from "node:path";
import { writeManifest } from "../../data/pipeline/manifest.ts";
import { config as small } from "../../models/configs/small.ts";
import { formatEvaluationTable, trainingOverlap } from "../../models/evaluation_table.ts";
import { makeTestTempDir } from "../temp_dir.ts";

Deno.test("trainingOverlap() counts a set's audio files that the training or mix manifests list, and names unreadable ones", () => {
  const dir = makeTestTempDir("evaluation_table_test_");
  const entry = (name: string) => ({ audioPath: join(dir, name), transcript: "one", nBytes: 44 });
  writeManifest(join(dir, "train.csv"), [entry("a.wav"), entry("b.wav")]);
  writeManifest(join(dir, "mix.csv"), [entry("c.wav")]);
  writeManifest(join(dir, "dev.csv"), [entry("b.wav"), entry("c.wav"), entry("d.wav")]);
  writeManifest(join(dir, "clean.csv"), [entry("d.wav")]);
  const config = structuredClone(small);
  config.data.train = [join(dir, "train.csv")];
  config.data.mix = [{ manifest: join(dir, "mix.csv"), share: 0.1 }, {
    manifest: join(dir, "gone.csv"),
    share: 0.1,
  }];
  const r = trainingOverlap(config, [
    { name: "dev", manifestPath: join(dir, "dev.csv") },
    { name: "clean", manifestPath: join(dir, "clean.csv") },
  ]);
  assert.equal(r.nSeen.get("dev"), 2);
  assert.equal(r.nSeen.has("clean"), false);
  assert.deepEqual(r.unreadable, [join(dir, "gone.csv")]);
});

Deno.test("formatEvaluationTable() marks rows seen in training and shows the lexicon column only where a set has one", () => {
  const text = formatEvaluationTable({
    checkpoint: "m.safetensors",
    decoder: null,
    rows: [
      { set: "espeak_unseen", nUtterances: 200, greedy: { wer: 0.25, cer: 0.08 } },
      {
        set: "fsdd_lucas",
        nUtterances: 500,
        greedy: { wer: 0.1, cer: 0.05 },
        lexicon: { wer: 0.02, cer: 0.01 },
        nSeenInTraining: 500,
      },
    ],
  });
  const lines = text.split("\n");
  assert.match(lines[1], /lexicon WER/);
  assert.match(lines[2], /^espeak_unseen .* 25\.00 % .* 8\.00 % .*–$/);
  assert.match(lines[3], /^fsdd_lucas \(500 trained on\) .* 2\.00 %$/);
});
