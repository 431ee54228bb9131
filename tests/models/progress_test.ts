import assert from "node:assert/strict";
import { formatDuration, formatProgress, ProgressBar } from "../../models/progress.ts";

Deno.test("formatProgress() shows the bar, the count, the percentage, the rate and the ETA", () => {
  assert.equal(
    formatProgress({ step: 50, total: 200, stepsThisRun: 50, elapsedS: 10, width: 8 }),
    "[##......]   50/200   25%  5.0 step/s  ETA 0:30",
  );
  assert.equal(
    formatProgress({ step: 200, total: 200, stepsThisRun: 200, elapsedS: 8, width: 4, loss: 1.234 }),
    "[####]  200/200  100%  loss 1.23  25 step/s  ETA 0:00",
  );
});

Deno.test("formatProgress() estimates the ETA from this run's steps only (a resumed run)", () => {
  // Resumed at step 900 of 1000: 10 steps in 20 s leave 90 steps, 180 s.
  const s = formatProgress({ step: 910, total: 1000, stepsThisRun: 10, elapsedS: 20 });
  assert.match(s, /ETA 3:00$/);
  assert.match(s, / 0\.5 step\/s/);
  // Before any step the ETA is unknown rather than zero or infinite.
  assert.match(formatProgress({ step: 0, total: 10, stepsThisRun: 0, elapsedS: 0 }), /ETA \?$/);
  assert.match(formatProgress({ step: 3, total: 10, stepsThisRun: 3, elapsedS: 1, loss: NaN }), /loss NaN/);
});

Deno.test("formatDuration() writes m:ss under an hour and h:mm:ss above", () => {
  assert.equal(formatDuration(5), "0:05");
  assert.equal(formatDuration(3599.4), "59:59");
  assert.equal(formatDuration(3 * 3600 + 62), "3:01:02");
  assert.equal(formatDuration(Infinity), "?");
});

Deno.test("ProgressBar redraws in place, clears before other output and ends its line once", () => {
  const out: string[] = [];
  let now = 1000;
  const bar = new ProgressBar(100, { startStep: 40, write: (s) => out.push(s), now: () => now, width: 10 });
  bar.clear(); // nothing drawn yet: nothing to erase
  assert.deepEqual(out, []);
  now += 4000;
  bar.update(60, { loss: 3.5 });
  assert.equal(out.length, 1);
  assert.equal(out[0], "\r[######....]   60/100   60%  loss 3.50  5.0 step/s  ETA 0:08\x1b[K");
  bar.clear();
  assert.equal(out[1], "\r\x1b[K");
  bar.update(61);
  bar.done();
  bar.done();
  assert.equal(out.at(-1), "\n");
  assert.equal(out.filter((s) => s === "\n").length, 1);
});
