/**
 * Perplexity of one or more ARPA/binary LMs on a held-out text, scored by the toolkit's
 * engine with KenLM's convention (context starts at <s>, every word and </s> scored). Words
 * outside an LM's vocabulary are scored as <unk> in "with OOV" and left out of "without OOV"
 * (SRILM's ppl convention: their context still counts).
 *
 * Usage: ./deno run -A bench/lm_perplexity.ts TEST.txt LM1.arpa [LM2.arpa ...]
 * See bench/lm_vs_irstlm.sh for the comparison recorded in BENCHMARKS.md.
 */
import { loadLanguageModel } from "../decode/lm_binary.ts";

const [textPath, ...lmPaths] = Deno.args;
if (lmPaths.length === 0) {
  console.error("usage: lm_perplexity.ts TEST.txt LM [LM ...]");
  Deno.exit(2);
}
const sentences = (await Deno.readTextFile(textPath)).split("\n").filter((l) => l.trim() !== "");
for (const path of lmPaths) {
  const lm = await loadLanguageModel(path);
  let logAll = 0, nAll = 0, logIv = 0, nIv = 0, nOov = 0;
  for (const s of sentences) {
    const ids = [lm.bosId];
    for (const w of [...s.trim().split(/\s+/), "</s>"]) {
      const id = w === "</s>" ? lm.eosId : lm.wordId(w);
      ids.push(id);
      const lp = lm.conditionalLogProb(ids.slice(Math.max(0, ids.length - lm.order)));
      logAll += lp;
      nAll++;
      if (id < 0) nOov++;
      else {
        logIv += lp;
        nIv++;
      }
    }
  }
  console.log(
    `${path}: ${sentences.length} sentences, ${nAll} tokens (${nOov} OOV): ` +
      `perplexity ${(10 ** (-logIv / nIv)).toFixed(2)} without OOV, ${
        (10 ** (-logAll / nAll)).toFixed(2)
      } with OOV as <unk>`,
  );
}
