/**
 * webgpu kernels of max, logsumexp, softmax, logSoftmax, softmaxBackward and
 * logSoftmaxBackward (declared in ops/reduce.ts), each a spec of the reduction shader in
 * ./reduction.ts. max and logsumexp reduce any set of axes; the softmax family reduces the
 * line along its axis and writes every element of it. Numerically stable as the cpu kernels
 * are: the maximum is subtracted before exp, an all -Infinity line shifts by 0 (logsumexp
 * -Infinity, softmax NaN, as in PyTorch), and a +Infinity maximum gives logsumexp +Infinity.
 *
 * Not here: sum (./reduce_sum.ts); the gradients of max and logsumexp (composed from other
 * ops in ops/reduce.ts).
 */
import { type Kernel, registerKernel } from "../../op_registry.ts";
import type { ReduceAttrs } from "../../reduce_sum.ts";
import type { SoftmaxAttrs } from "../../reduce.ts";
import { gpuBackend } from "./backend.ts";
import { type ReductionPhase, type ReductionSpec, runReduction } from "./reduction.ts";

/** The line's maximum `mx`, and the shift the exponentials use: 0 when the maximum is -Infinity. */
const MAX_PHASE: ReductionPhase = {
  name: "mx",
  combine: "max",
  term: "in0[i]",
  then: "let shift = select(mx, 0.0, mx == negInf());",
};
/** Σ exp(x - shift). */
const EXP_PHASE: ReductionPhase = { name: "total", combine: "sum", term: "exp(in0[i] - shift)" };
/** log Σ exp(x), -Infinity for an empty sum (all -Infinity). */
const LSE = "let lse = shift + select(log(total), negInf(), total == 0.0);";

const specs: Record<string, ReductionSpec> = {
  max: {
    key: "max",
    nInputs: 1,
    phases: [{ name: "mx", combine: "max", term: "in0[i]" }],
    value: "mx",
    perElement: false,
    splittable: true,
  },
  logsumexp: {
    key: "logsumexp",
    nInputs: 1,
    // Like the cpu kernel: a NaN or -Infinity maximum shifts by 0 (NaN then propagates
    // through the sum), a +Infinity one makes the result +Infinity.
    phases: [
      { ...MAX_PHASE, then: "let shift = select(0.0, mx, isFinite(mx) || mx == posInf());" },
      { ...EXP_PHASE, then: LSE },
    ],
    value: "select(lse, posInf(), shift == posInf())",
    perElement: false,
    splittable: false,
  },
  softmax: {
    key: "softmax",
    nInputs: 1,
    phases: [MAX_PHASE, { ...EXP_PHASE, then: "let inv = 1.0 / total;" }],
    value: "exp(in0[i] - shift) * inv",
    perElement: true,
    splittable: false,
  },
  logSoftmax: {
    key: "logSoftmax",
    nInputs: 1,
    phases: [MAX_PHASE, { ...EXP_PHASE, then: LSE }],
    value: "in0[i] - lse",
    perElement: true,
    splittable: false,
  },
  // Inputs: output gradient g (in0), forward output y (in1). dx = y·(g - Σ g·y).
  softmaxBackward: {
    key: "softmaxBackward",
    nInputs: 2,
    phases: [{ name: "s", combine: "sum", term: "in0[i] * in1[i]" }],
    value: "in1[i] * (in0[i] - s)",
    perElement: true,
    splittable: false,
  },
  // dx = g - exp(y)·Σ g.
  logSoftmaxBackward: {
    key: "logSoftmaxBackward",
    nInputs: 2,
    phases: [{ name: "s", combine: "sum", term: "in0[i]" }],
    value: "in0[i] - exp(in1[i]) * s",
    perElement: true,
    splittable: false,
  },
};

function reduceKernel(spec: ReductionSpec): Kernel<ReduceAttrs> {
  return (
    { inputs, attrs, outputs, backend },
  ) => [runReduction(gpuBackend(backend), spec, inputs, attrs.axes, outputs[0])];
}

function lineKernel(spec: ReductionSpec): Kernel<SoftmaxAttrs> {
  return ({ inputs, attrs, outputs, backend }) => [
    runReduction(gpuBackend(backend), spec, inputs, [attrs.axis], outputs[0]),
  ];
}

registerKernel<ReduceAttrs>("max", "webgpu", reduceKernel(specs.max));
registerKernel<ReduceAttrs>("logsumexp", "webgpu", reduceKernel(specs.logsumexp));
for (const name of ["softmax", "logSoftmax", "softmaxBackward", "logSoftmaxBackward"]) {
  registerKernel<SoftmaxAttrs>(name, "webgpu", lineKernel(specs[name]));
}
