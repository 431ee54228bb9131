/** cpu kernel of `matmul`: one GEMM per batch entry (ops/backends/cpu/blas.ts); float16 inputs widened first. */
import { registerKernel } from "../../op_registry.ts";
import { type MatmulAttrs, matmulDims } from "../../matmul.ts";
import { broadcastStrides, sizeOf, stridesOf } from "../../shape.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { gemm } from "./blas.ts";
import { widenFloat16Inputs } from "../../gemm_dtype.ts";

registerKernel<MatmulAttrs>(
  "matmul",
  "cpu",
  widenFloat16Inputs(({ inputs: [a, b], attrs, outputs, backend }) => {
    const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
    const out = cpuOutput(backend, outputs[0].dtype, sizeOf(outputs[0].shape)) as Float32Array | Float64Array;
    const ad = cpuData(a) as Float32Array | Float64Array, bd = cpuData(b) as Float32Array | Float64Array;
    const nBatch = sizeOf(batch);
    // Batch offsets of each operand: broadcast axes read the same matrix (stride 0).
    const aStr = broadcastStrides(a.shape.slice(0, -2), batch),
      bStr = broadcastStrides(b.shape.slice(0, -2), batch);
    const outStr = stridesOf(batch);
    const lda = attrs.transA ? m : k, ldb = attrs.transB ? k : n;
    for (let t = 0; t < nBatch; t++) {
      let ao = 0, bo = 0, rest = t;
      for (let ax = 0; ax < batch.length; ax++) {
        const i = Math.floor(rest / outStr[ax]);
        rest -= i * outStr[ax];
        ao += i * aStr[ax];
        bo += i * bStr[ax];
      }
      gemm(
        attrs.transA,
        attrs.transB,
        m,
        n,
        k,
        1,
        ad,
        ao * m * k,
        lda,
        bd,
        bo * k * n,
        ldb,
        0,
        out,
        t * m * n,
        n,
      );
    }
    return [out];
  }),
);
