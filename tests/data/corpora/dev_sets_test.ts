import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  FSDD_SPEAKERS,
  fsddSpeaker,
  fsddTrainingEntries,
  makeDevSets,
} from "../../../data/corpora/dev_sets.ts";
import { hasEspeak } from "../../../data/corpora/synth.ts";
import { splitRepoPrompts } from "../../../data/corpora/text_split.ts";
import { readManifest } from "../../../data/pipeline/manifest.ts";
import { Vocabulary } from "../../../data/pipeline/vocabulary.ts";
import { sharedDataDir } from "../../shared_data.ts";

const promptText = Deno.readTextFileSync(
  fileURLToPath(new URL("../../../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
);
if (!hasEspeak()) console.warn("SKIPPED: tests/data/corpora/dev_sets_test.ts needs espeak-ng");
if (sharedDataDir === null) {
  console.warn("dev_sets_test: ../shared/data absent, the FSDD and real-clip sets are not checked");
}

Deno.test({
  name: "makeDevSets() speaks only evaluation sentences and splits FSDD by speaker, reproducibly",
  ignore: !hasEspeak(),
  async fn() {
    const outDir = await Deno.makeTempDir({ prefix: "dev_sets_test_" });
    try {
      const skipped: string[] = [];
      const options = {
        outDir,
        promptText,
        vocab: Vocabulary.english(),
        sharedDataDir,
        nPrompts: 4,
        onSkip: (name: string) => skipped.push(name),
      };
      const sets = await makeDevSets(options);
      const byName = new Map(sets.map((s) => [s.name, s]));
      const espeak = readManifest(byName.get("espeak_unseen")!.manifestPath);
      assert.equal(espeak.length, 4);
      const evaluation = new Set(splitRepoPrompts(promptText.split("\n")).evaluation);
      for (const e of espeak) {
        assert.ok(evaluation.has(e.transcript), `"${e.transcript}" is not an evaluation prompt`);
      }
      for (const name of ["flite_awb", "flite_rms"]) {
        if (!byName.has(name)) continue;
        assert.deepEqual(
          readManifest(byName.get(name)!.manifestPath).map((e) => e.transcript),
          espeak.map((e) => e.transcript),
        );
      }
      if (sharedDataDir !== null) {
        let total = 0;
        for (const speaker of FSDD_SPEAKERS) {
          const entries = readManifest(byName.get(`fsdd_${speaker}`)!.manifestPath);
          assert.equal(entries.length, 500, speaker);
          assert.ok(entries.every((e) => fsddSpeaker(e.audioPath) === speaker));
          const train = fsddTrainingEntries(sharedDataDir, speaker);
          assert.equal(train.length, 2000);
          assert.ok(
            train.every((e) => fsddSpeaker(e.audioPath) !== speaker),
            "the held-out speaker is not trained on",
          );
          total += entries.length;
        }
        assert.equal(total, 2500);
        assert.equal(readManifest(byName.get("real_clips")!.manifestPath).length, 15);
      } else {
        assert.ok(skipped.some((s) => s.includes("fsdd")));
      }
      // A second run re-uses the audio it made.
      const again = await makeDevSets(options);
      assert.deepEqual(again, sets);
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
