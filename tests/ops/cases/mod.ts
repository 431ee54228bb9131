/**
 * Every family's conformance cases, one export line per family (`export { cases as <family> }`).
 * tests/ops/conformance_test.ts runs every array exported here on every backend present.
 */
export { cases as elementwise } from "./elementwise.ts";
export { cases as reduce } from "./reduce.ts";
export { cases as shapeOps } from "./shape_ops.ts";
export { cases as masks } from "./masks.ts";
export { cases as dropout } from "./dropout.ts";
export { cases as conv } from "./conv.ts";
export { cases as rnn } from "./rnn.ts";
export { cases as ctcLoss } from "./ctc_loss.ts";
export { cases as batchNorm } from "./batch_norm.ts";
export { cases as matmul } from "./matmul.ts";
export { cases as rnnStack } from "./rnn_stack.ts";
export { cases as float16 } from "./float16.ts";
export { cases as fusedActivation } from "./fused_activation.ts";
