/**
 * Inference over many files: `inferFiles` decodes batch by batch and streams logits to disk,
 * with the same transcripts and logits as one file at a time. Uses the shipped checkpoint and
 * espeak-ng utterances (skipped, loudly, without espeak-ng).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { hasEspeak, synthesizeCorpus } from "../../data/corpora/synth.ts";
import { LogitsFileWriter, readLogitsFile } from "../../decode/logits_file.ts";
import { audioLogits, inferFiles, loadModel, transcribeFile } from "../../models/inference.ts";
import { TranscriptDecoder } from "../../models/transcript_decoder.ts";

const checkpoint = fileURLToPath(
  new URL("../../models/pretrained/small_wide_espeak.safetensors", import.meta.url),
);
const espeak = hasEspeak();
if (!espeak) {
  console.warn("SKIPPED: tests/models/inference_test.ts needs espeak-ng (apt-get install espeak-ng sox)");
}

Deno.test({
  name: "inferFiles() in batches of 2 gives each file's own transcript and logits, streamed to a logits file",
  ignore: !espeak,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "inference_test_" });
    try {
      const sentences = [
        "the cat sat on the mat",
        "a red book",
        "she walked home",
        "one two three",
        "good night",
      ];
      const synth = await synthesizeCorpus(sentences, { outDir: dir, seed: 1, concurrency: 2 });
      const paths = synth.entries.map((e) => e.audioPath);
      const m = await loadModel(checkpoint);
      using decoder = await TranscriptDecoder.create({ kind: "greedy" }, m.vocab, {
        frameStepS: m.frameStepS,
      });
      const out = `${dir}/logits.safetensors`;
      const got: { path: string; text: string }[] = [];
      {
        await using logitsWriter = await LogitsFileWriter.create(out, { vocabulary: m.vocab.chars });
        for await (const r of inferFiles(m, paths, { decoder, batchSize: 2, logitsWriter })) {
          got.push({ path: r.path, text: r.transcript.text });
        }
        await logitsWriter.close();
      }
      assert.deepEqual(got.map((r) => r.path), paths, "every file once, in order");
      const file = await readLogitsFile(out);
      for (const [i, p] of paths.entries()) {
        assert.equal(got[i].text, (await transcribeFile(m, p)).text, p);
        const alone = await audioLogits(m, p);
        const stored = file.utterances.get(p)!;
        assert.equal(stored.T, alone.nFrames);
        assert.deepEqual(stored.data, alone.logits);
      }
      // The shipped model hears espeak-ng: most words of these sentences come out right.
      assert.ok(got.filter((r, i) => r.text === sentences[i]).length >= 3, JSON.stringify(got));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
