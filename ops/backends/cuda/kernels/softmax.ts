/**
 * cuda kernels of softmax, logSoftmax and their one-pass backward ops, from one table: each
 * line along the axis (outer · inner lines of length L, stride inner) is one block, which
 * finds the line's maximum (forward) or the sum it needs (backward) in shared memory and
 * writes the line. Backward inputs are (g, y) as in ops/reduce.ts:
 * softmax dx = y·(g - Σ g·y), logSoftmax dx = g - exp(y)·Σ g.
 *
 * Not here: a warp-per-line variant for short lines (the 29-character CTC vocabulary uses
 * 256 threads for 29 values; fine for the logits' size, wasteful in general).
 */
import { registerKernel } from "../../../op_registry.ts";
import type { SoftmaxAttrs } from "../../../reduce.ts";
import { sizeOf } from "../../../shape.ts";
import { argPtr, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, CUDA_PRELUDE, packWords } from "./cuda_c.ts";

/** One kernel: the line sum `s` it needs, and the output element, in C over x (or g, y), mx and s. */
interface SoftmaxDef {
  /** Forward ops first take the line's maximum `mx`. */
  readonly isForward: boolean;
  /** Summand of `s` per element. */
  readonly sum: string;
  /** Output per element. */
  readonly out: string;
}

/** The table, by op name. */
export const SOFTMAX_KERNELS = {
  softmax: { isForward: true, sum: "expf(x - mx)", out: "expf(x - mx) / s" },
  logSoftmax: { isForward: true, sum: "expf(x - mx)", out: "x - mx - logf(s)" },
  softmaxBackward: { isForward: false, sum: "g * y", out: "y * (g - s)" },
  logSoftmaxBackward: { isForward: false, sum: "g", out: "g - expf(y) * s" },
} as const satisfies Record<string, SoftmaxDef>;

/** Name of a softmax-family op. */
export type SoftmaxKernelName = keyof typeof SOFTMAX_KERNELS;

/** CUDA C of one softmax-family kernel: `softmax_kernel(out, in0[, in1], Meta { lines, len, inner })`. */
export function softmaxSource(op: SoftmaxKernelName): string {
  const def: SoftmaxDef = SOFTMAX_KERNELS[op];
  const load = def.isForward ? "float x = in0[at];" : "float g = in0[at]; float y = in1[at];";
  const inputs = def.isForward
    ? "const float* __restrict__ in0"
    : "const float* __restrict__ in0, const float* __restrict__ in1";
  const reduce = (combine: string) =>
    `buf[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s2 = blockDim.x / 2; s2 > 0; s2 >>= 1) {
      if (threadIdx.x < s2) { float a = buf[threadIdx.x], b = buf[threadIdx.x + s2]; buf[threadIdx.x] = ${combine}; }
      __syncthreads();
    }
    acc = buf[0];
    __syncthreads();`;
  const each = (body: string) =>
    `for (unsigned j = threadIdx.x; j < m.len; j += blockDim.x) {
      unsigned at = base + j * m.inner;
      ${load}
      ${body}
    }`;
  return `${CUDA_PRELUDE}
struct Meta { unsigned lines; unsigned len; unsigned inner; };
extern "C" __global__ void softmax_kernel(float* __restrict__ out, ${inputs}, Meta m) {
  __shared__ float buf[${BLOCK}];
  for (unsigned line = blockIdx.x; line < m.lines; line += gridDim.x) {
    unsigned base = (line / m.inner) * m.len * m.inner + line % m.inner;
    float acc = ${def.isForward ? "-__int_as_float(0x7f800000)" : "0.0f"};
    ${def.isForward ? `${each("acc = js_max(acc, x);")}\n    ${reduce("js_max(a, b)")}` : ""}
    const float mx = acc;
    acc = 0.0f;
    ${each(`acc += ${def.sum};`)}
    ${reduce("a + b")}
    const float s = acc;
    ${each(`out[at] = ${def.out};`)}
    (void)mx;
  }
}
`;
}

function register(op: SoftmaxKernelName): void {
  registerKernel<SoftmaxAttrs>(op, "cuda", ({ inputs, attrs, outputs, backend }) => {
    const cuda = cudaBackend(backend);
    const shape = outputs[0].shape;
    const out = cuda.alloc("float32", sizeOf(shape)) as CudaStorage;
    const len = shape[attrs.axis];
    const inner = sizeOf(shape.slice(attrs.axis + 1));
    const lines = len === 0 ? 0 : sizeOf(shape) / len;
    if (lines === 0) return [out];
    const fn = cuda.kernel(`softmax|${op}`, "softmax_kernel", () => softmaxSource(op));
    cuda.launch(fn, [blocksFor(lines * BLOCK)], BLOCK, [
      argPtr(out),
      ...inputs.map((t) => argPtr(cudaStorage(t))),
      { bytes: packWords([lines, len, inner]) },
    ]);
    return [out];
  });
}

for (const op of Object.keys(SOFTMAX_KERNELS) as SoftmaxKernelName[]) register(op);
