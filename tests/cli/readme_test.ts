/**
 * The README's commands can be pasted into a fresh clone: each runs through `./deno` (not a
 * bare `deno`), names a task deno.json defines, and every repository file it or a link names
 * exists (outputs under work/ are made by the commands before them). The commands themselves
 * are run by hand; the cheap ones are covered by tests/cli/scripts_cli_test.ts.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const readme = Deno.readTextFileSync(`${root}/README.md`);
const tasks = Object.keys(JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).tasks);

/** Lines of the README's sh code blocks, comments removed. */
function shellLines(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].split("\n")) {
      const code = line.replace(/\s+#.*$/, "").trim();
      if (code !== "") out.push(code);
    }
  }
  return out;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(`${root}/${path}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("every README command runs a deno.json task through ./deno", () => {
  const lines = shellLines(readme);
  assert.ok(lines.length >= 10, `${lines.length} commands found`);
  for (const line of lines) {
    for (const command of line.split("&&").map((c) => c.trim())) {
      if (command.startsWith("bash ")) {
        assert.ok(exists(command.split(/\s+/)[1]), command);
        continue;
      }
      const m = command.match(/^\.\/deno task ([\w:-]+)/);
      assert.ok(m, `not a ./deno task command: ${command}`);
      assert.ok(tasks.includes(m[1]), `README names task "${m[1]}", deno.json has ${tasks.join(", ")}`);
    }
  }
});

Deno.test("every repository file the README names exists, and it links nothing outside the repository", () => {
  for (const line of shellLines(readme)) {
    for (const word of line.split(/[\s=]+/)) {
      if (/^(models|data|scripts|docs|ops|decode|tests)\/[\w./-]+\.\w+$/.test(word)) {
        assert.ok(exists(word), `${word} (in: ${line})`);
      }
    }
  }
  for (const [, target] of readme.matchAll(/\]\(([^)#]+)\)/g)) {
    if (/^https?:/.test(target)) continue;
    assert.ok(!target.startsWith("../"), `link outside the repository: ${target}`);
    assert.ok(exists(target), `link to a missing file: ${target}`);
  }
  assert.doesNotMatch(readme, /\.\.\/shared/);
  assert.ok(exists("docs/DESIGN.md") && exists("LICENSE"));
});
