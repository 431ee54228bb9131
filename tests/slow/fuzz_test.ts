/**
 * The full fuzz run: 2,000 seeded mutants per format (WAV, FLAC, ARPA plain and gzip, LM
 * binary, safetensors checkpoints and plain safetensors, CSV and JSONL manifests, config
 * overrides, vocabularies): more than the 1,000 asked for, because on the code before the
 * fixes the gzip ARPA count finding first showed at input 1342. Zero findings allowed: every
 * input is read, or refused with the toolkit's own error naming the input, in under 1 s.
 * RELIABILITY.md records the figures.
 */
import assert from "node:assert/strict";
import { formatReport, runFuzz } from "../fuzz/mutate.ts";
import { allTargets } from "../fuzz/targets.ts";

for (const target of await allTargets()) {
  Deno.test(`2,000 mutated ${target.format} inputs: no crash, no hang, every error names the input`, async () => {
    const report = await runFuzz(target, { count: 2000, seed: 1 });
    console.log(formatReport(report));
    assert.equal(report.nInputs, 2000);
    assert.deepEqual(report.findings, []);
    assert.ok(report.slowestMs < 1000, `slowest input took ${report.slowestMs} ms`);
  });
}
