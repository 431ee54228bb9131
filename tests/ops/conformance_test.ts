/**
 * The op conformance suite: every case exported by tests/ops/cases/mod.ts, run on every
 * backend present (cpu float64 with finite-difference gradient checks, cpu float32, and each
 * GPU backend whose module under ops/backends/<name>/mod.ts initialises); cpu float32 runs twice,
 * on the WebAssembly SIMD kernels and on the TypeScript ones (ops/backends/cpu/wasm/kernel_path.ts).
 * A GPU backend that
 * is absent is skipped loudly; a case using an op without a kernel on a backend is reported
 * loudly as not covered, and the last test prints which ops each backend covers.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import * as families from "./cases/mod.ts";
import type { OpCase } from "./conformance/case.ts";
import { CoverageReport, runCase, type Target } from "./conformance/harness.ts";
import { type CpuKernelPath, setCpuKernelPath } from "../../ops/backends/cpu/wasm/kernel_path.ts";

const allCases: [string, OpCase][] = Object.entries(families).flatMap(([family, list]) =>
  (list as OpCase[]).map((c): [string, OpCase] => [family, c])
);

/**
 * GPU backends: each folder ops/backends/<name>/ (other than cpu) whose mod.ts exports an
 * `init<Name>(): Promise<boolean>`; the backend joins the targets when it returns true.
 */
async function gpuTargets(): Promise<Target[]> {
  const dir = new URL("../../ops/backends/", import.meta.url);
  const found: Target[] = [];
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory || entry.name === "cpu") continue;
    const modUrl = new URL(`${entry.name}/mod.ts`, dir);
    try {
      Deno.statSync(modUrl);
    } catch {
      console.warn(
        `conformance: SKIPPING backend "${entry.name}": ops/backends/${entry.name}/mod.ts not found`,
      );
      continue;
    }
    try {
      // A computed specifier keeps `deno check` from requiring backends that are not written yet.
      const mod = await import(modUrl.href) as Record<string, unknown>;
      const initName = Object.keys(mod).find((k) => /^init[A-Z]/.test(k) && typeof mod[k] === "function");
      if (!initName) {
        console.warn(
          `conformance: SKIPPING backend "${entry.name}": its mod.ts exports no init<Name>() function`,
        );
        continue;
      }
      const ok = await (mod[initName] as () => Promise<boolean>)();
      if (ok) found.push({ backend: entry.name, dtype: "float32" });
      else console.warn(`conformance: SKIPPING backend "${entry.name}": ${initName}() found no device`);
    } catch (e) {
      console.warn(`conformance: SKIPPING backend "${entry.name}": initialisation failed: ${e}`);
    }
  }
  return found;
}

// CONFORMANCE_BACKENDS=webgpu (a comma-separated list) runs only those backends, e.g. for a
// quick pass on a GPU machine; cpu float64 stays the reference the others are compared with.
const only = Deno.env.get("CONFORMANCE_BACKENDS")?.split(",").map((s) => s.trim()).filter(Boolean);
/** A target, and for cpu float32 the kernel path it runs on. */
type PathTarget = Target & { cpuKernels?: CpuKernelPath };
const allTargets: PathTarget[] = [
  { backend: "cpu", dtype: "float64" },
  { backend: "cpu", dtype: "float32", cpuKernels: "wasm" },
  { backend: "cpu", dtype: "float32", cpuKernels: "ts" },
  ...await gpuTargets(),
];
const targets = allTargets.filter((t) => !only || only.includes(t.backend));
if (only) console.warn(`conformance: CONFORMANCE_BACKENDS limits the run to ${only.join(", ")}`);
const report = new CoverageReport();

Deno.test("conformance case names are unique sentences", () => {
  const names = allCases.map(([, c]) => c.name);
  assert.equal(new Set(names).size, names.length, "duplicate case names");
  for (const n of names) assert.match(n, /^\S.* \S/, `case name "${n}" should read as a sentence`);
});

for (const target of targets) {
  const isCpu = target.backend === "cpu";
  for (const [family, c] of allCases) {
    Deno.test({
      name: `${c.name} [${family}, ${target.backend} ${target.dtype}${
        target.cpuKernels ? ` ${target.cpuKernels} kernels` : ""
      }]`,
      // GPU devices hold resources across tests by design.
      sanitizeOps: isCpu,
      sanitizeResources: isCpu,
      fn: async () => {
        const previous = setCpuKernelPath(target.cpuKernels ?? "wasm");
        let outcome;
        try {
          outcome = await runCase(c, target);
        } finally {
          setCpuKernelPath(previous);
        }
        report.record(target, c.name, outcome);
        if (outcome.status === "not-covered") {
          console.warn(
            `conformance: NOT COVERED on ${target.backend}: "${c.name}" needs op "${outcome.missingOp}"`,
          );
        } else {
          assert.ok(outcome.checks.includes("forward"));
        }
      },
    });
  }
}

Deno.test("conformance coverage per backend is reported and cpu covers every case", () => {
  console.log(`conformance coverage:\n${report}`);
  assert.equal(report.notCovered({ backend: "cpu", dtype: "float32" }), 0, "cpu must have every kernel");
  assert.equal(report.notCovered({ backend: "cpu", dtype: "float64" }), 0, "cpu must have every kernel");
});
