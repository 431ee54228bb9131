/**
 * Fuzz targets: ARPA language models, plain and gzip, through `loadArpa` (read, parse and build
 * the trie), seeded with tests/fixtures/lm/tiny.arpa (3-gram, missing backoffs, a trigram whose
 * context is absent) and a 2-gram cut from it. Text mutants change lines and numbers (counts
 * of 2^32, negative counts, NaN probabilities); the gzip target both compresses mutated text
 * and mutates the compressed bytes.
 */
import { gzipSync } from "node:zlib";
import { loadArpa } from "../../decode/arpa.ts";
import type { FuzzSeed, FuzzTarget } from "./mutate.ts";

const TINY = Deno.readFileSync(new URL("../fixtures/lm/tiny.arpa", import.meta.url));

function bigramSeed(): Uint8Array {
  const text = new TextDecoder().decode(TINY);
  const cut = text.replace(/ngram 3=2\n/, "").replace(/\\3-grams:[\s\S]*?\\end\\/, "\\end\\");
  return new TextEncoder().encode(cut);
}

function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** ARPA text, plain. */
export function arpaTarget(): FuzzTarget {
  const seeds: FuzzSeed[] = [{ bytes: TINY, isText: true }, { bytes: bigramSeed(), isText: true }];
  return {
    format: "ARPA",
    seeds,
    needsFile: true,
    suffix: ".arpa",
    read: (_bytes, label) => loadArpa(label),
  };
}

/** ARPA text, gzip-compressed. */
export function arpaGzipTarget(): FuzzTarget {
  const seeds: FuzzSeed[] = [
    { bytes: TINY, isText: true, encode: gzip },
    { bytes: bigramSeed(), isText: true, encode: gzip },
    { bytes: gzip(TINY) },
  ];
  return {
    format: "ARPA gzip",
    seeds,
    needsFile: true,
    suffix: ".arpa.gz",
    read: (_bytes, label) => loadArpa(label),
  };
}
