import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fsddSpeaker } from "../../data/corpora/dev_sets.ts";
import { hasEspeak, hasFlite, VOICE_SPLITS } from "../../data/corpora/synth.ts";
import { splitRepoPrompts } from "../../data/corpora/text_split.ts";
import { readManifest } from "../../data/pipeline/manifest.ts";
import { Vocabulary } from "../../data/pipeline/vocabulary.ts";
import { FSDD_HELD_OUT_SPEAKER } from "../../models/configs/small_wide_mixed.ts";
import { preparePretrainData, pretrainVoiceSet, recipeConfig } from "../../models/pretrain_recipe.ts";
import { validateDataConfig } from "../../models/training_data.ts";
import { sharedDataDir } from "../shared_data.ts";
import { makeTestTempDir } from "../temp_dir.ts";

const promptFile = fileURLToPath(new URL("../../data/corpora/text/gutenberg_sentences.txt", import.meta.url));
const canSynthesize = hasEspeak() && hasFlite() && sharedDataDir !== null;
if (!canSynthesize) {
  console.warn(
    "SKIPPED: the pretrain data test needs espeak-ng, flite (apt-get install espeak-ng flite sox) and ../shared/data",
  );
}

Deno.test("recipeConfig() puts every data and log path under the output folder, and the config validates", () => {
  const c = recipeConfig("/tmp/elsewhere");
  assert.deepEqual(c.data.train, ["/tmp/elsewhere/train/manifest.csv"]);
  assert.deepEqual(c.data.mix?.map((m) => m.manifest), ["/tmp/elsewhere/fsdd_train/manifest.csv"]);
  assert.equal(c.training.logDir, "/tmp/elsewhere/run");
  assert.equal(c.training.initCheckpoint, "models/pretrained/small_wide_espeak.safetensors");
  validateDataConfig(c);
});

Deno.test("the recipe's voices keep flite awb and every held-out espeak-ng voice unseen", () => {
  const v = pretrainVoiceSet();
  assert.deepEqual(v.flite?.voices, ["rms"]);
  for (const voice of VOICE_SPLITS.heldOut.voices) assert.ok(!v.voices.includes(voice), voice);
  for (const variant of VOICE_SPLITS.heldOut.variants) assert.ok(!v.variants.includes(variant), variant);
});

Deno.test({
  name:
    "preparePretrainData() speaks training prompts only (espeak-ng and flite rms) and leaves the held-out FSDD speaker out",
  ignore: !canSynthesize,
  async fn() {
    const outDir = makeTestTempDir("pretrain_recipe_test_");
    const promptText = Deno.readTextFileSync(promptFile);
    const data = await preparePretrainData({
      outDir,
      promptText,
      vocab: Vocabulary.english(),
      sharedDataDir: sharedDataDir!,
      nSentences: 8,
    });
    assert.equal(data.nSynthetic, 8);
    assert.equal(data.nSpokenNow, 8);
    const evaluation = new Set(splitRepoPrompts(promptText.split("\n")).evaluation);
    for (const e of readManifest(data.trainManifest)) assert.ok(!evaluation.has(e.transcript), e.transcript);
    const speakers = new Set(readManifest(data.fsddManifest).map((e) => fsddSpeaker(e.audioPath)));
    assert.equal(data.nFsdd, 2000);
    assert.ok(!speakers.has(FSDD_HELD_OUT_SPEAKER));
    assert.equal(speakers.size, 4);
    // A second call re-uses every WAV.
    const again = await preparePretrainData({
      outDir,
      promptText,
      vocab: Vocabulary.english(),
      sharedDataDir: sharedDataDir!,
      nSentences: 8,
    });
    assert.equal(again.trainManifest, join(outDir, "train", "manifest.csv"));
    assert.equal(again.nSpokenNow, 0);
  },
});
