/**
 * Float64 reference of one GRU / LSTM layer for the conformance cases (tests/ops/cases/rnn.ts),
 * written from the equations of torch.nn.GRU / torch.nn.LSTM (PyTorch's documentation) one
 * sequence, direction and step at a time. It shares no code with the kernels: no GEMM, no
 * reserve space, no batching of rows.
 *
 * Not here: gradients (the harness takes finite differences of this op on cpu float64).
 */
import type { CaseInput } from "./case.ts";

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * Outputs [y [T, N, D·H], hN [D, N, H]] (LSTM: and cN) of one layer. `inputs` are the op's:
 * x [T, N, I], h0 [D, N, H] (LSTM: c0), then w_ih, w_hh, b_ih, b_hh per direction.
 */
export function refRnnLayer(
  kind: "gru" | "lstm",
  inputs: readonly CaseInput[],
  options: { bidirectional: boolean; lengths: readonly number[] | null },
): Float64Array[] {
  const [T, N, I] = inputs[0].shape;
  const H = inputs[1].shape[2];
  const D = options.bidirectional ? 2 : 1;
  const nStates = kind === "gru" ? 1 : 2;
  const x = inputs[0].data, h0 = inputs[1].data, c0 = kind === "lstm" ? inputs[2].data : null;
  const y = new Float64Array(T * N * D * H);
  const hN = new Float64Array(D * N * H), cN = new Float64Array(D * N * H);
  for (let d = 0; d < D; d++) {
    const [wIh, wHh, bIh, bHh] = inputs.slice(1 + nStates + 4 * d, 5 + nStates + 4 * d).map((i) => i.data);
    // Pre-activation of gate row `row` (of G·H): the input part and the recurrent part.
    const inputPart = (row: number, t: number, b: number): number => {
      let acc = bIh[row];
      for (let k = 0; k < I; k++) acc += wIh[row * I + k] * x[(t * N + b) * I + k];
      return acc;
    };
    const hiddenPart = (row: number, h: ArrayLike<number>): number => {
      let acc = bHh[row];
      for (let k = 0; k < H; k++) acc += wHh[row * H + k] * h[k];
      return acc;
    };
    for (let b = 0; b < N; b++) {
      const L = options.lengths ? options.lengths[b] : T;
      let h = Array.from(h0.subarray((d * N + b) * H, (d * N + b + 1) * H));
      let c = c0 ? Array.from(c0.subarray((d * N + b) * H, (d * N + b + 1) * H)) : [];
      for (let step = 0; step < L; step++) {
        const t = d === 0 ? step : L - 1 - step;
        const hNew: number[] = [], cNew: number[] = [];
        for (let j = 0; j < H; j++) {
          if (kind === "gru") {
            const r = sigmoid(inputPart(j, t, b) + hiddenPart(j, h));
            const z = sigmoid(inputPart(H + j, t, b) + hiddenPart(H + j, h));
            const n = Math.tanh(inputPart(2 * H + j, t, b) + r * hiddenPart(2 * H + j, h));
            hNew.push((1 - z) * n + z * h[j]);
          } else {
            const pre = (q: number): number => inputPart(q * H + j, t, b) + hiddenPart(q * H + j, h);
            const cv = sigmoid(pre(1)) * c[j] + sigmoid(pre(0)) * Math.tanh(pre(2));
            cNew.push(cv);
            hNew.push(sigmoid(pre(3)) * Math.tanh(cv));
          }
        }
        h = hNew;
        c = cNew;
        for (let j = 0; j < H; j++) y[(t * N + b) * D * H + d * H + j] = h[j];
      }
      hN.set(h, (d * N + b) * H);
      if (c0) cN.set(c, (d * N + b) * H);
    }
  }
  return kind === "gru" ? [y, hN] : [y, hN, cN];
}
