/**
 * Every conformance case (tests/ops/cases/) on the cuda backend's kernels without a GPU: the
 * backend runs on the host emulation of the driver and cuBLAS in tests/ops/cuda/emulator/, with
 * each kernel's generated CUDA C compiled as host C++ (see emulator.ts for what that checks and
 * what it cannot). Results and gradients are compared with the cpu backend by the conformance
 * harness, including its leak check of the caching allocator; convolutions go through the
 * backend's cuDNN glue (padding, bias, algorithm cache) into the emulated cuDNN. A case whose op
 * has no cuda kernel is reported as not covered. Skips loudly without a C/C++ compiler.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import * as families from "../ops/cases/mod.ts";
import type { OpCase } from "../ops/conformance/case.ts";
import { runCase, type Target } from "../ops/conformance/harness.ts";
import type { CudaBackend } from "../../ops/backends/cuda/mod.ts";
import { openEmulatedCuda } from "../ops/cuda/emulator/emulator.ts";

const opened = openEmulatedCuda();
if ("reason" in opened) console.warn(`SKIPPED: no host emulation of the cuda backend: ${opened.reason}`);
const target: Target = { backend: "cuda", dtype: "float32" };
const notCovered: string[] = [];
let passed = 0;

for (const [family, list] of Object.entries(families)) {
  for (const c of list as OpCase[]) {
    Deno.test({
      name: `${c.name} [${family}, emulated cuda]`,
      ignore: "reason" in opened,
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        const outcome = await runCase(c, target);
        if (outcome.status === "not-covered") notCovered.push(`${c.name} (${outcome.missingOp})`);
        else passed++;
      },
    });
  }
}

Deno.test({
  name: "the emulated cuda run covers the cases with cuda kernels and reports what it did not cover",
  ignore: "reason" in opened,
  fn() {
    const stats = (opened as { backend: CudaBackend }).backend.compiler.stats;
    const missing = notCovered.length ? ` (${notCovered.join("; ")})` : "";
    console.log(
      `emulated cuda: ${passed} cases passed; kernels built ${stats.compiled}, reused from .cache/ ` +
        `${stats.readFromDisk}; not covered: ${notCovered.length}${missing}`,
    );
    assert.ok(passed > 0);
    assert.ok(stats.compiled + stats.readFromDisk > 0, "the cases ran cuda kernels");
  },
});
