/**
 * Fuzz target: OpenSeq2Seq vocabulary files through `parseVocabulary`, seeded with the English
 * vocabulary (space line first) and a file with token counts and CRLF line ends.
 */
import { ENGLISH_CHARS, parseVocabulary } from "../../data/pipeline/vocabulary.ts";
import type { FuzzTarget } from "./mutate.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Vocabulary files. */
export function vocabularyTarget(): FuzzTarget {
  return {
    format: "vocabulary",
    seeds: [
      { bytes: encoder.encode(ENGLISH_CHARS.join("\n") + "\n"), isText: true },
      { bytes: encoder.encode("a 120\r\nb 7\r\n' 3\r\n \r\n"), isText: true },
    ],
    suffix: ".txt",
    read: (b, label) => parseVocabulary(decoder.decode(b), label),
  };
}
