import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { gunzip, readTar, readTarFile, type TarEntry } from "../../../data/corpora/tar.ts";

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const LONG = "src/" + "a".repeat(50) + "/" + "b".repeat(50) + "/" + "c".repeat(30) +
  "/file_with_a_long_name.txt";

async function listing(entries: AsyncIterable<TarEntry>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of entries) {
    if (e.type !== "file") continue;
    // Read only some members, to check that unread ones are skipped correctly.
    out.set(
      e.name,
      e.name.endsWith("block.txt") ? `skipped ${e.size}` : new TextDecoder().decode(await e.bytes()),
    );
  }
  return out;
}

for (const name of ["tar/gnu_long.tar.gz", "tar/pax_long.tar"]) {
  Deno.test(`readTarFile() lists ${name} with long names, empty and exact-block members`, async () => {
    const files = await listing(readTarFile(fixture(name)));
    assert.deepEqual([...files.keys()].sort(), [LONG, "src/block.txt", "src/empty.txt"].sort());
    assert.equal(files.get(LONG), "long name body\n");
    assert.equal(files.get("src/empty.txt"), "");
    assert.equal(files.get("src/block.txt"), "skipped 512");
  });
}

Deno.test("readTarFile() reads every member of the LibriSpeech fixture tarball byte-exactly", async () => {
  let n = 0;
  for await (const e of readTarFile(fixture("librispeech/LibriSpeech.tar.gz"))) {
    if (e.type !== "file") continue;
    const bytes = await e.bytes();
    const onDisk = Deno.readFileSync(fixture(`librispeech/${e.name}`));
    assert.deepEqual(bytes, onDisk, e.name);
    n++;
  }
  assert.equal(n, 7);
});

Deno.test("readTar() names the archive on a corrupt header checksum and on truncation", async () => {
  const raw = Deno.readFileSync(fixture("tar/pax_long.tar"));
  const bad = raw.slice();
  bad[0] ^= 0xff;
  await assert.rejects(
    () => listing(readTar(ReadableStream.from([bad]), "bad.tar")),
    /bad\.tar: tar header checksum mismatch at byte 0/,
  );
  // Cut mid-record: every cut point inside the archive's members must be reported, never ignored.
  for (const cutAt of [700, 1100, 2600, 3300]) {
    await assert.rejects(
      () => listing(readTar(ReadableStream.from([raw.slice(0, cutAt)]), "cut.tar")),
      /cut\.tar: truncated tar/,
      `cut at ${cutAt}`,
    );
  }
  const gz = Deno.readFileSync(fixture("tar/gnu_long.tar.gz"));
  const truncated = gunzip(ReadableStream.from([gz.slice(0, gz.length - 40)]));
  await assert.rejects(() => listing(readTar(truncated, "cut.tar.gz")), /cut\.tar\.gz: /);
});
