/**
 * Imports LibriSpeech into OpenSeq2Seq CSV manifests (librivox-<subset>.csv), see data/librispeech.ts.
 *
 *   deno task import-librispeech --out work/ls path/to/dev-clean.tar.gz path/to/test-clean.tar.gz
 *   deno task import-librispeech --out work/ls path/to/folder-holding-LibriSpeech --wav
 *   deno task import-librispeech --out work/ls --download --subsets dev-clean,test-clean
 *
 * Options: --out DIR (required), --wav (convert FLAC to 16-bit WAV), --subsets a,b (filter, and
 * what --download fetches), --download (fetch <subset>.tar.gz from OpenSLR into --download-dir,
 * default --out, resuming partial files and checking OpenSLR's md5sum.txt), --mirror URL (a
 * server with OpenSLR's resources/12 layout, e.g. https://openslr.elda.org/resources/12; the
 * task's --allow-net must then name its host).
 */
import { runCommand, UsageError } from "../cli/args.ts";
import { join } from "node:path";
import { downloadFile, parseMd5List } from "../data/corpora/download.ts";
import {
  importLibriSpeechFolder,
  importLibriSpeechTarballs,
  LIBRISPEECH_SUBSETS,
  type LibriSpeechImportResult,
  librispeechUrl,
  OPENSLR_LIBRISPEECH,
} from "../data/corpora/librispeech.ts";

const command = {
  name: "deno task import-librispeech",
  summary: "Import LibriSpeech tarballs or folders into OpenSeq2Seq CSV manifests (librivox-<subset>.csv).",
  flags: {
    out: { type: "string", valueName: "DIR", help: "output folder (required)" },
    wav: { type: "boolean", help: "convert FLAC to 16-bit WAV" },
    subsets: {
      type: "string",
      valueName: "a,b",
      help: `subsets to keep and to download (${LIBRISPEECH_SUBSETS.join(", ")})`,
    },
    download: { type: "boolean", help: "fetch <subset>.tar.gz from OpenSLR, checking md5sum.txt" },
    "download-dir": { type: "string", valueName: "DIR", help: "where downloads go (default --out)" },
    mirror: {
      type: "string",
      default: OPENSLR_LIBRISPEECH,
      valueName: "URL",
      help: "server with OpenSLR's resources/12 layout",
    },
  },
  positionals: { name: "INPUT", min: 0 },
} as const;

await runCommand(command, async ({ values, positionals }) => {
  if (values.out === undefined) throw new UsageError("--out is required");
  if (positionals.length === 0 && !values.download) {
    throw new UsageError("give INPUT tarballs or folders, or --download");
  }
  const subsets = values.subsets?.split(",").map((s) => s.trim());
  for (const s of subsets ?? []) {
    if (!LIBRISPEECH_SUBSETS.includes(s)) {
      throw new UsageError(`--subsets: unknown subset "${s}"; known: ${LIBRISPEECH_SUBSETS.join(", ")}`);
    }
  }
  const inputs = [...positionals];
  if (values.download) {
    const dir = values["download-dir"] ?? values.out;
    Deno.mkdirSync(dir, { recursive: true });
    const md5Url = `${values.mirror.replace(/\/+$/, "")}/md5sum.txt`;
    const res = await fetch(md5Url);
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${md5Url}: HTTP ${res.status}`);
    }
    const md5s = parseMd5List(await res.text());
    for (const s of subsets ?? LIBRISPEECH_SUBSETS) {
      const dest = join(dir, `${s}.tar.gz`);
      const md5 = md5s.get(`${s}.tar.gz`);
      if (md5 === undefined) throw new Error(`${md5Url} lists no checksum for ${s}.tar.gz`);
      const url = librispeechUrl(s, values.mirror);
      console.error(`import_librispeech: downloading ${url}`);
      let last = 0;
      await downloadFile(url, dest, {
        md5,
        onProgress: (n, total) => {
          if (n - last >= 100e6) {
            last = n;
            console.error(`  ${(n / 1e6).toFixed(0)} MB${total ? ` of ${(total / 1e6).toFixed(0)} MB` : ""}`);
          }
        },
      });
      inputs.push(dest);
    }
  }
  const options = { outDir: values.out, toWav: values.wav, subsets };
  const tarballs = inputs.filter((p) => /\.tar(\.gz)?$|\.tgz$/.test(p));
  const folders = inputs.filter((p) => !tarballs.includes(p));
  const results: LibriSpeechImportResult[] = [];
  if (tarballs.length > 0) results.push(await importLibriSpeechTarballs(tarballs, options));
  for (const f of folders) results.push(importLibriSpeechFolder(f, options));
  for (const r of results) {
    for (const [subset, { manifestPath, entries }] of r) {
      console.log(`import_librispeech: ${subset}: ${entries.length} utterances -> ${manifestPath}`);
    }
  }
});
