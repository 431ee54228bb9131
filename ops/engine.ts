/**
 * The engine: op declarations, the kernel registry, backend selection, the autograd tape
 * and memory scopes.
 *
 * - An op is declared once with `defineOp` (output shapes, what backward keeps, backward).
 *   Each backend registers one kernel per op name with `registerKernel`.
 * - The tape records a node per op call only while gradients are on and some input
 *   requires grad; a node keeps only the inputs/outputs its op declares, and backward()
 *   drops them once used.
 * - `tidy(fn)` and `TensorScope` (for `using`) dispose every tensor created inside them that
 *   is not returned or kept: GPU memory is released deterministically, not by the GC.
 *
 * Deliberately not here: higher-order gradients (backward runs with the tape off) and
 * in-place ops other than optimizer/running-statistics updates that backends expose.
 */
import type { Backend } from "./backend.ts";
import type { DType } from "./dtype.ts";
import type { Shape } from "./shape.ts";
import { Tensor } from "./tensor.ts";

/** Shape and dtype of one op output. */
export interface OutputSpec {
  shape: Shape;
  dtype: DType;
}

/** What a backward function receives. Unsaved inputs/outputs are null. */
export interface BackwardContext<A> {
  /** Gradient of each output (null when no gradient reached it). */
  grads: readonly (Tensor | null)[];
  /** Saved inputs (those listed in `saveInputs`), by input position. */
  inputs: readonly (Tensor | null)[];
  /** Saved outputs (those listed in `saveOutputs`), by output position. */
  outputs: readonly (Tensor | null)[];
  /** Shapes of all inputs (always kept; they are small). */
  inputShapes: readonly Shape[];
  /** The op's attributes. */
  attrs: A;
  /** Which inputs need a gradient; backward may return null for the others. */
  needsGrad: readonly boolean[];
}

/** An op declaration: the single source of its semantics for every backend. */
export interface OpDef<A> {
  /** Kernel registry key, e.g. "conv1d". */
  readonly name: string;
  /** Output shapes and dtypes; validates inputs and attributes (throws RangeError/TypeError). */
  outputs(inputs: readonly Tensor[], attrs: A): OutputSpec[];
  /** Input positions backward reads (a function when it depends on the attributes). */
  readonly saveInputs?: readonly number[] | ((attrs: A) => readonly number[]);
  /** Output positions backward reads. */
  readonly saveOutputs?: readonly number[] | ((attrs: A) => readonly number[]);
  /** Gradients of the inputs from the gradients of the outputs; absent for non-differentiable ops. */
  backward?(ctx: BackwardContext<A>): (Tensor | null)[];
}

/** What a kernel receives. It returns one new backend buffer per output spec. */
export interface KernelContext<A> {
  inputs: readonly Tensor[];
  attrs: A;
  outputs: readonly OutputSpec[];
  backend: Backend;
}

/** A backend's implementation of one op. */
// deno-lint-ignore no-explicit-any
export type Kernel<A = any> = (ctx: KernelContext<A>) => unknown[];

/** @internal One recorded op call on the tape. */
export interface GradNode {
  // deno-lint-ignore no-explicit-any
  def: OpDef<any>;
  attrs: unknown;
  inputShapes: Shape[];
  saved: { inputs: (Tensor | null)[]; outputs: (Tensor | null)[] } | null;
  parents: ({ node: GradNode; index: number } | { leaf: Tensor } | null)[];
  nOutputs: number;
}

/** Declares an op. Keep the returned object; pass it to `runOp`. */
export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}

const kernels = new Map<string, Map<string, Kernel>>();
const backendFactories = new Map<string, () => Backend>();
const backends = new Map<string, Backend>();
let defaultBackendName = "cpu";

/** Registers `kernel` as the implementation of op `opName` on backend `backendName`. */
export function registerKernel<A>(opName: string, backendName: string, kernel: Kernel<A>): void {
  let byBackend = kernels.get(opName);
  if (!byBackend) kernels.set(opName, byBackend = new Map());
  byBackend.set(backendName, kernel);
}

/** True when backend `backendName` has a kernel for op `opName`. */
export function hasKernel(opName: string, backendName: string): boolean {
  return kernels.get(opName)?.has(backendName) ?? false;
}

/** Names of ops with a kernel on `backendName`. */
export function kernelNames(backendName: string): string[] {
  return [...kernels].filter(([, m]) => m.has(backendName)).map(([n]) => n).sort();
}

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

// ---- gradient mode -------------------------------------------------------------------------

let gradEnabled = true;

/** Runs `fn` with the tape off: nothing it computes is recorded for backward. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether ops are currently recorded for backward. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

// ---- kernel profile ---------------------------------------------------------------------------

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

function profiledCall<A>(name: string, attrs: A, backend: Backend, call: () => unknown[]): unknown[] {
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

// ---- running ops -----------------------------------------------------------------------------

/** Runs a declared op on its inputs' backend, recording it on the tape when needed. */
export function runOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const backend = inputs.length > 0 ? inputs[0].backend : getBackend();
  for (const t of inputs) {
    t.assertLive();
    if (t.backend !== backend) {
      throw new Error(
        `${def.name}: inputs live on different backends (${backend.name} and ${t.backend.name})`,
      );
    }
  }
  const specs = def.outputs(inputs, attrs);
  const kernel = kernels.get(def.name)?.get(backend.name);
  if (!kernel) throw new Error(`Op "${def.name}" has no kernel on backend "${backend.name}"`);
  const storages = kernelProfile
    ? profiledCall(def.name, attrs, backend, () => kernel({ inputs, attrs, outputs: specs, backend }))
    : kernel({ inputs, attrs, outputs: specs, backend });
  const outs = specs.map((s, i) => new Tensor(s.shape, s.dtype, backend, storages[i]));
  if (gradEnabled && def.backward && inputs.some((t) => t.requiresGrad)) {
    const savedIn = typeof def.saveInputs === "function" ? def.saveInputs(attrs) : def.saveInputs ?? [];
    const savedOut = typeof def.saveOutputs === "function" ? def.saveOutputs(attrs) : def.saveOutputs ?? [];
    const node: GradNode = {
      def,
      attrs,
      inputShapes: inputs.map((t) => t.shape),
      saved: {
        inputs: inputs.map((t, i) => savedIn.includes(i) ? t : null),
        outputs: outs.map((t, i) => savedOut.includes(i) ? t : null),
      },
      parents: inputs.map((t) =>
        t.node ? { node: t.node, index: t.outputIndex } : t.requiresGrad ? { leaf: t } : null
      ),
      nOutputs: outs.length,
    };
    outs.forEach((o, i) => {
      o.requiresGrad = true;
      o.node = node;
      o.outputIndex = i;
    });
  }
  return outs;
}

/** @internal Reverse-mode pass from `root`. */
export function backwardFrom(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward() on a tensor that does not require grad: ${root}`);
  if (!grad && root.size !== 1) {
    throw new RangeError(`backward() without a gradient needs a scalar, got shape [${root.shape}]`);
  }
  const seed = grad ?? onesLike(root);
  if (!root.node) {
    accumulateLeaf(root, seed);
    return;
  }
  // Topological order of the nodes reachable from root (iterative DFS; graphs are deep).
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: [GradNode, number][] = [[root.node, 0]];
  visited.add(root.node);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.parents.length) {
      top[1]++;
      const p = node.parents[i];
      if (p && "node" in p && !visited.has(p.node)) {
        visited.add(p.node);
        stack.push([p.node, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  const grads = new Map<GradNode, (Tensor | null)[]>();
  const rootGrads = new Array<Tensor | null>(root.node.nOutputs).fill(null);
  rootGrads[root.outputIndex] = seed;
  grads.set(root.node, rootGrads);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const g = grads.get(node);
      grads.delete(node);
      if (!g || g.every((x) => x === null)) {
        node.saved = null;
        continue;
      }
      if (!node.saved) {
        throw new Error(`${node.def.name}: backward() reached an op whose saved tensors were already freed`);
      }
      const inGrads = node.def.backward!({
        grads: g,
        inputs: node.saved.inputs,
        outputs: node.saved.outputs,
        inputShapes: node.inputShapes,
        attrs: node.attrs,
        needsGrad: node.parents.map((p) => p !== null),
      });
      node.saved = null;
      for (let i = 0; i < node.parents.length; i++) {
        const p = node.parents[i];
        const gi = inGrads[i];
        if (!p || !gi) continue;
        if ("leaf" in p) {
          accumulateLeaf(p.leaf, gi);
        } else {
          let list = grads.get(p.node);
          if (!list) grads.set(p.node, list = new Array<Tensor | null>(p.node.nOutputs).fill(null));
          list[p.index] = list[p.index] ? addGrads(list[p.index]!, gi) : gi;
        }
      }
    }
  });
}

// Set by ops/elementwise.ts (which imports this module) to avoid an import cycle at load time.
let addImpl: ((a: Tensor, b: Tensor) => Tensor) | null = null;
let onesLikeImpl: ((t: Tensor) => Tensor) | null = null;

/** @internal Wires the elementwise ops the tape needs. */
export function setTapeHelpers(add: (a: Tensor, b: Tensor) => Tensor, ones: (t: Tensor) => Tensor): void {
  addImpl = add;
  onesLikeImpl = ones;
}

function addGrads(a: Tensor, b: Tensor): Tensor {
  return addImpl!(a, b);
}

function onesLike(t: Tensor): Tensor {
  return onesLikeImpl!(t);
}

// One gradient tensor can be handed to several leaves (add's backward passes g on to both
// inputs), so a replaced .grad is disposed only when no other leaf still holds it.
const gradHolders = new WeakMap<Tensor, number>();

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  const next = leaf.grad ? addGrads(leaf.grad, g) : g;
  keep(next);
  gradHolders.set(next, (gradHolders.get(next) ?? 0) + 1);
  releaseGrad(leaf);
  leaf.grad = next;
}

/** Drops `leaf.grad` (optimizers call this to zero gradients), disposing it when no other leaf holds it. */
export function releaseGrad(leaf: Tensor): void {
  const old = leaf.grad;
  if (!old) return;
  leaf.grad = null;
  const n = (gradHolders.get(old) ?? 1) - 1;
  gradHolders.set(old, n);
  if (n <= 0) old.dispose();
}

/**
 * Replaces the contents of `target` with those of `source` (same shape and dtype), keeping
 * `target`'s identity: optimizers and running statistics update parameters this way. The
 * buffer moves, no data is copied, and `source` is disposed.
 */
export function assign(target: Tensor, source: Tensor): void {
  target.assertLive();
  source.assertLive();
  if (target.backend !== source.backend || target.dtype !== source.dtype || target.size !== source.size) {
    throw new TypeError(`assign(): ${source} does not fit ${target}`);
  }
  if (source.node) {
    throw new Error("assign(): the source is part of a recorded graph; compute it under noGrad()");
  }
  const moved = target.backend.retain(source.storage);
  target.backend.free(target.storage, target.dtype, target.size);
  target.storage = moved;
  source.dispose();
}

// ---- memory scopes ---------------------------------------------------------------------------

const scopes: Set<Tensor>[] = [];

/** @internal Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Removes `t` from every open scope so that it outlives them. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/**
 * A memory scope for `using`: every tensor created while it is the innermost open scope is
 * disposed when the scope is, except those passed to `keep()` or `scope.keep()`.
 *
 * @example
 * ```ts
 * {
 *   using _scope = new TensorScope();
 *   const y = relu(add(x, b)); // intermediates and y are freed at the end of the block
 * }
 * ```
 */
export class TensorScope implements Disposable {
  #tensors = new Set<Tensor>();
  #closed = false;

  constructor() {
    scopes.push(this.#tensors);
  }

  /** Moves `t` out of this scope into the enclosing one (or none). Returns `t`. */
  keep<T extends Tensor>(t: T): T {
    this.#tensors.delete(t);
    const i = scopes.indexOf(this.#tensors);
    if (i > 0) scopes[i - 1].add(t);
    return t;
  }

  /** Disposes the scope's tensors and closes it. */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    const i = scopes.lastIndexOf(this.#tensors);
    if (i >= 0) scopes.splice(i, 1);
    for (const t of this.#tensors) t.dispose();
    this.#tensors.clear();
  }
}

/**
 * Runs `fn` in a scope and disposes every tensor it created except those in its result
 * (a tensor, or arrays/records of tensors), which move to the enclosing scope.
 * `fn` must be synchronous; for async code use `using scope = new TensorScope()`.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new TensorScope();
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError("tidy() takes a synchronous function; use TensorScope");
    }
    for (const t of tensorsIn(result)) scope.keep(t);
    return result;
  } finally {
    scope[Symbol.dispose]();
  }
}

function* tensorsIn(x: unknown, depth = 0): Generator<Tensor> {
  if (x instanceof Tensor) yield x;
  else if (depth < 3 && Array.isArray(x)) { for (const v of x) yield* tensorsIn(v, depth + 1); }
  else if (
    depth < 3 && x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype
  ) {
    for (const v of Object.values(x)) yield* tensorsIn(v, depth + 1);
  }
}
