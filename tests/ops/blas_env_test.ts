/**
 * How the cpu backend configures OpenBLAS from the environment, each case in a fresh Deno
 * process (the library is loaded once per process). Skips loudly without OpenBLAS.
 */
import assert from "node:assert/strict";
import { coreTypeForCpu } from "../../ops/backends/cpu/blas.ts";

const probe = `import { blasInfo } from "${new URL("../../ops/backends/cpu/blas.ts", import.meta.url).href}";
console.log(JSON.stringify(blasInfo()));`;

/**
 * blasInfo() of a fresh process with `env`, less the `unset` variables. `permissions`: run
 * the probe with these flags instead of `deno eval`'s all-access, as the tasks do.
 */
async function infoWith(env: Record<string, string>, unset: string[] = [], permissions?: string[]) {
  const vars: Record<string, string> = { ...Deno.env.toObject(), DENO_CTC_QUIET: "1", ...env };
  for (const k of unset) delete vars[k];
  const file = permissions ? await Deno.makeTempFile({ suffix: ".ts" }) : null;
  if (file) await Deno.writeTextFile(file, probe);
  const out = await new Deno.Command(Deno.execPath(), {
    args: file ? ["run", ...permissions!, file] : ["eval", probe],
    env: vars,
    clearEnv: true,
    stdout: "piped",
    stderr: "inherit",
  }).output().finally(() => file && Deno.remove(file));
  assert.equal(out.code, 0);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const hasOpenBlas = (await infoWith({})).implementation === "openblas";
if (!hasOpenBlas) console.warn("SKIPPED blas_env_test: OpenBLAS is not installed (Debian: libopenblas0)");
const unsetAll = ["DENO_CTC_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE"];

Deno.test({
  name: "OPENBLAS_NUM_THREADS sets the GEMM threads, and DENO_CTC_THREADS overrides it",
  ignore: !hasOpenBlas,
  fn: async () => {
    assert.equal((await infoWith({ OPENBLAS_NUM_THREADS: "1" }, ["DENO_CTC_THREADS"])).threads, 1);
    assert.equal((await infoWith({ OPENBLAS_NUM_THREADS: "1", DENO_CTC_THREADS: "2" })).threads, 2);
    assert.equal((await infoWith({}, unsetAll)).threads, navigator.hardwareConcurrency);
  },
});

Deno.test({
  name:
    "an unset OPENBLAS_CORETYPE is chosen from /proc/cpuinfo, under the tasks' permissions too; a set one is left alone",
  ignore: !hasOpenBlas,
  fn: async () => {
    const auto = await infoWith({}, unsetAll);
    const expected = coreTypeForCpu(await Deno.readTextFile("/proc/cpuinfo").catch(() => ""));
    assert.equal(auto.coreType, expected);
    assert.equal(auto.coreTypeChosenByUs, expected !== undefined);
    // The tasks' permissions: Deno reserves /proc/cpuinfo to --allow-all, the FFI path reads it.
    const scoped = await infoWith({}, unsetAll, [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
    ]);
    assert.equal(scoped.coreType, expected);
    assert.equal(scoped.coreTypeChosenByUs, expected !== undefined);
    const pinned = await infoWith({ OPENBLAS_CORETYPE: "Sandybridge" });
    assert.equal(pinned.coreType, "Sandybridge");
    assert.equal(pinned.coreTypeChosenByUs, false);
    assert.match(pinned.coreName, /sandybridge/i);
  },
});

Deno.test("coreTypeForCpu reads the AVX-512, AVX2 and AVX flags", () => {
  assert.equal(coreTypeForCpu("flags\t: fpu avx avx2 fma avx512f avx512bw avx512vl avx512dq\n"), "SkylakeX");
  assert.equal(coreTypeForCpu("flags\t: fpu avx avx2 fma\n"), "Haswell");
  assert.equal(coreTypeForCpu("flags\t: fpu sse2 avx\n"), "Sandybridge");
  assert.equal(coreTypeForCpu("flags\t: fpu sse2\n"), undefined);
  assert.equal(coreTypeForCpu("processor : 0\n"), undefined);
});
