/**
 * The toolkit's binary n-gram LM file: exactly the bytes of an `NGramLM`'s SharedArrayBuffer
 * (magic "DCTCNGLM", layout version, total size and checksum in the header; layout in
 * decode/ngram_lm.ts). Writing is one write; loading is one read straight into a
 * SharedArrayBuffer plus a checksum pass, with no parsing, so Workers can share it at once.
 * `loadLanguageModel()` accepts either this binary or ARPA (plain or gzip), sniffed by magic.
 *
 * A truncated, foreign, corrupted or newer-version file throws an Error naming the file.
 * It does not memory-map (Deno has no mmap) and does not convert between layout versions.
 *
 * @module
 */
import { loadArpa } from "./arpa.ts";
import { HEADER, LM_MAGIC, LM_VERSION, lmChecksum, NGramLM } from "./ngram_lm.ts";

/** Options of `readLmBinary`. */
export interface ReadLmBinaryOptions {
  /** Recompute the checksum over the whole file (one pass, ~1 ms per 2 MB); default true. */
  verifyChecksum?: boolean;
}

/**
 * Writes an LM as the toolkit's binary file.
 *
 * @example
 * ```ts
 * await writeLmBinary(await loadArpa("lm.arpa.gz"), "lm.bin");
 * ```
 */
export async function writeLmBinary(lm: NGramLM, path: string): Promise<void> {
  await Deno.writeFile(path, new Uint8Array(lm.buffer));
}

function isLmMagic(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  return dv.getUint32(0, true) === LM_MAGIC[0] && dv.getUint32(4, true) === LM_MAGIC[1];
}

/**
 * Loads the toolkit's binary LM file with one read into a SharedArrayBuffer.
 *
 * @example
 * ```ts
 * const lm = await readLmBinary("work/gutenberg_3gram.bin");
 * worker.postMessage(lm.buffer); // the Worker calls NGramLM.fromShared(buffer)
 * ```
 */
export async function readLmBinary(path: string, options: ReadLmBinaryOptions = {}): Promise<NGramLM> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const fixedBytes = HEADER.fixedWords * 4;
  if (size < fixedBytes) {
    throw new Error(
      `${path}: ${size} bytes is too short for a deno-ctc LM binary (header alone is ${fixedBytes})`,
    );
  }
  const sab = new SharedArrayBuffer(size);
  const bytes = new Uint8Array(sab);
  let got = 0;
  while (got < size) {
    const n = await file.read(bytes.subarray(got));
    if (n === null) break;
    got += n;
  }
  if (got < size) throw new Error(`${path}: read ${got} of ${size} bytes (file shrank while reading?)`);
  const head = new Uint32Array(sab, 0, HEADER.fixedWords);
  if (!isLmMagic(bytes.subarray(0, 8))) {
    throw new Error(
      `${path}: not a deno-ctc LM binary (no "DCTCNGLM" magic); ARPA files go through loadArpa()`,
    );
  }
  if (head[HEADER.version] !== LM_VERSION) {
    throw new Error(
      `${path}: LM binary layout version ${
        head[HEADER.version]
      }, this toolkit reads version ${LM_VERSION}; ` +
        `rebuild it from the ARPA file`,
    );
  }
  const total = head[HEADER.totalBytes];
  if (size < total) throw new Error(`${path}: truncated LM binary: ${size} bytes, header says ${total}`);
  if (size > total) {
    throw new Error(`${path}: LM binary has ${size - total} trailing bytes beyond its ${total}`);
  }
  if (options.verifyChecksum ?? true) {
    const sum = lmChecksum(sab, total);
    if (sum !== head[HEADER.checksum]) {
      throw new Error(
        `${path}: LM binary checksum mismatch (stored ${head[HEADER.checksum].toString(16)}, ` +
          `computed ${sum.toString(16)}): the file is corrupted`,
      );
    }
  }
  return NGramLM.fromShared(sab, path);
}

/**
 * Converts an ARPA file (plain or gzip) to the binary format once; returns the loaded LM.
 *
 * @example
 * ```ts
 * await convertArpaToBinary("lm.arpa.gz", "lm.bin");
 * ```
 */
export async function convertArpaToBinary(arpaPath: string, binaryPath: string): Promise<NGramLM> {
  const lm = await loadArpa(arpaPath);
  await writeLmBinary(lm, binaryPath);
  return lm;
}

/**
 * Loads an n-gram LM from the toolkit's binary (sniffed by its magic) or from ARPA (.arpa or
 * gzip-compressed, sniffed by the gzip magic).
 *
 * @example
 * ```ts
 * const lm = await loadLanguageModel("lm.arpa.gz"); // or "lm.bin"
 * lm.scoreSentence(["hello", "world"]);
 * ```
 */
export async function loadLanguageModel(path: string): Promise<NGramLM> {
  const head = new Uint8Array(8);
  {
    using file = await Deno.open(path, { read: true });
    let got = 0;
    while (got < 8) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
    if (got < 8) return await loadArpa(path); // too short for the binary: let the ARPA reader explain
  }
  return isLmMagic(head) ? await readLmBinary(path) : await loadArpa(path);
}
