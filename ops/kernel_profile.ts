/**
 * The kernel profile: calls and wall time per kernel while a profile is collected (what
 * `torch.profiler` reports per op). Off by default; `runOp` asks `isProfiling()` first.
 */
import type { Backend } from "./backend.ts";

/** Calls and wall time of one kernel while a profile was collected. */
export interface KernelProfileEntry {
  /** Op name; elementwise ops appear as "map:<table key>", e.g. "map:relu". */
  op: string;
  /** Backend the kernel ran on. */
  backend: string;
  /** Calls. */
  calls: number;
  /** Wall time in the kernel function, milliseconds (on webgpu: encoding only, not the GPU's work). */
  ms: number;
}

let kernelProfile: Map<string, KernelProfileEntry> | null = null;

/**
 * Starts timing every kernel call (what `torch.profiler` reports per op), until
 * `stopKernelProfile`. Off by default: it costs two clock reads per op.
 */
export function startKernelProfile(): void {
  kernelProfile = new Map();
}

/** Stops the profile; entries sorted by total time, largest first. */
export function stopKernelProfile(): KernelProfileEntry[] {
  const entries = [...(kernelProfile?.values() ?? [])].sort((a, b) => b.ms - a.ms);
  kernelProfile = null;
  return entries;
}

export function profiledCall<A>(name: string, attrs: A, backend: Backend, call: () => unknown[]): unknown[] {
  const profile = kernelProfile!;
  const op = name === "map" ? `map:${(attrs as { key?: string }).key}` : name;
  const t0 = performance.now();
  const result = call();
  const ms = performance.now() - t0;
  const key = `${op}@${backend.name}`;
  const e = profile.get(key) ?? { op, backend: backend.name, calls: 0, ms: 0 };
  e.calls++;
  e.ms += ms;
  profile.set(key, e);
  return result;
}

/** @internal Whether a profile is being collected. */
export function isProfiling(): boolean {
  return kernelProfile !== null;
}
