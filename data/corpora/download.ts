/**
 * HTTP download with resume and MD5 verification, for large public corpora (LibriSpeech from
 * OpenSLR). Bytes go to `<dest>.part`; an interrupted download continues from the part file's
 * size with an HTTP Range request (a server that ignores Range makes it start over), and the
 * finished file is renamed into place only after its MD5 matches.
 *
 * Not handled: mirrors or retries with back-off (the caller may simply call again: the part
 * file makes a retry cheap), authentication, checksums other than MD5.
 */
import { createHash } from "node:crypto";

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** Expected MD5 as 32 hex digits; verified when given. */
  md5?: string;
  /** Progress callback: bytes on disk so far and the total when known. */
  onProgress?: (nBytes: number, totalBytes: number | null) => void;
}

/**
 * MD5 of a file as lower-case hex, streamed.
 *
 * @example
 * ```ts
 * const sum = await md5File("dev-clean.tar.gz");
 * ```
 */
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/**
 * Parses an `md5sum` listing (`<hex>  <name>` lines) into name -> hex.
 *
 * @example
 * ```ts
 * parseMd5List("42e2234ba48799c1f50f24a7926300a1  dev-clean.tar.gz\n").get("dev-clean.tar.gz");
 * ```
 */
export function parseMd5List(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]{32})\s+\*?(\S.*?)\s*$/.exec(line.trim());
    if (m) out.set(m[2].split("/").pop()!, m[1].toLowerCase());
  }
  return out;
}

/**
 * Downloads `url` to `dest`, resuming `<dest>.part` if present, and verifies the MD5.
 * Does nothing when `dest` already exists and matches the MD5.
 *
 * @example
 * ```ts
 * await downloadFile("https://www.openslr.org/resources/12/dev-clean.tar.gz", "dev-clean.tar.gz",
 *   { md5: "42e2234ba48799c1f50f24a7926300a1" });
 * ```
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const want = options.md5?.toLowerCase();
  if (exists(dest)) {
    if (want === undefined || (await md5File(dest)) === want) return;
    throw new Error(`${dest}: exists but its MD5 is not ${want}; delete it to download again`);
  }
  const part = `${dest}.part`;
  let have = exists(part) ? Deno.statSync(part).size : 0;
  const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  if (res.status === 416) {
    // Range past the end: the part file is already complete (or longer than the resource).
    await res.body?.cancel();
  } else {
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
    }
    const append = res.status === 206 && have > 0;
    if (!append) have = 0;
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? length + have : null;
    using file = await Deno.open(part, { write: true, create: true, append, truncate: !append });
    let n = have;
    for await (const chunk of res.body) {
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      n += chunk.length;
      options.onProgress?.(n, total);
    }
    if (total !== null && n !== total) {
      throw new Error(`${url}: connection closed after ${n} of ${total} bytes`);
    }
  }
  if (want !== undefined) {
    const got = await md5File(part);
    if (got !== want) {
      Deno.removeSync(part);
      throw new Error(`${url}: MD5 ${got} does not match the expected ${want}; removed the download`);
    }
  }
  Deno.renameSync(part, dest);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
