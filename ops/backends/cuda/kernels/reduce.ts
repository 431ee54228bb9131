/**
 * cuda kernels of the reductions over axes: `sum`, `max` and `logsumexp`, from one table of
 * (initial value, combine, finish) so the three share one kernel shape. The input's axes are
 * collapsed into runs of kept and reduced axes (summing [B, T, C] over B and T is one reduced
 * axis of B·T elements with stride C); one block per output element strides over the reduced
 * elements and combines its threads' partial results in shared memory. logsumexp takes two
 * passes over its elements: the maximum, then Σ exp(x - max).
 *
 * Accumulation is f32 (int32 sums in int), so long float32 sums differ from the cpu's float64
 * accumulation in the last bits; the tree keeps the error near log n.
 *
 * Not here: splitting a long reduction into few outputs over several blocks (a whole-tensor
 * sum runs in one block of 256 threads), fusing the reduction with its producer.
 */
import { registerKernel } from "../../../op_registry.ts";
import type { ReduceAttrs } from "../../../reduce_sum.ts";
import { sizeOf, stridesOf } from "../../../shape.ts";
import { argPtr, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, CUDA_PRELUDE, cudaType, MAX_RANK, packWords, unravelC } from "./cuda_c.ts";

const FILE = "ops/backends/cuda/kernels/reduce.ts";

/** One reduction: its initial value and how two partial results combine, in C. */
interface ReductionDef {
  readonly init: string;
  readonly combine: (a: string, b: string) => string;
  /** Whether the kernel first finds the maximum and then sums exp(v - max) (logsumexp). */
  readonly isLogSumExp?: boolean;
}

/** The table. */
export const REDUCTIONS = {
  sum: { init: "0", combine: (a: string, b: string): string => `${a} + ${b}` },
  max: {
    init: "-__int_as_float(0x7f800000)",
    combine: (a: string, b: string): string => `js_max(${a}, ${b})`,
  },
  logsumexp: { init: "0", combine: (a: string, b: string): string => `${a} + ${b}`, isLogSumExp: true },
} as const satisfies Record<string, ReductionDef>;

/** Name of a reduction in the table. */
export type ReductionName = keyof typeof REDUCTIONS;

/** Everything that selects one compiled reduction kernel. */
export interface ReduceVariant {
  readonly op: ReductionName;
  readonly type: string;
  readonly keptRank: number;
  readonly reducedRank: number;
}

/** Cache key of a variant. */
export function reduceKernelKey(v: ReduceVariant): string {
  return `reduce|${v.op}|${v.type}|k${v.keptRank}|r${v.reducedRank}`;
}

/**
 * CUDA C of one reduction: `reduce_kernel(out, in, Meta)` with
 * `Meta { unsigned nOut, nRed; unsigned keptExt[k], keptStr[k], redExt[r], redStr[r]; }`.
 */
export function reduceSource(v: ReduceVariant): string {
  const def: ReductionDef = REDUCTIONS[v.op];
  const k = Math.max(1, v.keptRank), r = Math.max(1, v.reducedRank);
  const acc = v.type === "int" && v.op === "sum" ? "int" : "float";
  const combine = def.combine;
  const treeReduce = (expr: (a: string, b: string) => string): string =>
    `buf[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) buf[threadIdx.x] = ${expr("buf[threadIdx.x]", "buf[threadIdx.x + s]")};
      __syncthreads();
    }
    acc = buf[0];
    __syncthreads();`;
  const loop = (body: string): string =>
    `for (unsigned j = threadIdx.x; j < m.nRed; j += blockDim.x) {
      unsigned off = base;
      ${unravelC("j", r, "m.redExt", [["off", "m.redStr"]])}
      float v = (float)in[off];
      ${body}
    }`;
  const maxPass = def.isLogSumExp
    ? `${acc} acc = -__int_as_float(0x7f800000);
    ${loop("acc = js_max(acc, v);")}
    ${treeReduce((a, b) => `js_max(${a}, ${b})`)}
    const float mx = acc;
    acc = 0;
    ${loop("if (mx != -__int_as_float(0x7f800000)) acc += expf(v - mx);")}
    ${treeReduce((a, b) => `${a} + ${b}`)}
    if (threadIdx.x == 0) out[o] = (mx == -__int_as_float(0x7f800000) || isinf(mx)) ? mx : mx + logf(acc);`
    : `${acc} acc = ${def.init};
    ${loop(`acc = ${combine("acc", acc === "int" ? "(int)v" : "v")};`)}
    ${treeReduce(combine)}
    if (threadIdx.x == 0) out[o] = (${v.type})acc;`;
  return `${CUDA_PRELUDE}
struct Meta { unsigned nOut; unsigned nRed; unsigned keptExt[${k}]; unsigned keptStr[${k}]; unsigned redExt[${r}]; unsigned redStr[${r}]; };
extern "C" __global__ void reduce_kernel(${v.type}* __restrict__ out, const ${v.type}* __restrict__ in, Meta m) {
  __shared__ ${acc} buf[${BLOCK}];
  for (unsigned o = blockIdx.x; o < m.nOut; o += gridDim.x) {
    unsigned base = 0;
    ${unravelC("o", k, "m.keptExt", [["base", "m.keptStr"]])}
    ${maxPass}
  }
}
`;
}

/** Runs of kept and reduced axes (extents and input strides, outermost first). */
export function collapseReduction(shape: readonly number[], axes: readonly number[]) {
  const strides = stridesOf(shape);
  const kept: { e: number; s: number }[] = [];
  const red: { e: number; s: number }[] = [];
  let prev: "kept" | "red" | null = null;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const kind = axes.includes(i) ? "red" : "kept";
    const list = kind === "red" ? red : kept;
    // Adjacent axes of one kind in a contiguous tensor are one axis of the product extent.
    if (prev === kind) {
      const last = list[list.length - 1];
      last.e *= shape[i];
      last.s = strides[i];
    } else list.push({ e: shape[i], s: strides[i] });
    prev = kind;
  }
  return { kept, red };
}

function registerReduction(op: ReductionName): void {
  registerKernel<ReduceAttrs>(op, "cuda", ({ inputs: [x], attrs, outputs, backend }) => {
    const cuda = cudaBackend(backend);
    const nOut = sizeOf(outputs[0].shape);
    const out = cuda.alloc(outputs[0].dtype, nOut) as CudaStorage;
    if (nOut === 0) return [out];
    const { kept, red } = collapseReduction(x.shape, attrs.axes);
    if (kept.length > MAX_RANK || red.length > MAX_RANK) {
      throw new RangeError(
        `${FILE}: ${op} of [${x.shape}] over [${attrs.axes}] needs more than ${MAX_RANK} axes`,
      );
    }
    const variant: ReduceVariant = {
      op,
      type: cudaType(x.dtype),
      keptRank: kept.length,
      reducedRank: red.length,
    };
    const fn = cuda.kernel(reduceKernelKey(variant), "reduce_kernel", () => reduceSource(variant));
    const nRed = red.reduce((n, a) => n * a.e, 1);
    const orOne = (l: { e: number; s: number }[]) => (l.length > 0 ? l : [{ e: 1, s: 0 }]);
    const words = [
      nOut,
      x.size === 0 ? 0 : nRed,
      ...orOne(kept).map((a) => a.e),
      ...orOne(kept).map((a) => a.s),
      ...orOne(red).map((a) => a.e),
      ...orOne(red).map((a) => a.s),
    ];
    cuda.launch(fn, [blocksFor(nOut * BLOCK)], BLOCK, [argPtr(out), argPtr(cudaStorage(x)), {
      bytes: packWords(words),
    }]);
    return [out];
  });
}

for (const op of Object.keys(REDUCTIONS) as ReductionName[]) registerReduction(op);
