import assert from "node:assert/strict";
import { loadArpa } from "../../decode/arpa.ts";
import {
  convertArpaToBinary,
  loadLanguageModel,
  readLmBinary,
  writeLmBinary,
} from "../../decode/lm_binary.ts";
import { HEADER, lmChecksum } from "../../decode/ngram_lm.ts";

const fixtures = new URL("../fixtures/lm/", import.meta.url);
const irstlmPath = new URL("irstlm_3gram.arpa.gz", fixtures).pathname;
const sentences = ["it is a truth universally acknowledged", "she said nothing to the zebra", ""];

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an ARPA file converted to binary loads back with identical scores and size", async () => {
  await withTempDir(async (dir) => {
    const bin = `${dir}/lm.bin`;
    const fromArpa = await convertArpaToBinary(irstlmPath, bin);
    assert.equal((await Deno.stat(bin)).size, fromArpa.nBytes);
    const fromBin = await readLmBinary(bin);
    assert.ok(fromBin.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(fromBin.nGramCounts, fromArpa.nGramCounts);
    assert.deepEqual(fromBin.vocabulary, fromArpa.vocabulary);
    for (const s of sentences) {
      assert.equal(fromBin.scoreSentence(s.split(" ")), fromArpa.scoreSentence(s.split(" ")));
    }
  });
});

Deno.test("loadLanguageModel() sniffs the binary, gzip ARPA and plain ARPA", async () => {
  await withTempDir(async (dir) => {
    const ref = await loadArpa(irstlmPath);
    await writeLmBinary(ref, `${dir}/lm.bin`);
    const plain = `${dir}/lm.arpa`;
    await Deno.writeFile(
      plain,
      (await Deno.open(irstlmPath)).readable.pipeThrough(new DecompressionStream("gzip")),
    );
    for (const path of [`${dir}/lm.bin`, irstlmPath, plain]) {
      const lm = await loadLanguageModel(path);
      assert.equal(
        lm.scoreSentence(sentences[0].split(" ")),
        ref.scoreSentence(sentences[0].split(" ")),
        path,
      );
    }
  });
});

Deno.test("a truncated LM binary is rejected with the file name", async () => {
  await withTempDir(async (dir) => {
    const bytes = new Uint8Array((await loadArpa(irstlmPath)).buffer);
    await Deno.writeFile(`${dir}/cut.bin`, bytes.slice(0, bytes.length - 100));
    await assert.rejects(
      readLmBinary(`${dir}/cut.bin`),
      /cut\.bin: truncated LM binary: \d+ bytes, header says \d+/,
    );
    await Deno.writeFile(`${dir}/tiny.bin`, bytes.slice(0, 20));
    await assert.rejects(readLmBinary(`${dir}/tiny.bin`), /tiny\.bin: 20 bytes is too short/);
  });
});

Deno.test("a foreign file is rejected by readLmBinary() and falls back to ARPA in loadLanguageModel()", async () => {
  await withTempDir(async (dir) => {
    const png = new Uint8Array(256);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await Deno.writeFile(`${dir}/x.png`, png);
    await assert.rejects(readLmBinary(`${dir}/x.png`), /x\.png: not a deno-ctc LM binary/);
    await assert.rejects(loadLanguageModel(`${dir}/x.png`), /x\.png:\d+: no \\data\\ header/);
  });
});

Deno.test("a corrupted byte fails the checksum, and a newer layout version is refused", async () => {
  await withTempDir(async (dir) => {
    const bytes = new Uint8Array((await loadArpa(irstlmPath)).buffer).slice();
    const flipped = bytes.slice();
    flipped[flipped.length >> 1] ^= 0x40;
    await Deno.writeFile(`${dir}/bad.bin`, flipped);
    await assert.rejects(readLmBinary(`${dir}/bad.bin`), /bad\.bin: LM binary checksum mismatch/);
    // Skipping the check is allowed (trusted files); the header is still validated.
    await readLmBinary(`${dir}/bad.bin`, { verifyChecksum: false });
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, 99, true);
    await Deno.writeFile(`${dir}/v99.bin`, newer);
    await assert.rejects(readLmBinary(`${dir}/v99.bin`), /v99\.bin: LM binary layout version 99/);
  });
});

Deno.test("a binary whose checksum matches but whose layout is corrupt is refused with the file name", async () => {
  // Found by tests/fuzz (LM binary, checksum re-stamped): offsets and counts went straight into
  // typed-array views, so a wrong one surfaced as an engine RangeError naming no file.
  await withTempDir(async (dir) => {
    const lm = await loadArpa(new URL("tiny.arpa", fixtures).pathname);
    const cases: [string, number, number, RegExp][] = [
      ["order", HEADER.order, 200, /order 200 \(expected 1\.\.64\)/],
      [
        "count",
        HEADER.fixedWords + HEADER.perOrder,
        1802401084,
        /1-gram child ranges span 0\.\.\d+, expected 0\.\.1802401084/,
      ],
      ["offset", HEADER.fixedWords + 2, 127, /1-gram probabilities at byte 127 .* misaligned/],
      ["children", HEADER.fixedWords + 4, 0, /1-gram children at byte 0/],
      ["special", HEADER.unkId, 1000, /special word id 1000 outside the \d+ words/],
    ];
    for (const [what, slot, value, message] of cases) {
      const bytes = new Uint8Array(lm.buffer).slice();
      const u32 = new Uint32Array(bytes.buffer);
      u32[slot] = value;
      u32[HEADER.checksum] = lmChecksum(bytes.buffer, bytes.length);
      const path = `${dir}/${what}.bin`;
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        readLmBinary(path),
        (e: Error) =>
          e.message.startsWith(`${path}: corrupt LM binary layout:`) && message.test(e.message) ||
          assert.fail(`${what}: ${e.message}`),
      );
    }
  });
});

Deno.test("child ranges that point past the next order are refused before any lookup", async () => {
  await withTempDir(async (dir) => {
    const lm = await loadArpa(new URL("tiny.arpa", fixtures).pathname);
    const bytes = new Uint8Array(lm.buffer).slice();
    const u32 = new Uint32Array(bytes.buffer);
    const childrenOff = u32[HEADER.fixedWords + 4]; // unigram children
    const nUnigrams = u32[HEADER.fixedWords];
    u32[(childrenOff >>> 2) + nUnigrams] = 1000; // the sentinel: the last range ends at 1000
    u32[HEADER.checksum] = lmChecksum(bytes.buffer, bytes.length);
    await Deno.writeFile(`${dir}/children.bin`, bytes);
    await assert.rejects(
      readLmBinary(`${dir}/children.bin`),
      /children\.bin: .*1-gram child ranges span 0\.\.1000/,
    );
  });
});
