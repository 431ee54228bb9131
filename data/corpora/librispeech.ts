/**
 * LibriSpeech import, after OpenSeq2Seq's scripts/import_librivox.py: from the OpenSLR tarballs
 * (read in one streaming pass, never fully extracted to a temporary tree) or from an extracted
 * `LibriSpeech/<subset>/<speaker>/<chapter>/{*.flac, <speaker>-<chapter>.trans.txt}` folder,
 * write one OpenSeq2Seq CSV per subset, `librivox-<subset>.csv`, with transcripts NFKD-folded to
 * ASCII and lower-cased. Audio stays FLAC (the toolkit decodes it) or, with `toWav`, is
 * converted to 16-bit WAV in `<outDir>/<subset>-wav/<id>.wav`, as OpenSeq2Seq's sox step did.
 * Manifest paths are absolute, as OpenSeq2Seq writes them; rows are sorted by utterance id.
 * Re-running skips WAV conversions already done (outputs are written to a temporary name first).
 *
 * Every FLAC must have a transcript line and every transcript line a FLAC; mismatches raise
 * an Error listing them. Not handled here: downloading (data/download.ts), LibriLight/MLS layouts.
 */
import { basename, dirname, join, resolve } from "node:path";
import { decodeAudio, readAudio } from "../audio/audio.ts";
import { type ManifestEntry, writeManifest } from "../pipeline/manifest.ts";
import { readTarFile } from "./tar.ts";
import { encodeWav } from "../audio/wav.ts";

/** The seven LibriSpeech subsets on OpenSLR resource 12. */
export const LIBRISPEECH_SUBSETS: readonly string[] = [
  "dev-clean",
  "dev-other",
  "test-clean",
  "test-other",
  "train-clean-100",
  "train-clean-360",
  "train-other-500",
];

/** OpenSLR resource 12, where the tarballs and their `md5sum.txt` live. */
export const OPENSLR_LIBRISPEECH = "https://www.openslr.org/resources/12";

/** URL of a subset's tarball on OpenSLR or on a mirror with the same layout. */
export function librispeechUrl(subset: string, mirror: string = OPENSLR_LIBRISPEECH): string {
  return `${mirror.replace(/\/+$/, "")}/${subset}.tar.gz`;
}

/** NFKD, drop non-ASCII, lower-case, trim: import_librivox.py's transcript normalisation. */
export function normalizeLibriSpeechTranscript(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase().trim();
}

/** Parses a `<speaker>-<chapter>.trans.txt`: `<utterance id> <TEXT>` lines. */
export function parseTransFile(text: string, path: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    if (line.trim() === "") continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`${path}:${i + 1}: expected "<utterance id> <transcript>"`);
    out.set(m[1], normalizeLibriSpeechTranscript(m[2]));
  }
  return out;
}

/** Options of the importers. */
export interface LibriSpeechImportOptions {
  /** Where manifests (and converted WAVs or extracted FLACs) go. */
  outDir: string;
  /** Convert FLAC to 16-bit WAV. Default false. */
  toWav?: boolean;
  /** Import only these subsets. Default: every subset found. */
  subsets?: readonly string[];
  /** Progress callback, once per utterance written. */
  onProgress?: (subset: string, nDone: number) => void;
}

/** What an import wrote: manifest path and rows per subset. */
export type LibriSpeechImportResult = Map<string, { manifestPath: string; entries: ManifestEntry[] }>;

interface Utterance {
  subset: string;
  id: string;
  audioPath: string;
}

/** Joins audio and transcripts per subset, checks both sides match, writes the manifests. */
function finish(
  utts: Utterance[],
  transcripts: Map<string, string>,
  transFiles: Map<string, string>,
  outDir: string,
): LibriSpeechImportResult {
  const bySubset = new Map<string, Utterance[]>();
  for (const u of utts) {
    if (!bySubset.has(u.subset)) bySubset.set(u.subset, []);
    bySubset.get(u.subset)!.push(u);
  }
  const missingText = utts.filter((u) => !transcripts.has(`${u.subset}/${u.id}`)).map((u) => u.audioPath);
  const haveAudio = new Set(utts.map((u) => `${u.subset}/${u.id}`));
  const missingAudio = [...transcripts.keys()].filter((k) => !haveAudio.has(k)).map((k) =>
    `${transFiles.get(k)}: ${k}`
  );
  if (missingText.length > 0 || missingAudio.length > 0) {
    const lines = [
      ...missingText.slice(0, 20).map((p) => `  no transcript for ${p}`),
      ...missingAudio.slice(0, 20).map((p) => `  no audio for ${p}`),
    ];
    throw new Error(
      `data/librispeech.ts: ${missingText.length} audio file(s) without transcript and ${missingAudio.length} ` +
        `transcript(s) without audio:\n${lines.join("\n")}`,
    );
  }
  const result: LibriSpeechImportResult = new Map();
  for (const [subset, list] of [...bySubset].sort((a, b) => a[0].localeCompare(b[0]))) {
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const entries = list.map((u) => ({
      audioPath: resolve(u.audioPath),
      transcript: transcripts.get(`${subset}/${u.id}`)!,
      nBytes: Deno.statSync(u.audioPath).size,
    }));
    const manifestPath = join(outDir, `librivox-${subset}.csv`);
    writeManifest(manifestPath, entries, { paths: "absolute" });
    result.set(subset, { manifestPath, entries });
  }
  return result;
}

/** Finds the folder holding the subset folders: `root`, `root/LibriSpeech`, or root's parent. */
function findLibriSpeechRoot(root: string): string {
  const isDir = (p: string): boolean => {
    try {
      return Deno.statSync(p).isDirectory;
    } catch {
      return false;
    }
  };
  if (isDir(join(root, "LibriSpeech"))) return join(root, "LibriSpeech");
  if (LIBRISPEECH_SUBSETS.includes(basename(resolve(root)))) return dirname(resolve(root));
  return root;
}

/**
 * Imports an extracted LibriSpeech tree (the folder holding `LibriSpeech/`, `LibriSpeech/`
 * itself, or one subset folder).
 *
 * @example
 * ```ts
 * const res = importLibriSpeechFolder("/data", { outDir: "/data/manifests" });
 * console.log(res.get("dev-clean")?.manifestPath); // /data/manifests/librivox-dev-clean.csv
 * ```
 */
export function importLibriSpeechFolder(
  root: string,
  options: LibriSpeechImportOptions,
): LibriSpeechImportResult {
  const base = findLibriSpeechRoot(root);
  const only = basename(resolve(root));
  const wanted = options.subsets ?? (LIBRISPEECH_SUBSETS.includes(only) ? [only] : null);
  Deno.mkdirSync(options.outDir, { recursive: true });
  const utts: Utterance[] = [];
  const transcripts = new Map<string, string>();
  const transFiles = new Map<string, string>();
  const sortedDir = (p: string): Deno.DirEntry[] =>
    [...Deno.readDirSync(p)].sort((a, b) => a.name.localeCompare(b.name));
  for (const s of sortedDir(base)) {
    if (!s.isDirectory || (wanted !== null && !wanted.includes(s.name))) continue;
    let nDone = 0;
    for (const spk of sortedDir(join(base, s.name))) {
      if (!spk.isDirectory) continue;
      for (const ch of sortedDir(join(base, s.name, spk.name))) {
        if (!ch.isDirectory) continue;
        const dir = join(base, s.name, spk.name, ch.name);
        for (const f of sortedDir(dir)) {
          const p = join(dir, f.name);
          if (f.name.endsWith(".trans.txt")) {
            for (const [id, text] of parseTransFile(Deno.readTextFileSync(p), p)) {
              transcripts.set(`${s.name}/${id}`, text);
              transFiles.set(`${s.name}/${id}`, p);
            }
          } else if (f.name.endsWith(".flac")) {
            const id = f.name.slice(0, -5);
            let audioPath = p;
            if (options.toWav) {
              audioPath = join(options.outDir, `${s.name}-wav`, `${id}.wav`);
              if (!exists(audioPath)) convertToWav(readAudio(p), audioPath);
            }
            utts.push({ subset: s.name, id, audioPath });
            options.onProgress?.(s.name, ++nDone);
          }
        }
      }
    }
  }
  if (utts.length === 0 && transcripts.size === 0) {
    throw new Error(`${root}: no LibriSpeech subset folders with FLAC files found`);
  }
  return finish(utts, transcripts, transFiles, options.outDir);
}

/** True when a finished output exists (outputs are renamed into place, so never partial). */
function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function convertToWav(audio: { samples: Float32Array; sampleRate: number }, path: string): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  Deno.writeFileSync(tmp, encodeWav(audio.samples, audio.sampleRate));
  Deno.renameSync(tmp, path);
}

/**
 * Imports one or more OpenSLR tarballs (`<subset>.tar.gz`, members under `LibriSpeech/`) in a
 * streaming pass: FLACs are written under `<outDir>/LibriSpeech/...` (or converted straight to
 * WAV with `toWav`), transcripts are read from the archive, manifests written as for a folder.
 *
 * @example
 * ```ts
 * await importLibriSpeechTarballs(["dev-clean.tar.gz"], { outDir: "/data/librispeech", toWav: true });
 * ```
 */
export async function importLibriSpeechTarballs(
  tarballs: readonly string[],
  options: LibriSpeechImportOptions,
): Promise<LibriSpeechImportResult> {
  Deno.mkdirSync(options.outDir, { recursive: true });
  const utts: Utterance[] = [];
  const transcripts = new Map<string, string>();
  const transFiles = new Map<string, string>();
  for (const tarball of tarballs) {
    const nDone = new Map<string, number>();
    for await (const e of readTarFile(tarball)) {
      if (e.type !== "file") continue;
      // LibriSpeech/<subset>/<speaker>/<chapter>/<file>
      const parts = e.name.replace(/^\.\//, "").split("/");
      if (parts.length !== 5 || parts[0] !== "LibriSpeech") continue; // README, LICENSE, SPEAKERS.TXT ...
      const subset = parts[1];
      if (options.subsets !== undefined && !options.subsets.includes(subset)) continue;
      const file = parts[4];
      if (file.endsWith(".trans.txt")) {
        const where = `${tarball}:${e.name}`;
        for (const [id, text] of parseTransFile(new TextDecoder().decode(await e.bytes()), where)) {
          transcripts.set(`${subset}/${id}`, text);
          transFiles.set(`${subset}/${id}`, where);
        }
      } else if (file.endsWith(".flac")) {
        const id = file.slice(0, -5);
        const bytes = await e.bytes();
        let audioPath: string;
        if (options.toWav) {
          audioPath = join(options.outDir, `${subset}-wav`, `${id}.wav`);
          if (!exists(audioPath)) convertToWav(decodeAudio(bytes, `${tarball}:${e.name}`), audioPath);
        } else {
          audioPath = join(options.outDir, ...parts);
          Deno.mkdirSync(dirname(audioPath), { recursive: true });
          Deno.writeFileSync(`${audioPath}.tmp`, bytes);
          Deno.renameSync(`${audioPath}.tmp`, audioPath);
        }
        utts.push({ subset, id, audioPath });
        const k = (nDone.get(subset) ?? 0) + 1;
        nDone.set(subset, k);
        options.onProgress?.(subset, k);
      }
    }
  }
  if (utts.length === 0 && transcripts.size === 0) {
    throw new Error(
      `${tarballs.join(", ")}: no LibriSpeech/<subset>/<speaker>/<chapter>/*.flac members found`,
    );
  }
  return finish(utts, transcripts, transFiles, options.outDir);
}
