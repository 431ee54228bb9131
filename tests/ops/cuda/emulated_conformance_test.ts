/**
 * Every conformance case (tests/ops/cases/) on the cuda backend's kernels without a GPU: the
 * backend runs on the host emulation of the driver and cuBLAS in tests/ops/cuda/emulator/, with
 * each kernel's generated CUDA C compiled as host C++ (see emulator.ts for what that checks and
 * what it cannot). Results and gradients are compared with the cpu backend by the conformance
 * harness, including its leak check of the caching allocator. Cases on cuDNN (convolutions)
 * are reported as not emulated; a case whose op has no cuda kernel as not covered. Skips loudly
 * without a C/C++ compiler.
 */
import assert from "node:assert/strict";
import "../../../ops/backends/cpu/mod.ts";
import * as families from "../cases/mod.ts";
import type { OpCase } from "../conformance/case.ts";
import { runCase, type Target } from "../conformance/harness.ts";
import { openEmulatedCuda } from "./emulator/emulator.ts";

const opened = openEmulatedCuda();
if ("reason" in opened) console.warn(`SKIPPED: no host emulation of the cuda backend: ${opened.reason}`);
const target: Target = { backend: "cuda", dtype: "float32" };
const notEmulated: string[] = [], notCovered: string[] = [];
let passed = 0;

for (const [family, list] of Object.entries(families)) {
  for (const c of list as OpCase[]) {
    Deno.test({
      name: `${c.name} [${family}, emulated cuda]`,
      ignore: "reason" in opened,
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        try {
          const outcome = await runCase(c, target);
          if (outcome.status === "not-covered") notCovered.push(`${c.name} (${outcome.missingOp})`);
          else passed++;
        } catch (e) {
          // cuDNN is not emulated: its calls fail on the real library without a device.
          if (/cudnn/i.test((e as Error).message)) notEmulated.push(c.name);
          else throw e;
        }
      },
    });
  }
}

Deno.test({
  name: "the emulated cuda run covers the cases and reports what it did not emulate",
  ignore: "reason" in opened,
  fn() {
    console.log(
      `emulated cuda: ${passed} cases passed; not emulated (cuDNN): ${notEmulated.length}; ` +
        `not covered: ${notCovered.length}${notCovered.length ? ` (${notCovered.join("; ")})` : ""}`,
    );
    assert.ok(passed > 0);
  },
});
