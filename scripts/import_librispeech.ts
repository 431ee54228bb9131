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
import { parseArgs } from "node:util";
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

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      wav: { type: "boolean", default: false },
      subsets: { type: "string" },
      download: { type: "boolean", default: false },
      "download-dir": { type: "string" },
      mirror: { type: "string", default: OPENSLR_LIBRISPEECH },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || values.out === undefined || (positionals.length === 0 && !values.download)) {
    console.log(
      "usage: deno task import-librispeech --out DIR [--wav] [--subsets a,b] (--download | INPUT...)",
    );
    return values.help ? 0 : 2;
  }
  const subsets = values.subsets?.split(",").map((s) => s.trim());
  for (const s of subsets ?? []) {
    if (!LIBRISPEECH_SUBSETS.includes(s)) {
      console.error(`import_librispeech: unknown subset "${s}"; known: ${LIBRISPEECH_SUBSETS.join(", ")}`);
      return 2;
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
      console.error(`import_librispeech: ${md5Url}: HTTP ${res.status}`);
      return 1;
    }
    const md5s = parseMd5List(await res.text());
    for (const s of subsets ?? LIBRISPEECH_SUBSETS) {
      const dest = join(dir, `${s}.tar.gz`);
      const md5 = md5s.get(`${s}.tar.gz`);
      if (md5 === undefined) {
        console.error(`import_librispeech: ${md5Url} lists no checksum for ${s}.tar.gz`);
        return 1;
      }
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
  return 0;
}

if (import.meta.main) Deno.exit(await main());
