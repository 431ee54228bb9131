/**
 * Building blocks for float64 reference implementations and deterministic case inputs.
 * They index by plain multi-index arithmetic, sharing no code with the kernels, so a kernel
 * bug cannot hide in a shared helper.
 *
 * Not here: op-specific references (they live with each family's cases).
 */
import type { CaseInput, OpCase } from "./case.ts";

/** Row-major strides of `shape`. */
export function refStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Number of elements of `shape`. */
export function refSize(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Multi-index of flat position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

/** Flat position of multi-index `idx` in `shape`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + idx[i];
  return flat;
}

/** NumPy broadcasting of several shapes (throws when they do not broadcast). */
export function refBroadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      if (s[i] !== 1) {
        if (out[o] !== 1 && out[o] !== s[i]) throw new RangeError(`reference: [${shapes.join("] [")}]`);
        out[o] = s[i];
      }
    }
  }
  return out;
}

/** Element of `input` read at output multi-index `outIdx` under broadcasting. */
export function broadcastRead(input: CaseInput, outIdx: readonly number[]): number {
  const { shape, data } = input;
  const off = outIdx.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + (shape[i] === 1 ? 0 : outIdx[off + i]);
  return data[flat];
}

/** Elementwise reference: `fn` applied at every position of the broadcast shape (and `options.outShape`). */
export function refElementwise(
  inputs: readonly CaseInput[],
  fn: (...v: number[]) => number,
  options: { outShape?: readonly number[] } = {},
): Float64Array {
  const outShape = options.outShape;
  const shape = refBroadcastShape(...inputs.map((t) => t.shape), ...(outShape ? [outShape] : []));
  const out = new Float64Array(refSize(shape));
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    out[f] = fn(...inputs.map((t) => broadcastRead(t, idx)));
  }
  return out;
}

/**
 * Reduction reference: for each output position (reduced axes dropped), `fn` gets the
 * values along the reduced axes in row-major order.
 */
export function refReduce(
  input: CaseInput,
  axes: readonly number[],
  fn: (values: number[]) => number,
): Float64Array {
  const rank = input.shape.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const keptShape = input.shape.filter((_, i) => !norm.includes(i));
  const groups: number[][] = Array.from({ length: refSize(keptShape) }, () => []);
  for (let f = 0; f < input.data.length; f++) {
    const idx = unravel(f, input.shape);
    const kept = idx.filter((_, i) => !norm.includes(i));
    groups[ravel(kept, keptShape)].push(input.data[f]);
  }
  return Float64Array.from(groups.map(fn));
}

/** Deterministic pseudo-random floats in [low, high) from a 32-bit seed (mulberry32). */
export function seededValues(
  seed: number,
  size: number,
  options: { low?: number; high?: number } = {},
): Float64Array {
  const low = options.low ?? -1, high = options.high ?? 1;
  let s = seed >>> 0;
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = low + (high - low) * u;
  }
  return out;
}

/**
 * A float case input of `shape` filled with seeded values in [low, high).
 *
 * @example
 * ```ts
 * const x = floatInput([2, 3], 1, { grad: true });
 * ```
 */
export function floatInput(
  shape: number[],
  seed: number,
  options: { low?: number; high?: number; grad?: boolean; awayFrom?: number[]; gap?: number } = {},
): CaseInput {
  const data = seededValues(seed, refSize(shape), options);
  // Keep values away from kinks (e.g. 0 for relu/abs) so finite differences are meaningful.
  const gap = options.gap ?? 0.05;
  for (const k of options.awayFrom ?? []) {
    for (let i = 0; i < data.length; i++) {
      if (Math.abs(data[i] - k) < gap) data[i] = k + (data[i] >= k ? gap : -gap);
    }
  }
  return { data, shape, dtype: "float", grad: options.grad ?? false };
}

/** A float case input with explicit values. */
export function floatValues(
  values: ArrayLike<number>,
  shape: number[],
  options: { grad?: boolean } = {},
): CaseInput {
  return { data: Float64Array.from(values), shape, dtype: "float", grad: options.grad ?? false };
}

/** An int32 case input with explicit values. */
export function intInput(values: ArrayLike<number>, shape: number[]): CaseInput {
  return { data: Int32Array.from(values), shape, dtype: "int32" };
}

/** One case of a PyTorch fixture file (see tests/fixtures/ops/make_general.py for the layout). */
interface FixtureCase {
  name: string;
  inputs: { shape: number[]; dtype: "float" | "int32"; data: number[]; grad: boolean }[];
  outputs: number[][];
  grads: (number[] | null)[];
}

const fixtureCache = new Map<string, FixtureCase[]>();

/**
 * A conformance case whose inputs, expected outputs and expected gradients come from the
 * PyTorch fixture `file` (in tests/fixtures/ops/), case `fixtureName`; `run` applies the
 * toolkit's ops (`options.run`; other OpCase fields override). Finite differences still run
 * on top of the fixture's gradients.
 *
 * @example
 * ```ts
 * torchCase("general.json", "amax with two-way ties along the last axis", { run: ([x]) => max(x, 1))
 * ```
 */
export function torchCase(
  file: string,
  fixtureName: string,
  options: Pick<OpCase, "run"> & Partial<OpCase>,
): OpCase {
  let all = fixtureCache.get(file);
  if (!all) {
    const text = Deno.readTextFileSync(new URL(`../../fixtures/ops/${file}`, import.meta.url));
    all = (JSON.parse(text) as { cases: FixtureCase[] }).cases;
    fixtureCache.set(file, all);
  }
  const fc = all.find((c) => c.name === fixtureName);
  if (!fc) throw new Error(`tests/fixtures/ops/${file}: no case named "${fixtureName}"`);
  return {
    name: `PyTorch agrees: ${fixtureName}`,
    inputs: () =>
      fc.inputs.map((i): CaseInput => ({
        shape: i.shape,
        dtype: i.dtype,
        data: i.dtype === "int32" ? Int32Array.from(i.data) : Float64Array.from(i.data),
        grad: i.grad,
      })),
    expected: () => fc.outputs.map((o) => Float64Array.from(o)),
    expectedGrads: () => fc.grads.map((g) => (g ? Float64Array.from(g) : null)),
    ...options,
  };
}
