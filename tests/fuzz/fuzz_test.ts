/**
 * The default run's fuzz subset: 50 seeded mutants per format (tests/slow/fuzz_test.ts runs
 * 2,000). Each must be accepted or rejected with the toolkit's own error naming the file (or
 * the flag), within 1 s; the findings list says how to replay any that is not.
 */
import assert from "node:assert/strict";
import { formatReport, runFuzz } from "./mutate.ts";
import { allTargets } from "./targets.ts";

for (const target of await allTargets()) {
  Deno.test(`50 mutated ${target.format} inputs are each read or refused with an error naming the input`, async () => {
    const report = await runFuzz(target, { count: 50, seed: 7 });
    console.log(formatReport(report));
    assert.equal(report.nInputs, 50);
    assert.deepEqual(report.findings, []);
  });
}

Deno.test("the harness counts an engine error, an error naming no file and a slow input as findings", async () => {
  const seeds = [{ bytes: new Uint8Array(16) }];
  let i = 0;
  const report = await runFuzz({
    format: "probe",
    seeds,
    read(_bytes, label) {
      const k = i++ % 4;
      if (k === 0) return;
      if (k === 1) throw new Error(`${label}: refused`);
      if (k === 2) throw new Error("no file named here");
      new Int32Array(-1); // an engine RangeError
    },
  }, { count: 8, seed: 1 });
  assert.equal(report.nAccepted, 2);
  assert.equal(report.nRejected, 2);
  assert.equal(report.findings.length, 4);
  assert.match(report.findings[0], /probe seed 1 input 2 .*uncaught Error: no file named here/);
  assert.match(report.findings[1], /input 3 .*uncaught RangeError/);
  const slow = await runFuzz({
    format: "slow",
    seeds,
    read: () => new Promise((resolve) => setTimeout(resolve, 30)),
  }, { count: 1, seed: 1, limitMs: 10 });
  assert.match(slow.findings[0], /slow seed 1 input 0 .*took \d+ ms \(limit 10\)/);
});

Deno.test("mutants are reproducible from (seed, index) and differ between indices", async () => {
  const { mutant } = await import("./mutate.ts");
  const seeds = [{ bytes: new Uint8Array(64).map((_, i) => i), fields: [{ offset: 4, nBytes: 4 as const }] }];
  assert.deepEqual(mutant(seeds, 3, 11), mutant(seeds, 3, 11));
  const distinct = new Set(Array.from({ length: 20 }, (_, i) => mutant(seeds, 3, i).join(",")));
  assert.ok(distinct.size >= 18, `only ${distinct.size} distinct mutants of 20`);
});
