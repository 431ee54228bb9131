/**
 * Fuzz targets: dataset manifests through the readers of data/pipeline/manifest.ts as they
 * are (`parseCsvManifest`, `parseJsonlManifest`), seeded with OpenSeq2Seq CSV (quoted fields,
 * embedded commas and newlines, sizes) and NeMo JSON lines (durations, relative paths).
 */
import { parseCsvManifest, parseJsonlManifest } from "../../data/pipeline/manifest.ts";
import type { FuzzTarget } from "./mutate.ts";

const CSV = [
  "wav_filename,wav_filesize,transcript",
  "a.wav,44,hello world",
  '/abs/b.wav,1024,"with, a comma"',
  'c.wav,,"a ""quoted"" word"',
  'sub/d.wav,12,"two',
  'lines"',
  "",
].join("\n");

const JSONL = [
  '{"audio_filepath": "a.wav", "duration": 1.5, "text": "hello world"}',
  '{"audio_filepath": "/abs/b.flac", "duration": 0, "text": ""}',
  "",
  '{"audio_filepath": "sub/c.wav", "text": "no duration \\u00e9"}',
  "",
].join("\n");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** OpenSeq2Seq CSV manifests. */
export function csvManifestTarget(): FuzzTarget {
  return {
    format: "CSV manifest",
    seeds: [{ bytes: encoder.encode(CSV), isText: true }],
    suffix: ".csv",
    read: (b, label) => parseCsvManifest(decoder.decode(b), label),
  };
}

/** NeMo JSON-lines manifests. */
export function jsonlManifestTarget(): FuzzTarget {
  return {
    format: "JSONL manifest",
    seeds: [{ bytes: encoder.encode(JSONL), isText: true }],
    suffix: ".jsonl",
    read: (b, label) => parseJsonlManifest(decoder.decode(b), label),
  };
}
