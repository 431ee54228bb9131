/**
 * cuda kernel of `map` (every elementwise op): the table's expression (ops/elementwise.ts) is
 * rendered to CUDA C by renderExpr and compiled with NVRTC at first use, once per (table key,
 * variables, input dtypes, output dtype, access pattern of each input, rank). One thread per
 * output element, in a grid-stride loop.
 *
 * Access patterns as in the webgpu kernel: "full" (read at i), "one" (read at 0), "strided"
 * (the output index unravelled over the collapsed output shape and dotted with the input's
 * broadcast strides, passed by value in the kernel's parameter struct).
 *
 * Arithmetic is f32; int32 inputs are converted on load and an int32 output truncated toward
 * zero, as the cpu kernel does.
 *
 * Not here: fusing several maps, vectorised loads.
 */
import { registerKernel } from "../../../op_registry.ts";
import type { MapAttrs } from "../../../elementwise.ts";
import { renderExpr } from "../../../expr.ts";
import { broadcastStrides, shapesEqual, sizeOf } from "../../../shape.ts";
import type { Tensor } from "../../../tensor.ts";
import { collapseAxes } from "../../webgpu/map.ts";
import { argPtr, cudaBackend, type CudaStorage, cudaStorage } from "../backend.ts";
import { BLOCK, blocksFor, CUDA_PRELUDE, cudaType, MAX_RANK, packWords, unravelC } from "./cuda_c.ts";

const FILE = "ops/backends/cuda/kernels/map.ts";

/** How a map input is read. */
export type MapAccess = "full" | "one" | "strided";

/** Everything that selects one compiled map kernel. */
export interface MapVariant {
  readonly attrs: Pick<MapAttrs, "key" | "expr" | "vars">;
  readonly access: readonly MapAccess[];
  readonly inTypes: readonly string[];
  readonly outType: string;
  /** Collapsed output rank (used when an input is strided). */
  readonly rank: number;
}

/** Cache key of a variant. */
export function mapKernelKey(v: MapVariant): string {
  const strided = v.access.includes("strided");
  return `map|${v.attrs.key}|${v.attrs.vars.join(",")}|${v.inTypes.join(",")}>${v.outType}|${
    v.access.join(",")
  }` +
    (strided ? `|rank${v.rank}` : "");
}

/**
 * CUDA C of one map variant; its kernel is `map_kernel(out, in0, ..., Meta)`, with
 * `Meta { unsigned size; float a, b; unsigned extents[rank]; unsigned strides[nStrided][rank]; }`.
 */
export function mapSource(v: MapVariant): string {
  const { attrs, access, inTypes, outType } = v;
  const name = (x: string): string => {
    if (x === "a" || x === "b") return `m.${x}`;
    const i = attrs.vars.indexOf(x);
    if (i < 0) throw new Error(`${FILE}: expression of "${attrs.key}" reads "${x}", which is not an input`);
    return `v${i}`;
  };
  const body = renderExpr(attrs.expr, "cuda", name)
    .replace(/\bfmaxf\(/g, "js_max(")
    .replace(/\bfminf\(/g, "js_min(")
    .replace(/\bpowf\(/g, "js_pow(");
  const strided = access.flatMap((a, i) => (a === "strided" ? [i] : []));
  const rank = Math.max(1, v.rank);
  const meta = strided.length > 0
    ? `unsigned extents[${rank}]; unsigned strides[${strided.length}][${rank}];`
    : "";
  const params = inTypes.map((t, i) => `const ${t}* __restrict__ in${i}`).join(", ");
  const offsets = strided.map((i) => `unsigned o${i} = 0;`).join(" ");
  const unravel = strided.length > 0
    ? unravelC("i", rank, "m.extents", strided.map((i, k) => [`o${i}`, `m.strides[${k}]`]))
    : "";
  const loads = access.map((a, i) =>
    `float v${i} = (float)in${i}[${a === "full" ? "i" : a === "one" ? "0" : `o${i}`}];`
  )
    .join("\n    ");
  const store = outType === "int" ? `(int)(${body})` : body;
  return `${CUDA_PRELUDE}
struct Meta { unsigned size; float a; float b; ${meta} };
extern "C" __global__ void map_kernel(${outType}* __restrict__ out, ${params}, Meta m) {
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < m.size; i += gridDim.x * blockDim.x) {
    ${offsets}
    ${unravel}
    ${loads}
    out[i] = ${store};
  }
}
`;
}

function accessOf(t: Tensor, shape: readonly number[]): MapAccess {
  if (t.size === 1) return "one";
  return shapesEqual(t.shape, shape) ? "full" : "strided";
}

registerKernel<MapAttrs>("map", "cuda", ({ inputs, attrs, outputs, backend }) => {
  const cuda = cudaBackend(backend);
  const { shape, dtype } = outputs[0];
  const size = sizeOf(shape);
  const out = cuda.alloc(dtype, size) as CudaStorage;
  if (size === 0) return [out];
  if (inputs.length === 0) throw new Error(`${FILE}: map "${attrs.key}" needs at least one input`);
  const access = inputs.map((t) => accessOf(t, shape));
  const { extents, strides } = collapseAxes(shape, inputs.map((t) => broadcastStrides(t.shape, shape)));
  if (extents.length > MAX_RANK) {
    throw new RangeError(
      `${FILE}: map "${attrs.key}" over [${shape}] needs ${extents.length} axes (at most ${MAX_RANK})`,
    );
  }
  const variant: MapVariant = {
    attrs,
    access,
    inTypes: inputs.map((t) => cudaType(t.dtype)),
    outType: cudaType(dtype),
    rank: extents.length,
  };
  const fn = cuda.kernel(mapKernelKey(variant), "map_kernel", () => mapSource(variant));
  const words: number[] = [size, attrs.a, attrs.b];
  if (access.includes("strided")) {
    words.push(...(extents.length > 0 ? extents : [1]));
    access.forEach((a, i) => {
      if (a === "strided") words.push(...(extents.length > 0 ? strides[i] : [0]));
    });
  }
  cuda.launch(fn, [blocksFor(size)], BLOCK, [
    argPtr(out),
    ...inputs.map((t) => argPtr(cudaStorage(t))),
    { bytes: packWords(words, [1, 2]) },
  ]);
  return [out];
});
