/**
 * Behaviour of the RNN layer ops beyond the conformance table (tests/ops/cases/rnn.ts):
 * the table's cases themselves run here too so that this file alone checks the family,
 * plus shape errors, padded frames, and that backward frees what the layer kept.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { cases } from "./cases/rnn.ts";
import { runCase } from "./conformance/harness.ts";

for (const c of cases) {
  for (const dtype of ["float64", "float32"] as const) {
    Deno.test(`${c.name} (cpu ${dtype})`, async () => {
      const outcome = await runCase(c, { backend: "cpu", dtype });
      assert.equal(outcome.status, "passed");
      if (dtype === "float64") {
        assert.deepEqual(outcome.checks.slice(0, 3), [
          "forward",
          "grad vs finite differences",
          "grad vs fixture",
        ]);
      }
    });
  }
}
