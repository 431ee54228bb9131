/**
 * The cuda backend's start-up errors without a GPU: a stand-in libcuda.so.1, built here with
 * the system's C compiler from the backend's own symbol table, answers cuInit, the driver
 * version and the device count as the test asks (through environment variables it reads) and
 * fails every other call. It checks that a failing cuInit, a driver older than NVRTC and a
 * machine without devices each give one clear sentence. Skips loudly without a C compiler.
 */
import assert from "node:assert/strict";
import { driverSymbols } from "../../../ops/backends/cuda/ffi/driver.ts";
import { CUDA_LIBRARIES, CudaError, openCudaLibrary } from "../../../ops/backends/cuda/ffi/library.ts";
import { openCudaDevice } from "../../../ops/backends/cuda/mod.ts";

const cc = ["cc", "gcc", "clang"].find((c) => {
  try {
    return new Deno.Command(c, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
});
if (!cc) console.warn("SKIPPED: no C compiler, so no stand-in libcuda for the driver error tests");
const hasNvrtc = (() => {
  try {
    openCudaLibrary(CUDA_LIBRARIES.nvrtc, {}).close();
    return true;
  } catch {
    console.warn("SKIPPED: libnvrtc is absent, so the driver/NVRTC version check is not exercised");
    return false;
  }
})();

const SPECIAL = `#include <stdlib.h>
static int env(const char* n, int d) { const char* v = getenv(n); return v ? atoi(v) : d; }
int cuInit(unsigned flags) { (void)flags; return env("FAKE_CUDA_INIT_STATUS", 0); }
int cuDriverGetVersion(int* v) { *v = env("FAKE_CUDA_DRIVER_VERSION", 13000); return 0; }
int cuDeviceGetCount(int* n) { *n = env("FAKE_CUDA_DEVICE_COUNT", 1); return 0; }
int cuGetErrorName(int s, const char** p) { *p = s == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN"; return 0; }
int cuGetErrorString(int s, const char** p) {
  *p = s == 100 ? "no CUDA-capable device is detected" : "unknown error"; return 0;
}
`;

/** Builds the stand-in library into a new folder and returns the folder. */
function buildStandIn(): string {
  const dir = Deno.makeTempDirSync({ prefix: "fake_libcuda_" });
  const special = ["cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuGetErrorName", "cuGetErrorString"];
  // Every other driver call fails with CUDA_ERROR_UNKNOWN (999): the tests stop before them.
  const rest = Object.keys(driverSymbols).filter((n) => !special.includes(n)).map((n) =>
    `int ${n}() { return 999; }`
  );
  Deno.writeTextFileSync(`${dir}/fake.c`, `${SPECIAL}${rest.join("\n")}\n`);
  const out = new Deno.Command(cc!, {
    args: ["-shared", "-fPIC", "-o", `${dir}/libcuda.so.1`, `${dir}/fake.c`],
  }).outputSync();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return dir;
}

function withEnv(vars: Record<string, string>, fn: () => void): void {
  for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
  try {
    fn();
  } finally {
    for (const k of Object.keys(vars)) Deno.env.delete(k);
  }
}

Deno.test({
  name: "cuInit failing gives the call, the status name and the driver's description",
  ignore: !cc,
  fn() {
    const dir = buildStandIn();
    try {
      withEnv({ FAKE_CUDA_INIT_STATUS: "100" }, () => {
        assert.throws(
          () => openCudaDevice({ driverFolders: [dir] }),
          (e: unknown) =>
            e instanceof CudaError && e.call === "cuInit" && e.status === 100 &&
            e.message === "cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)",
        );
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a machine whose driver reports no device says so",
  ignore: !cc,
  fn() {
    const dir = buildStandIn();
    try {
      withEnv({ FAKE_CUDA_DEVICE_COUNT: "0" }, () => {
        assert.throws(
          () => openCudaDevice({ driverFolders: [dir] }),
          /cuda: device 0 \(DENO_CTC_CUDA_DEVICE\) does not exist: the driver reports 0 device\(s\)/,
        );
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a driver older than NVRTC names both CUDA versions",
  ignore: !cc || !hasNvrtc,
  fn() {
    const dir = buildStandIn();
    try {
      withEnv({ FAKE_CUDA_DRIVER_VERSION: "11080" }, () => {
        assert.throws(
          () => openCudaDevice({ driverFolders: [dir] }),
          /The NVIDIA driver supports CUDA 11\.8 but libnvrtc \(.+\) is from CUDA 1[2-9]\.\d/,
        );
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
