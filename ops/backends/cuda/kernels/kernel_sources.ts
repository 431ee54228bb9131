/**
 * Every CUDA C source the cuda backend can generate, enumerated for the compile test (which
 * builds each one with NVRTC for sm_80 and sm_90 without a GPU): each elementwise table entry's
 * forward and gradients under each access pattern, each reduction at the ranks its index
 * arithmetic unrolls differently, the softmax family, the dropout mask, the conversions, the
 * strided copy of the layout ops, the sequence mask, the convolution's bias add, gather and
 * its scatter, batch norm forward and backward, the two CTC kernels and the GRU/LSTM steps.
 *
 * The sources are produced by the same functions the kernels call at run time, with the same
 * cache keys, so a source that compiles here is the source a device would load.
 */
import { type ElementwiseDef, elementwiseOps, varsOf } from "../../../elementwise.ts";
import { batchNormBackwardSource, batchNormForwardSource } from "./batch_norm.ts";
import { biasAddSource } from "./conv.ts";
import { ctcAlphaBetaSource, ctcGradSource } from "./ctc_loss.ts";
import { gatherSource } from "./gather.ts";
import { RNN_KERNELS } from "./rnn.ts";
import { convertBackSource, convertSource } from "./convert.ts";
import { copySource, sequenceMaskSource } from "./layout.ts";
import { dropoutMaskSource } from "./dropout.ts";
import { type MapAccess, mapKernelKey, mapSource, type MapVariant } from "./map.ts";
import { reduceKernelKey, reduceSource, type ReductionName, REDUCTIONS } from "./reduce.ts";
import { SOFTMAX_KERNELS, type SoftmaxKernelName, softmaxSource } from "./softmax.ts";

/** One kernel source: its cache key, entry point and CUDA C. */
export interface KernelSource {
  readonly key: string;
  readonly entry: string;
  readonly source: string;
}

function mapVariants(): MapVariant[] {
  const out: MapVariant[] = [];
  for (const [name, def] of Object.entries(elementwiseOps) as [string, ElementwiseDef][]) {
    const exprs = [
      { key: name, expr: def.forward, vars: def.inputs },
      ...def.grads.flatMap((e, i) =>
        e ? [{ key: `${name}.d${i}`, expr: e, vars: varsOf(e).filter((v) => v !== "a" && v !== "b") }] : []
      ),
    ];
    for (const attrs of exprs) {
      const n = attrs.vars.length;
      const patterns: MapAccess[][] = [
        Array(n).fill("full"),
        Array(n).fill("strided"),
        ...(n > 1 ? [["full", ...Array(n - 1).fill("one")] as MapAccess[]] : []),
      ];
      for (const access of patterns) {
        const inTypes = attrs.vars.map((v) => (v === "c" ? "int" : "float"));
        out.push({ attrs, access, inTypes, outType: "float", rank: 3 });
      }
    }
  }
  // int32 maps: masks and lengths broadcast or copied as int32.
  const identity = elementwiseOps.identity;
  out.push({
    attrs: { key: "identity", expr: identity.forward, vars: identity.inputs },
    access: ["strided"],
    inTypes: ["int"],
    outType: "int",
    rank: 2,
  });
  return out;
}

/** Every source, in a stable order. */
export function allKernelSources(): KernelSource[] {
  const out: KernelSource[] = mapVariants().map((v) => ({
    key: mapKernelKey(v),
    entry: "map_kernel",
    source: mapSource(v),
  }));
  for (const op of Object.keys(REDUCTIONS) as ReductionName[]) {
    for (const type of op === "sum" || op === "max" ? ["float", "int"] : ["float"]) {
      for (const [keptRank, reducedRank] of [[0, 1], [1, 1], [2, 3]]) {
        const v = { op, type, keptRank, reducedRank };
        out.push({ key: reduceKernelKey(v), entry: "reduce_kernel", source: reduceSource(v) });
      }
    }
  }
  for (const op of Object.keys(SOFTMAX_KERNELS) as SoftmaxKernelName[]) {
    out.push({ key: `softmax|${op}`, entry: "softmax_kernel", source: softmaxSource(op) });
  }
  out.push({ key: "dropoutMask", entry: "dropout_mask", source: dropoutMaskSource() });
  for (const format of ["bf16", "fp16"] as const) {
    out.push({ key: `convert|${format}`, entry: "to_half", source: convertSource(format) });
    out.push({ key: `convertBack|${format}`, entry: "from_half", source: convertBackSource(format) });
  }
  for (let rank = 1; rank <= 4; rank++) {
    out.push({ key: `copy|r${rank}`, entry: "copy_kernel", source: copySource(rank) });
  }
  out.push({ key: "sequenceMask", entry: "mask_kernel", source: sequenceMaskSource() });
  out.push({ key: "biasAdd", entry: "bias_add", source: biasAddSource() });
  for (const type of ["float", "int"]) {
    for (const rank of [1, 2, 3]) {
      out.push({
        key: `gather|${type}|r${rank}|gather`,
        entry: "gather_kernel",
        source: gatherSource(type, rank, false),
      });
    }
  }
  for (const rank of [1, 2, 3]) {
    out.push({
      key: `gather|float|r${rank}|scatter`,
      entry: "gather_kernel",
      source: gatherSource("float", rank, true),
    });
  }
  out.push({ key: "batchNorm", entry: "bn_forward", source: batchNormForwardSource() });
  out.push({ key: "batchNormBackward", entry: "bn_backward", source: batchNormBackwardSource() });
  out.push({ key: "ctcAlphaBeta", entry: "ctc_alpha_beta", source: ctcAlphaBetaSource() });
  out.push({ key: "ctcGrad", entry: "ctc_grad", source: ctcGradSource() });
  for (const [name, k] of Object.entries(RNN_KERNELS)) {
    out.push({ key: `rnn|${name}`, entry: k.entry, source: k.source() });
  }
  return out;
}
