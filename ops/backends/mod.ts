/**
 * Backend discovery and selection: which backends this machine has (`listBackends`), which
 * one new tensors go to (`setBackend`, `getBackend`), and "auto", which picks the fastest
 * available and says which on stderr, as the BLAS report does.
 *
 * Each GPU backend lives in ops/backends/<name>/ and is loaded only when asked for, so a
 * machine without its driver or library never loads its code. Its loader below returns a
 * description when it found a device, or the reason it did not.
 *
 * Not here: the registry itself (ops/backend_registry.ts), kernels (ops/backends/<name>/).
 */
import { envGet } from "../env.ts";
import type { Backend } from "../backend.ts";
import { getBackend, setDefaultBackend } from "../backend_registry.ts";
import { setKernelFallback } from "../kernel_fallback.ts";
import "./cpu/mod.ts";

export { defaultBackend, getBackend } from "../backend_registry.ts";
export { isKernelFallbackEnabled, kernelFallbackCounts, setKernelFallback } from "../kernel_fallback.ts";

/** A backend name accepted by `setBackend` and `--backend`. */
export type BackendName = "cpu" | "webgpu" | "cuda";

/** What `--backend` accepts: a backend, or "auto" for the fastest one available. */
export type BackendChoice = BackendName | "auto";

/** The backend names `--backend` accepts, "auto" first. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "cpu", "webgpu", "cuda"];

/** One backend as `listBackends` found it. */
export interface BackendInfo {
  /** Registry name. */
  name: BackendName;
  /** Whether it can be used on this machine now. */
  isAvailable: boolean;
  /** The device it runs on ("OpenBLAS on 2 cores", the adapter's name), or why it is unavailable. */
  description: string;
  /** Whether its device is a CPU (the cpu backend, or a CPU WebGPU adapter such as llvmpipe). */
  isCpuDevice: boolean;
}

/** Outcome of initialising a GPU backend: registered, or the reason it could not be. */
type ProbeResult = { ok: true; description: string; isCpuDevice: boolean } | { ok: false; reason: string };

/** Loads and initialises one GPU backend, registering it on success. */
type Probe = () => Promise<ProbeResult>;

const probes: Record<Exclude<BackendName, "cpu">, Probe> = {
  webgpu: async () => {
    const mod = await import("./webgpu/mod.ts");
    const reason = await mod.probeWebGpu();
    const b = mod.webGpuBackend();
    if (!b) return { ok: false, reason: reason ?? "no WebGPU adapter" };
    return { ok: true, description: b.adapterDescription, isCpuDevice: b.isCpuAdapter };
  },
  cuda: async () => {
    const mod = await import("./cuda/mod.ts");
    const reason = await mod.probeCuda();
    const b = mod.cudaBackendInstance();
    if (!b) return { ok: false, reason: reason ?? "no CUDA device" };
    return { ok: true, description: b.description, isCpuDevice: false };
  },
};

const probed = new Map<BackendName, Promise<ProbeResult>>();

function probe(name: Exclude<BackendName, "cpu">): Promise<ProbeResult> {
  let p = probed.get(name);
  if (!p) {
    p = probes[name]().catch((e) => ({ ok: false, reason: (e as Error).message }) as ProbeResult);
    probed.set(name, p);
  }
  return p;
}

/** Every backend this build knows, initialising the GPU ones to see whether a device exists. */
export async function listBackends(): Promise<BackendInfo[]> {
  const out: BackendInfo[] = [{
    name: "cpu",
    isAvailable: true,
    description: "host CPU (OpenBLAS GEMM when present)",
    isCpuDevice: true,
  }];
  for (const name of ["webgpu", "cuda"] as const) {
    const r = await probe(name);
    out.push(
      r.ok
        ? { name, isAvailable: true, description: r.description, isCpuDevice: r.isCpuDevice }
        : { name, isAvailable: false, description: r.reason, isCpuDevice: false },
    );
  }
  return out;
}

/**
 * The device `backend` runs on, in words, for training logs and checkpoint metadata: the
 * backend's `description`, a WebGPU adapter's name, or else the backend's name.
 */
export function describeBackend(backend: Backend): string {
  if (backend.description) return backend.description;
  const adapter = (backend as { adapterDescription?: unknown }).adapterDescription;
  return typeof adapter === "string" ? adapter : backend.name;
}

/** Options of `setBackend`. */
export interface SetBackendOptions {
  /** Do not print which backend "auto" chose. */
  quiet?: boolean;
  /**
   * Run ops the chosen backend lacks on the cpu, copying through the host and reporting each op
   * once on stderr (`setKernelFallback`); only for backends with a synchronous read, so not
   * webgpu. Off by default: a missing kernel is an error naming the op and backend.
   */
  fallback?: boolean;
}

/**
 * Makes `choice` the backend new tensors are created on, initialising it first, and returns
 * it. "auto" takes cuda, else a webgpu adapter that is a real GPU, else cpu (a CPU WebGPU
 * adapter such as llvmpipe is slower than the cpu backend), and reports its pick on stderr.
 * An explicit choice that is unavailable throws, naming the backend and why.
 *
 * @example
 * ```ts
 * await setBackend("auto"); // stderr: "backend: auto chose cpu (webgpu: ...)"
 * const x = tensor([1, 2, 3], [3]); // on the chosen backend
 * ```
 */
export async function setBackend(choice: BackendChoice, options: SetBackendOptions = {}): Promise<Backend> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new RangeError(`Unknown backend "${choice}": expected one of ${BACKEND_CHOICES.join(", ")}`);
  }
  if (choice === "auto") {
    const found = await listBackends();
    const pick = found.find((b) => b.name === "cuda" && b.isAvailable) ??
      found.find((b) => b.name === "webgpu" && b.isAvailable && !b.isCpuDevice) ?? found[0];
    setDefaultBackend(pick.name);
    if (options.fallback !== undefined && pick.name !== "cpu") setKernelFallback(pick.name, options.fallback);
    if (!options.quiet && !envGet("DENO_CTC_QUIET")) {
      const others = found.filter((b) => b !== pick).map((b) =>
        `${b.name}: ${b.isAvailable ? b.description : `unavailable, ${b.description}`}`
      );
      console.error(`backend: auto chose ${pick.name} (${pick.description}; ${others.join("; ")})`);
    }
    return getBackend(pick.name);
  }
  if (choice !== "cpu") {
    const r = await probe(choice);
    if (!r.ok) throw new Error(`Backend "${choice}" is unavailable: ${r.reason}`);
  }
  setDefaultBackend(choice);
  if (options.fallback !== undefined && choice !== "cpu") setKernelFallback(choice, options.fallback);
  return getBackend(choice);
}
