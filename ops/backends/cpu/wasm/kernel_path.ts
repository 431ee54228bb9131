/**
 * Which kernels the cpu backend runs for float32 work: the generated WebAssembly SIMD kernels
 * ("wasm", the default) or the TypeScript ones they are tested against ("ts"). The TypeScript
 * kernels stay the reference and the fallback for every layout or dtype the WASM kernels do not
 * take (float64 always runs on them).
 *
 * $DENO_CTC_CPU_KERNELS=ts|wasm sets the path at load; `setCpuKernelPath` changes it at run time
 * (the conformance suite runs cpu float32 once on each).
 */

/** A cpu kernel path. */
export type CpuKernelPath = "wasm" | "ts";

function fromEnv(): CpuKernelPath {
  let v: string | undefined;
  try {
    v = Deno.env.get("DENO_CTC_CPU_KERNELS");
  } catch {
    return "wasm"; // no --allow-env: the default
  }
  if (v === undefined || v === "" || v === "wasm") return "wasm";
  if (v === "ts") return "ts";
  throw new RangeError(`DENO_CTC_CPU_KERNELS must be "wasm" or "ts" but is "${v}"`);
}

let path: CpuKernelPath = fromEnv();

/** The cpu kernel path in effect. */
export function cpuKernelPath(): CpuKernelPath {
  return path;
}

/** Selects the cpu kernel path; returns the previous one. */
export function setCpuKernelPath(next: CpuKernelPath): CpuKernelPath {
  if (next !== "wasm" && next !== "ts") {
    throw new RangeError(`setCpuKernelPath: expected "wasm" or "ts" but got "${next}"`);
  }
  const prev = path;
  path = next;
  return prev;
}
