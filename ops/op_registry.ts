/**
 * The op registry: op declarations (`defineOp`) and the kernels each backend registers per op
 * name. An op's contract (output shapes, what backward keeps, its backward) lives in its
 * declaration; a kernel is one backend's implementation of it.
 *
 * A second kernel for the same op and backend is an error, not a silent overwrite, so two
 * files cannot both claim an op; a missing kernel is an error naming the op and backend.
 *
 * Not here: running ops and the tape (ops/tape.ts), backends (ops/backend_registry.ts).
 */
import type { Backend } from "./backend.ts";
import type { DType } from "./dtype.ts";
import type { Shape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

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
  /**
   * The op takes or makes float16 tensors (mixed precision: cast, the GEMM-shaped ops, views).
   * Without it `runOp` refuses float16 with an error that names the op.
   */
  readonly acceptsFloat16?: boolean;
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

/** Declares an op. Keep the returned object; pass it to `runOp`. */
export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}

const kernels = new Map<string, Map<string, Kernel>>();

/** Registers `kernel` as the implementation of op `opName` on backend `backendName`; once per pair. */
export function registerKernel<A>(opName: string, backendName: string, kernel: Kernel<A>): void {
  let byBackend = kernels.get(opName);
  if (!byBackend) kernels.set(opName, byBackend = new Map());
  if (byBackend.has(backendName)) {
    throw new Error(
      `Op "${opName}" already has a kernel on backend "${backendName}"; a kernel is registered once`,
    );
  }
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

/** The kernel of op `opName` on backend `backendName`, or undefined. */
export function findKernel(opName: string, backendName: string): Kernel | undefined {
  return kernels.get(opName)?.get(backendName);
}
