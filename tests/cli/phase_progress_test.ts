import assert from "node:assert/strict";
import { phaseProgress } from "../../cli/phase_progress.ts";
import { diskUsage, formatBytes } from "../../cli/disk_usage.ts";
import { makeTestTempDir } from "../temp_dir.ts";

Deno.test("phaseProgress() prints at most one line per interval, with an ETA from the rate so far, and the last", () => {
  let t = 0;
  const lines: string[] = [];
  const onProgress = phaseProgress("[demo] synthesising", {
    everyS: 10,
    now: () => t,
    write: (l) => lines.push(l),
  });
  for (let done = 1; done <= 100; done++) {
    t = done * 500; // 2 a second
    onProgress(done, 100);
  }
  assert.equal(lines.length, 5, lines.join("\n"));
  assert.equal(lines[0], "[demo] synthesising: 20/100 (20%), 0:10 so far, ETA 0:40");
  assert.equal(lines.at(-1), "[demo] synthesising: 100/100 (100%), 0:50 so far");
});

Deno.test("diskUsage() sums the files under a folder and formatBytes() prints decimal units", () => {
  const dir = makeTestTempDir("phase_progress_test_");
  Deno.mkdirSync(`${dir}/a/b`, { recursive: true });
  Deno.writeFileSync(`${dir}/x`, new Uint8Array(1500));
  Deno.writeFileSync(`${dir}/a/b/y`, new Uint8Array(500));
  assert.deepEqual(diskUsage(dir), { nBytes: 2000, nFiles: 2 });
  assert.deepEqual(diskUsage(`${dir}/missing`), { nBytes: 0, nFiles: 0 });
  assert.deepEqual([999, 2000, 1.7e9, 312e6].map(formatBytes), ["999 B", "2.0 kB", "1.7 GB", "312 MB"]);
});
