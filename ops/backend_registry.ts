/**
 * The backend registry: backends by name, created on first use, and the default backend on
 * which `tensor()` creates tensors. Discovery and selection (`listBackends`, `setBackend`,
 * "auto") are in ops/backends/mod.ts, which builds on this.
 */
import type { Backend } from "./backend.ts";

const backendFactories = new Map<string, () => Backend>();
const backends = new Map<string, Backend>();
let defaultBackendName = "cpu";

/** Registers a backend constructor under `name`; it is created on first use. */
export function registerBackend(name: string, factory: () => Backend): void {
  backendFactories.set(name, factory);
}

/** Registers an already-created backend instance (asynchronously initialised GPU backends). */
export function addBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** The backend called `name` (the default when omitted). */
export function getBackend(name: string = defaultBackendName): Backend {
  let b = backends.get(name);
  if (!b) {
    const factory = backendFactories.get(name);
    if (!factory) {
      throw new Error(
        `Backend "${name}" is not available (registered: ${
          [...new Set([...backends.keys(), ...backendFactories.keys()])].join(", ")
        })`,
      );
    }
    b = factory();
    backends.set(name, b);
  }
  return b;
}

/** Makes `name` the backend on which `tensor()` creates tensors by default. */
export function setDefaultBackend(name: string): void {
  getBackend(name);
  defaultBackendName = name;
}

/** Name of the current default backend. */
export function defaultBackend(): string {
  return defaultBackendName;
}
