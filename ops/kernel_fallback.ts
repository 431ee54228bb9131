/**
 * Which kernel runs an op on a backend, and the explicit cpu fallback.
 *
 * By default an op without a kernel on its inputs' backend is an error naming the op and the
 * backend: nothing moves to the cpu silently in the middle of a graph. `setKernelFallback(name,
 * true)` lets such ops run on the cpu instead, by copying the inputs to the host, running the
 * cpu kernel and uploading the results, and says so once per op on stderr. The copy is
 * synchronous, because ops are, so it needs a backend with `readSync`; a backend without one
 * (webgpu: GPU reads complete asynchronously) gets an error saying that the fallback is
 * impossible there and why.
 *
 * A kernel that writes into an input (batchNorm's running statistics) has the new contents put
 * back as a new buffer of that input; a view sharing the input's old buffer does not see them.
 *
 * Every fallback call is counted per op and backend (`kernelFallbackCounts`), so that the
 * conformance suite reports a case that needed one as not covered rather than passed.
 *
 * Not here: the kernel registry (ops/op_registry.ts) and running ops (ops/tape.ts).
 */
import type { Backend } from "./backend.ts";
import { getBackend } from "./backend_registry.ts";
import { findKernel, type Kernel } from "./op_registry.ts";
import { sizeOf } from "./shape.ts";
import { Tensor } from "./tensor.ts";

const enabledFor = new Set<string>();
const reported = new Set<string>();
const calls = new Map<string, number>();

/**
 * Lets ops without a kernel on backend `backendName` run on the cpu (copying inputs and
 * results through the host), or (`on` false, the default) makes them errors again.
 *
 * @example
 * ```ts
 * setKernelFallback("cuda", true); // stderr once per op: "kernel fallback: op ... runs on the cpu"
 * ```
 */
export function setKernelFallback(backendName: string, on: boolean): void {
  if (backendName === "cpu") {
    throw new RangeError(`setKernelFallback("cpu"): the cpu is the fallback; it has none of its own`);
  }
  if (on) enabledFor.add(backendName);
  else enabledFor.delete(backendName);
}

/** Whether ops missing on `backendName` fall back to the cpu. */
export function isKernelFallbackEnabled(backendName: string): boolean {
  return enabledFor.has(backendName);
}

/** How many times each op ran through the cpu fallback, keyed `"<backend>:<op>"` (a copy). */
export function kernelFallbackCounts(): Map<string, number> {
  return new Map(calls);
}

/**
 * The kernel that runs op `opName` on `backend`: its own, or with the fallback enabled the cpu
 * kernel behind host copies. Throws `Op "<op>" has no kernel on backend "<name>"` otherwise.
 */
export function resolveKernel(opName: string, backend: Backend): Kernel {
  const own = findKernel(opName, backend.name);
  if (own) return own;
  const missing = `Op "${opName}" has no kernel on backend "${backend.name}"`;
  const impossible = `the cpu fallback is impossible there: backend "${backend.name}" has no synchronous ` +
    `read (its reads complete asynchronously) and an op must return its results synchronously`;
  if (!enabledFor.has(backend.name)) {
    const hint = backend.name === "cpu"
      ? ""
      : backend.readSync
      ? ` (setKernelFallback("${backend.name}", true) would run it on the cpu)`
      : ` (${impossible})`;
    throw new Error(missing + hint);
  }
  if (!backend.readSync) throw new Error(`${missing}, and ${impossible}`);
  const cpuKernel = findKernel(opName, "cpu");
  if (!cpuKernel) throw new Error(`${missing}, and the cpu has none to fall back on`);
  return fallbackKernel(opName, backend, cpuKernel);
}

function fallbackKernel(opName: string, backend: Backend, cpuKernel: Kernel): Kernel {
  return ({ inputs, attrs, outputs }) => {
    const key = `${backend.name}:${opName}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    if (!reported.has(key)) {
      reported.add(key);
      console.error(
        `kernel fallback: op "${opName}" has no kernel on backend "${backend.name}"; it runs on the cpu ` +
          `(inputs copied to the host, results back)`,
      );
    }
    const cpu = getBackend("cpu");
    const readSync = backend.readSync!.bind(backend);
    const hostInputs = inputs.map((t) => readSync(t.storage, t.dtype, t.size));
    const onCpu = inputs.map((t, i) => new Tensor(t.shape, t.dtype, cpu, cpu.upload(hostInputs[i])));
    try {
      const results = cpuKernel({ inputs: onCpu, attrs, outputs, backend: cpu });
      // Kernels that update an input in place (batchNorm's running statistics) wrote into the
      // cpu copy: such an input gets the new contents as a new buffer on its own backend.
      inputs.forEach((t, i) => {
        const after = cpu.readSync!(onCpu[i].storage, t.dtype, t.size);
        if (after.every((v, k) => Object.is(v, hostInputs[i][k]))) return;
        const fresh = backend.upload(after);
        backend.free(t.storage, t.dtype, t.size);
        t.storage = fresh;
      });
      return results.map((storage, i) => {
        const { dtype, shape } = outputs[i];
        const size = sizeOf(shape);
        const host = cpu.readSync!(storage, dtype, size);
        cpu.free(storage, dtype, size);
        return backend.upload(host);
      });
    } finally {
      for (const t of onCpu) t.dispose();
    }
  };
}
