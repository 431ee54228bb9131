/**
 * CTC loss with exactly `torch.nn.functional.ctc_loss`'s semantics (Graves et al. 2006, §4;
 * PyTorch aten/src/ATen/native/LossCTC.cpp): log-probabilities [T, N, C], targets padded
 * [N, S] or concatenated 1-D, per-sample input and target lengths, a blank index, the
 * 'none' | 'sum' | 'mean' reductions and `zeroInfinity`.
 *
 * The op `ctcLoss` returns the per-sample negative log-likelihood [N] and, when the log-probs
 * need a gradient, d nll_n / d logProbs [T, N, C] computed in the same alpha-beta pass: the
 * shape of cuDNN's cudnnCTCLoss (loss and gradient from one call), so a GPU backend maps onto
 * it. Backward then only scales that gradient by the incoming per-sample gradient.
 *
 * The gradient is PyTorch's, not the plain derivative: PyTorch returns
 * exp(lp) − (1/p)·Σ_{s: l'_s = c} α_t(s)β_t(s) / exp(lp), which is what backprop through a
 * log_softmax in front of the loss needs (the extra exp(lp) cancels there); with
 * unnormalised log-probs it differs from the derivative, as PyTorch's does. Frames past a
 * sample's input length get 0; infeasible samples give Infinity and a NaN gradient, or 0 and
 * a 0 gradient with `zeroInfinity`.
 *
 * Not here: the log_softmax itself (ops/reduce.ts), CTC decoding (decode/).
 */
import { defineOp, type OpDef } from "./op_registry.ts";
import { isGradEnabled, runOp } from "./tape.ts";
import { Tensor } from "./tensor.ts";
import { tensor } from "./creation.ts";
import { div, mul } from "./elementwise.ts";
import { reshape } from "./reshape.ts";
import { sum } from "./reduce_sum.ts";

/** Attributes of the `ctcLoss` op. */
export interface CtcLossAttrs {
  /** Valid frames of each sample (host numbers, like cuDNN's inputLengths). */
  readonly inputLengths: readonly number[];
  /** Labels of each sample. */
  readonly targetLengths: readonly number[];
  /** Index of the blank class. */
  readonly blank: number;
  /** Replace infinite losses (and their gradients) by 0. */
  readonly zeroInfinity: boolean;
  /** Also compute d nll / d logProbs (second output); otherwise that output is empty. */
  readonly computeGrad: boolean;
}

/** Checks a ctcLoss call; returns T, N, C and where each sample's labels start in `targets`. */
export function ctcLossDims(
  logProbs: Tensor,
  targets: Tensor,
  attrs: CtcLossAttrs,
): { T: number; N: number; C: number; targetOffsets: Int32Array } {
  if (logProbs.rank !== 3) {
    throw new RangeError(`ctcLoss: logProbs must be [T, N, C], got [${logProbs.shape}]`);
  }
  if (logProbs.dtype === "int32") throw new TypeError("ctcLoss: logProbs must be a float tensor");
  if (targets.dtype !== "int32") throw new TypeError(`ctcLoss: targets must be int32, got ${targets.dtype}`);
  const [T, N, C] = logProbs.shape;
  const { inputLengths, targetLengths, blank } = attrs;
  if (inputLengths.length !== N || targetLengths.length !== N) {
    throw new RangeError(
      `ctcLoss: ${inputLengths.length} input lengths and ${targetLengths.length} target lengths for a batch of ${N}`,
    );
  }
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) {
    throw new RangeError(`ctcLoss: blank ${blank} is outside 0..${C - 1}`);
  }
  const offsets = new Int32Array(N);
  const padded = targets.rank === 2;
  if (padded && targets.shape[0] !== N) {
    throw new RangeError(`ctcLoss: padded targets must be [N, S] with N = ${N}, got [${targets.shape}]`);
  }
  if (!padded && targets.rank !== 1) {
    throw new RangeError(`ctcLoss: targets must be [N, S] or 1-D, got [${targets.shape}]`);
  }
  let total = 0;
  for (let n = 0; n < N; n++) {
    const il = inputLengths[n], tl = targetLengths[n];
    if (!Number.isInteger(il) || il < 0 || il > T) {
      throw new RangeError(`ctcLoss: input length ${il} of sample ${n} is outside 0..${T}`);
    }
    const maxTl = padded ? targets.shape[1] : targets.size - total;
    if (!Number.isInteger(tl) || tl < 0 || tl > maxTl) {
      throw new RangeError(`ctcLoss: target length ${tl} of sample ${n} is outside 0..${maxTl}`);
    }
    offsets[n] = padded ? n * targets.shape[1] : total;
    total += tl;
  }
  return { T, N, C, targetOffsets: offsets };
}

/** Declaration of `ctcLoss`. Kernels: ops/backends/<name>/ctc_loss.ts. */
export const ctcLossOp: OpDef<CtcLossAttrs> = defineOp<CtcLossAttrs>({
  name: "ctcLoss",
  outputs([logProbs, targets], attrs) {
    const { T, N, C } = ctcLossDims(logProbs, targets, attrs);
    return [
      { shape: [N], dtype: logProbs.dtype },
      { shape: attrs.computeGrad ? [T, N, C] : [0], dtype: logProbs.dtype },
    ];
  },
  saveOutputs: [1],
  backward({ grads, outputs, attrs }) {
    if (!attrs.computeGrad) {
      throw new Error("ctcLoss: backward reached a call made without computeGrad");
    }
    const g = grads[0];
    if (!g) return [null, null];
    return [mul(outputs[1]!, reshape(g, [1, g.size, 1])), null];
  },
});

/** How per-sample losses are combined, as in PyTorch. */
export type CtcReduction = "none" | "sum" | "mean";

/** Options of `ctcLoss`. */
export interface CtcLossOptions {
  /** Index of the blank class (default 0). */
  blank?: number;
  /**
   * 'mean' (default): each loss divided by its target length (at least 1), then averaged
   * over the batch; 'sum': summed; 'none': the [N] losses.
   */
  reduction?: CtcReduction;
  /** Infinite losses (impossible alignments) and their gradients become 0 (default false). */
  zeroInfinity?: boolean;
}

/**
 * Per-sample lengths, on the host. They are attributes of the op (as cuDNN takes them), and
 * the mean reduction divides by the target lengths, so a tensor would have to be read back:
 * a stall on a GPU in the middle of every training step.
 */
export type Lengths = Int32Array | readonly number[];

function hostLengths(lengths: Lengths, what: string): number[] {
  if (lengths instanceof Tensor) {
    throw new TypeError(
      `ctcLoss: ${what} must be host numbers (number[] or Int32Array), got a tensor on ${lengths.backend.name}: ` +
        `keep the batch's lengths on the host (reading a tensor back would stall the GPU)`,
    );
  }
  if (!Array.isArray(lengths) && !(lengths instanceof Int32Array)) {
    throw new TypeError(`ctcLoss: ${what} must be a number[] or an Int32Array`);
  }
  return Array.from(lengths as ArrayLike<number>);
}

/**
 * The CTC loss of `torch.nn.functional.ctc_loss(log_probs, targets, input_lengths,
 * target_lengths, blank, reduction, zero_infinity)`, with the arguments in PyTorch's order.
 * `logProbs` [T, N, C] are log-probabilities (usually a logSoftmax over C); `targets` are
 * int32, padded [N, S] or all samples' labels concatenated (1-D; numbers are accepted too).
 * Lengths are host Int32Arrays or number arrays (never tensors: see `Lengths`).
 *
 * @example
 * ```ts
 * const loss = ctcLoss(logSoftmax(logits, -1), targets, [400, 380], [80, 75], { blank: 28 });
 * loss.backward();
 * ```
 */
export function ctcLoss(
  logProbs: Tensor,
  targets: Tensor | Int32Array | readonly number[],
  inputLengths: Lengths,
  targetLengths: Lengths,
  options: CtcLossOptions = {},
): Tensor {
  const tgt = ArrayBuffer.isView(targets) || Array.isArray(targets)
    ? tensor(targets as ArrayLike<number>, [(targets as ArrayLike<number>).length], {
      dtype: "int32",
      backend: logProbs.backend.name,
    })
    : targets as Tensor;
  const targetLens = hostLengths(targetLengths, "targetLengths");
  const attrs: CtcLossAttrs = {
    inputLengths: hostLengths(inputLengths, "inputLengths"),
    targetLengths: targetLens,
    blank: options.blank ?? 0,
    zeroInfinity: options.zeroInfinity ?? false,
    computeGrad: isGradEnabled() && logProbs.requiresGrad,
  };
  const [nll] = runOp(ctcLossOp, [logProbs, tgt], attrs);
  const reduction = options.reduction ?? "mean";
  if (reduction === "none") return nll;
  if (reduction === "sum") return sum(nll);
  if (reduction !== "mean") throw new RangeError(`ctcLoss: unknown reduction "${reduction}"`);
  const divisors = tensor(targetLens.map((l) => Math.max(l, 1)), [targetLens.length], {
    dtype: logProbs.dtype,
    backend: logProbs.backend.name,
  });
  return mul(sum(div(nll, divisors)), 1 / targetLens.length);
}
