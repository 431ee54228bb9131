/**
 * A streaming reader for POSIX ustar / GNU tar archives, optionally gzip-compressed, built on
 * DecompressionStream("gzip"), so a multi-gigabyte LibriSpeech tarball is walked in one pass
 * without extracting it or holding it in memory. Each regular file's bytes are handed out one
 * entry at a time; an entry must be consumed (or skipped) before the next is read.
 *
 * Handles: ustar `prefix` names, GNU long names (`L` entries), pax `path`/`size` records
 * (`x` entries), header checksums. Does not write archives and ignores permissions, owners,
 * links and sparse files (links and other non-regular entries are reported with their type).
 */

/** One archive member. */
export interface TarEntry {
  /** Path inside the archive. */
  name: string;
  /** Size in bytes (0 for folders). */
  size: number;
  /** "file", "directory", or "other" (links, devices, ...). */
  type: "file" | "directory" | "other";
  /** Reads the member's bytes; call at most once, before advancing the iterator. */
  bytes(): Promise<Uint8Array>;
}

/** Pulls exact byte counts from a byte stream. */
class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #have = 0;
  #done = false;
  #name: string;
  offset = 0;

  constructor(stream: ReadableStream<Uint8Array>, name: string) {
    this.#reader = stream.getReader();
    this.#name = name;
  }

  async #fill(n: number): Promise<void> {
    while (this.#have < n && !this.#done) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
      } catch (e) {
        throw new Error(
          `${this.#name}: cannot read past byte ${this.offset + this.#have} (${(e as Error).message})`,
        );
      }
      const { value, done } = result;
      if (done) this.#done = true;
      else if (value.length > 0) {
        this.#chunks.push(value);
        this.#have += value.length;
      }
    }
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    await this.#fill(n);
    const take = Math.min(n, this.#have);
    const out = new Uint8Array(take);
    let got = 0;
    while (got < take) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, take - got);
      out.set(c.subarray(0, k), got);
      got += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#have -= take;
    this.offset += take;
    return out;
  }

  /** Skips n bytes without keeping them. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      await this.#fill(Math.min(left, 1 << 20));
      if (this.#have === 0) break;
      const c = this.#chunks[0];
      const k = Math.min(c.length, left);
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
      this.#have -= k;
      left -= k;
      this.offset += k;
    }
    return n - left;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

const decoder = new TextDecoder();

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return decoder.decode(end < 0 ? b : b.subarray(0, end));
}

function octal(b: Uint8Array, what: string, name: string, off: number): number {
  // GNU base-256 for sizes of 8 GiB and up: high bit of the first byte set.
  if (b[0] & 0x80) {
    let v = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cString(b).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`${name}: bad octal ${what} "${s}" in tar header at byte ${off}`);
  return parseInt(s, 8);
}

function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const bytes = new TextEncoder().encode(text);
  let i = 0;
  while (i < bytes.length) {
    let sp = i;
    while (sp < bytes.length && bytes[sp] !== 0x20) sp++;
    const len = parseInt(decoder.decode(bytes.subarray(i, sp)), 10);
    if (!(len > 0)) break;
    const rec = decoder.decode(bytes.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Pipes a byte stream through DecompressionStream("gzip"). */
export function gunzip(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  // DecompressionStream is typed over BufferSource; it reads and writes Uint8Array chunks.
  return stream.pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Iterates the members of a tar stream. `name` is used in error messages.
 *
 * @example
 * ```ts
 * const file = await Deno.open("dev-clean.tar.gz");
 * const stream = gunzip(file.readable);
 * for await (const e of readTar(stream, "dev-clean.tar.gz")) {
 *   if (e.name.endsWith(".trans.txt")) console.log(new TextDecoder().decode(await e.bytes()));
 * }
 * ```
 */
export async function* readTar(stream: ReadableStream<Uint8Array>, name: string): AsyncGenerator<TarEntry> {
  const r = new ByteReader(stream, name);
  let longName: string | null = null;
  let pax: Record<string, string> = {};
  try {
    while (true) {
      const off = r.offset;
      const h = await r.read(512);
      if (h.length === 0) return; // archives cut right after a member (no end blocks) are common
      if (h.length < 512) throw new Error(`${name}: truncated tar header at byte ${off}`);
      if (h.every((x) => x === 0)) return; // end-of-archive block
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
      const stored = octal(h.subarray(148, 156), "checksum", name, off);
      if (stored !== sum) {
        throw new Error(
          `${name}: tar header checksum mismatch at byte ${off} (stored ${stored}, computed ${sum})`,
        );
      }
      let size = octal(h.subarray(124, 136), "size", name, off);
      const flag = String.fromCharCode(h[156] || 0x30);
      const magic = decoder.decode(h.subarray(257, 262));
      let path = cString(h.subarray(0, 100));
      if (magic === "ustar") {
        const prefix = cString(h.subarray(345, 500));
        if (prefix !== "") path = `${prefix}/${path}`;
      }
      const padded = Math.ceil(size / 512) * 512;
      if (flag === "L" || flag === "x" || flag === "g") {
        const body = await r.read(padded);
        if (body.length < padded) throw new Error(`${name}: truncated tar ${flag} record at byte ${off}`);
        if (flag === "L") longName = cString(body.subarray(0, size));
        else if (flag === "x") pax = parsePax(decoder.decode(body.subarray(0, size)));
        continue;
      }
      if (longName !== null) path = longName;
      if (pax.path !== undefined) path = pax.path;
      if (pax.size !== undefined) size = Number(pax.size);
      longName = null;
      pax = {};
      const type = flag === "0" || flag === "7" ? "file" : flag === "5" ? "directory" : "other";
      const dataPadded = Math.ceil(size / 512) * 512;
      let consumed = false;
      const entry: TarEntry = {
        name: path,
        size,
        type,
        bytes: async () => {
          if (consumed) throw new Error(`${name}: bytes() of "${path}" called twice or after advancing`);
          consumed = true;
          const data = await r.read(size);
          if (data.length < size) {
            throw new Error(`${name}: truncated tar member "${path}" at byte ${r.offset}`);
          }
          await r.skip(dataPadded - size);
          return data;
        },
      };
      yield entry;
      if (!consumed) {
        consumed = true;
        const skipped = await r.skip(dataPadded);
        if (skipped < size) throw new Error(`${name}: truncated tar member "${path}" at byte ${r.offset}`);
      }
    }
  } finally {
    await r.cancel();
  }
}

/**
 * Opens a `.tar` or `.tar.gz` file (gzip detected from the magic number) and iterates its members.
 *
 * @example
 * ```ts
 * for await (const e of readTarFile("LibriSpeech.tar.gz")) console.log(e.name, e.size);
 * ```
 */
export async function* readTarFile(path: string): AsyncGenerator<TarEntry> {
  const head = new Uint8Array(2);
  {
    using f = Deno.openSync(path, { read: true });
    f.readSync(head);
  }
  const file = await Deno.open(path, { read: true });
  let stream: ReadableStream<Uint8Array> = file.readable;
  if (isGzip(head)) stream = gunzip(stream);
  yield* readTar(stream, path);
}
