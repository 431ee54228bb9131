/**
 * Tests clean up after themselves: every test file that makes a temp folder with Deno's own
 * calls also removes it (or uses makeTestTempDir, which removes its folders at unload), and
 * makeTestTempDir's folders are gone once a test module has run.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { makeTestTempDir } from "./temp_dir.ts";

const testsDir = fileURLToPath(new URL("./", import.meta.url));

function* testFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "fixtures") yield* testFiles(path);
    else if (e.isFile && e.name.endsWith("_test.ts")) yield path;
  }
}

Deno.test("every test file that makes a temp folder with Deno.makeTempDir also removes it", () => {
  const leaky: string[] = [];
  for (const path of testFiles(testsDir)) {
    const text = Deno.readTextFileSync(path);
    const makes = /Deno\.makeTemp(Dir|File)(Sync)?\(/.test(text);
    const removes = /Deno\.remove(Sync)?\(/.test(text);
    if (makes && !removes) leaky.push(path.slice(testsDir.length));
  }
  assert.deepEqual(
    leaky,
    [],
    `use makeTestTempDir (tests/temp_dir.ts) or remove the folder in: ${leaky.join(", ")}`,
  );
});

Deno.test("makeTestTempDir() folders are removed when the test module unloads", async () => {
  const dir = makeTestTempDir("temp_dir_test_");
  const probe = `${dir}/probe_test.ts`;
  const record = `${dir}/made.txt`;
  const helper = new URL("./temp_dir.ts", import.meta.url).href;
  await Deno.writeTextFile(
    probe,
    `import { makeTestTempDir } from "${helper}";\n` +
      `Deno.test("probe", () => { Deno.writeTextFileSync(${
        JSON.stringify(record)
      }, makeTestTempDir("probe_")); });\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", probe],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const made = await Deno.readTextFile(record);
  assert.ok(made.length > 0);
  assert.throws(() => Deno.statSync(made), Deno.errors.NotFound, `${made} is still there`);
});
