import assert from "node:assert/strict";
import { loadArpa } from "../../decode/arpa.ts";
import {
  convertArpaToBinary,
  loadLanguageModel,
  readLmBinary,
  writeLmBinary,
} from "../../decode/lm_binary.ts";

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
