/**
 * Fuzz target: the toolkit's LM binary through `readLmBinary` and a query, seeded with the
 * binary of tests/fixtures/lm/tiny.arpa. Every header slot (sizes, counts, offsets, ids) is a
 * targeted field. Half the seeds re-stamp the checksum after mutating, so that a mutant reaches
 * the layout checks behind the checksum, as a file written by a buggy or hostile tool would.
 */
import { readLmBinary } from "../../decode/lm_binary.ts";
import { parseArpa } from "../../decode/arpa.ts";
import { HEADER, lmChecksum, NGramLM } from "../../decode/ngram_lm.ts";
import type { FieldSpec, FuzzSeed, FuzzTarget } from "./mutate.ts";

/** Re-stamps the checksum (when the header is long enough to hold one). */
function restampChecksum(bytes: Uint8Array): Uint8Array {
  if (bytes.length < HEADER.fixedWords * 4) return bytes;
  const out = new Uint8Array(bytes.length + ((4 - (bytes.length & 3)) & 3));
  out.set(bytes);
  const u32 = new Uint32Array(out.buffer);
  const total = Math.min(u32[HEADER.totalBytes], out.length) & ~3;
  u32[HEADER.checksum] = lmChecksum(out.buffer, total);
  return out.subarray(0, bytes.length);
}

/** The LM binary target. */
export function lmBinaryTarget(): FuzzTarget {
  const text = new TextDecoder().decode(
    Deno.readFileSync(new URL("../fixtures/lm/tiny.arpa", import.meta.url)),
  );
  const lm = NGramLM.fromArpa(parseArpa(text, "tiny.arpa"));
  const bytes = new Uint8Array(lm.buffer).slice();
  const nSlots = HEADER.fixedWords + HEADER.perOrder * lm.order;
  const fields: FieldSpec[] = Array.from({ length: nSlots }, (_, i) => ({ offset: 4 * i, nBytes: 4 }));
  const seeds: FuzzSeed[] = [{ bytes, fields }, { bytes, fields, encode: restampChecksum }];
  return {
    format: "LM binary",
    seeds,
    needsFile: true,
    suffix: ".bin",
    async read(_bytes, label) {
      const loaded = await readLmBinary(label);
      loaded.scoreSentence(["the", "cat", "sat"]);
    },
  };
}
