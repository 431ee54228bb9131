/**
 * Slow: the full ~1M n-gram 3-gram of lm_gutenberg_8books.txt, built, round-tripped through
 * ARPA text and the binary, and checked to sum to 1 over the whole vocabulary for sampled
 * contexts. About 20 s on 2 cores.
 */
import assert from "node:assert/strict";
import { parseArpa } from "../../decode/arpa.ts";
import { estimateKneserNey, formatArpa } from "../../decode/kneser_ney.ts";
import { readLmBinary, writeLmBinary } from "../../decode/lm_binary.ts";
import { countNGrams } from "../../decode/ngram_counts.ts";
import { NGramLM } from "../../decode/ngram_lm.ts";
import { testWithSharedData } from "../shared_data.ts";

testWithSharedData(
  "the Gutenberg 3-gram (about a million n-grams) sums to 1 for sampled contexts after the binary round trip",
  "text/lm_gutenberg_8books.txt",
  async (path) => {
    const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
    const model = estimateKneserNey(countNGrams(lines, { order: 3, source: path }), { source: path });
    const total = model.arpa.orders.reduce((a, o) => a + o.count, 0);
    assert.ok(total > 900_000 && total < 1_100_000, `${total} n-grams`);
    const lm = NGramLM.fromArpa(parseArpa(formatArpa(model.arpa), "gutenberg.arpa"));
    const dir = await Deno.makeTempDir();
    let bin: NGramLM;
    try {
      await writeLmBinary(lm, `${dir}/lm.bin`);
      bin = await readLmBinary(`${dir}/lm.bin`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assert.ok(bin.nBytes / total < 9, `${(bin.nBytes / total).toFixed(2)} B/n-gram`);
    const vocab = [...bin.vocabulary, "</s>", "<unk>"].map((w) => bin.wordId(w));
    const big = model.arpa.orders[1];
    const contexts: number[][] = [[], [bin.bosId], [-1, -1]];
    for (let i = 7; i < big.count; i += Math.floor(big.count / 12)) {
      contexts.push([
        bin.wordId(model.arpa.words[big.ids[2 * i]]),
        bin.wordId(model.arpa.words[big.ids[2 * i + 1]]),
      ]);
    }
    const ids = new Int32Array(3);
    for (const ctx of contexts) {
      const q = ids.subarray(0, ctx.length + 1);
      q.set(ctx);
      let sum = 0;
      for (const w of vocab) {
        q[ctx.length] = w;
        sum += 10 ** bin.conditionalLogProb(q);
      }
      assert.ok(Math.abs(sum - 1) < 1e-4, `context ${ctx}: Σp = ${sum}`);
    }
  },
);
