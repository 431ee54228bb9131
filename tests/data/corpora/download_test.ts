import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { downloadFile, md5File, parseMd5List } from "../../../data/corpora/download.ts";
import { makeTestTempDir } from "../../temp_dir.ts";

const body = new Uint8Array(300_000);
for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
const md5 = createHash("md5").update(body).digest("hex");

/** A local server that honours Range (or ignores it when asked), counting requests. */
function serve(
  options: { honourRange: boolean },
): { url: string; ranges: (string | null)[]; close: () => Promise<void> } {
  const ranges: (string | null)[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const range = req.headers.get("range");
    ranges.push(range);
    const m = range && /bytes=(\d+)-/.exec(range);
    if (m && options.honourRange) {
      const from = Number(m[1]);
      if (from >= body.length) return new Response(null, { status: 416 });
      return new Response(body.slice(from), {
        status: 206,
        headers: { "content-range": `bytes ${from}-${body.length - 1}/${body.length}` },
      });
    }
    return new Response(body);
  });
  return { url: `http://127.0.0.1:${server.addr.port}/x.tar.gz`, ranges, close: () => server.shutdown() };
}

Deno.test("downloadFile() resumes a partial download with a Range request and verifies the MD5", async () => {
  const s = serve({ honourRange: true });
  try {
    const dest = join(makeTestTempDir("download_test_"), "x.tar.gz");
    Deno.writeFileSync(`${dest}.part`, body.subarray(0, 123_456));
    await downloadFile(s.url, dest, { md5 });
    assert.deepEqual(s.ranges, ["bytes=123456-"]);
    assert.deepEqual(Deno.readFileSync(dest), body);
    assert.equal(await md5File(dest), md5);
    await downloadFile(s.url, dest, { md5 }); // already there: no request
    assert.equal(s.ranges.length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("downloadFile() starts over when the server ignores Range, and rejects a wrong MD5", async () => {
  const s = serve({ honourRange: false });
  try {
    const dir = makeTestTempDir("download_test_");
    const dest = join(dir, "x.tar.gz");
    Deno.writeFileSync(`${dest}.part`, new Uint8Array(1000).fill(9));
    await downloadFile(s.url, dest, { md5 });
    assert.deepEqual(Deno.readFileSync(dest), body);
    const other = join(dir, "y.tar.gz");
    await assert.rejects(
      () => downloadFile(s.url, other, { md5: "0".repeat(32) }),
      /MD5 [0-9a-f]{32} does not match/,
    );
    assert.throws(() => Deno.statSync(`${other}.part`));
    assert.throws(() => Deno.statSync(other));
  } finally {
    await s.close();
  }
});

Deno.test("parseMd5List() reads md5sum output", () => {
  const m = parseMd5List(
    "42e2234ba48799c1f50f24a7926300a1  dev-clean.tar.gz\nnoise\nABCDEF0123456789abcdef0123456789 *sub/t.tar.gz\n",
  );
  assert.equal(m.get("dev-clean.tar.gz"), "42e2234ba48799c1f50f24a7926300a1");
  assert.equal(m.get("t.tar.gz"), "abcdef0123456789abcdef0123456789");
  assert.equal(m.size, 2);
});
