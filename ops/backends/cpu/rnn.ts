/**
 * cpu kernels of `gruLayer`, `lstmLayer` and their backward ops (declared in ops/rnn.ts).
 *
 * Per direction: the input projections of all T·N frames are one GEMM [T·N, I]×[I, G·H];
 * each time step is one GEMM [G·H, H]×[H, N] (W_hh·hᵀ) plus the gate nonlinearities in plain
 * loops. The directions are not merged into shared GEMMs: their step GEMMs have different
 * W_hh and states (a block-diagonal weight would double the work), and stacking the large
 * input-projection and weight-gradient GEMMs measured no faster while doubling the gate
 * scratch (BENCHMARKS.md, "cpu RNN and ctcLoss").
 * Backward keeps the gate gradients of every step ([T·N, G·H]) so that dx, dW_ih and dW_hh
 * are again three large GEMMs; only dh flows step by step ([N, G·H]×[G·H, H]).
 * Rows past a sequence's length take part in the step GEMMs (cheaper than compacting the
 * batch) but their state is left untouched and their gate gradients are 0.
 *
 * Not here: running the two directions on separate threads (the large GEMMs use OpenBLAS's
 * threads; the time steps run on one, see `singleThreaded`).
 */
import { registerKernel } from "../../op_registry.ts";
import type { Tensor } from "../../tensor.ts";
import type { RnnLayerAttrs, RnnLayerBackwardAttrs } from "../../rnn.ts";
import { cpuData, cpuOutput } from "./backend.ts";
import { blasInfo, gemm, setBlasThreads } from "./blas.ts";

type F = Float32Array | Float64Array;

function data(t: Tensor): F {
  return cpuData(t) as F;
}

function scratch(like: F, size: number): F {
  return like instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
}

function lengthsOf(attrs: RnnLayerAttrs, N: number, T: number): Int32Array {
  const lengths = new Int32Array(N);
  for (let b = 0; b < N; b++) lengths[b] = attrs.lengths ? attrs.lengths[b] : T;
  return lengths;
}

/**
 * tanh through one exp: about twice as fast as Math.tanh in V8, within a few 1e-16 absolute
 * (near 0 its relative error grows, but no gate value depends on that).
 */
function tanh(x: number): number {
  return 2 / (1 + Math.exp(-2 * x)) - 1;
}

/**
 * Runs the time steps with OpenBLAS on one thread. The step products ([N, H]×[H, G·H] with
 * N a batch of 8 or so) are too small to split: with 2 threads a bidirectional GRU layer's
 * forward + backward took 1.4× as long as with 1 (measured on 2 busy cores), so only the
 * large input-projection and weight-gradient GEMMs use the configured threads.
 */
function singleThreaded(steps: () => void): void {
  const threads = blasInfo().threads;
  if (threads <= 1) return steps();
  setBlasThreads(1);
  try {
    steps();
  } finally {
    setBlasThreads(threads);
  }
}

// ---- GRU -------------------------------------------------------------------------------------

registerKernel<RnnLayerAttrs>("gruLayer", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const x = data(inputs[0]), h0 = data(inputs[1]);
  const [T, N, I] = inputs[0].shape;
  const H = inputs[1].shape[2];
  const D = attrs.bidirectional ? 2 : 1;
  const G = 3 * H, DH = D * H, W = 4 * H;
  const y = cpuOutput(backend, outputs[0].dtype, T * N * DH) as F;
  const hN = cpuOutput(backend, outputs[1].dtype, D * N * H) as F;
  const ws = cpuOutput(backend, outputs[2].dtype, D * T * N * W) as F;
  const lengths = lengthsOf(attrs, N, T);
  const gi = scratch(x, T * N * G), gh = scratch(x, N * G), h = scratch(x, N * H);
  for (let d = 0; d < D; d++) {
    const wIh = data(inputs[2 + 4 * d]), wHh = data(inputs[3 + 4 * d]);
    const bIh = data(inputs[4 + 4 * d]), bHh = data(inputs[5 + 4 * d]);
    const reverse = d === 1;
    gemm(false, true, T * N, G, I, 1, x, 0, I, wIh, 0, I, 0, gi, 0, G);
    h.set(h0.subarray(d * N * H, (d + 1) * N * H));
    singleThreaded(() => {
      for (let step = 0; step < T; step++) {
        const t = reverse ? T - 1 - step : step;
        // gh [G, N] = W_hh·hᵀ: the weight as GEMM's A costs OpenBLAS less than as a transposed B
        // for N of a few rows (BENCHMARKS.md, "cpu RNN and ctcLoss").
        gemm(false, true, G, N, H, 1, wHh, 0, H, h, 0, H, 0, gh, 0, N);
        for (let b = 0; b < N; b++) {
          if (t >= lengths[b]) continue; // y stays 0; h keeps its value (frozen or not yet started)
          const gio = (t * N + b) * G, ho = b * H;
          const yo = (t * N + b) * DH + d * H;
          const wo = ((d * T + t) * N + b) * W;
          for (let j = 0; j < H; j++) {
            const r = 1 / (1 + Math.exp(-(gi[gio + j] + bIh[j] + gh[j * N + b] + bHh[j])));
            const z = 1 / (1 + Math.exp(-(gi[gio + H + j] + bIh[H + j] + gh[(H + j) * N + b] + bHh[H + j])));
            const hn = gh[(2 * H + j) * N + b] + bHh[2 * H + j];
            const n = tanh(gi[gio + 2 * H + j] + bIh[2 * H + j] + r * hn);
            const hv = (1 - z) * n + z * h[ho + j];
            h[ho + j] = hv;
            y[yo + j] = hv;
            ws[wo + j] = r;
            ws[wo + H + j] = z;
            ws[wo + 2 * H + j] = n;
            ws[wo + 3 * H + j] = hn;
          }
        }
      }
    });
    hN.set(h, d * N * H);
  }
  return [y, hN, ws];
});

/**
 * Fills hp [T·N, H] with the state each valid (t, b) step started from: h0 at a sequence's
 * first processed frame, else the direction's output at the previous processed frame.
 */
function previousStates(
  hp: F,
  y: F,
  h0: F,
  lengths: Int32Array,
  dims: { T: number; N: number; H: number; D: number; d: number },
): void {
  const { T, N, H, D, d } = dims;
  const reverse = d === 1, DH = D * H;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < N; b++) {
      const L = lengths[b];
      const o = (t * N + b) * H;
      if (t >= L) {
        for (let j = 0; j < H; j++) hp[o + j] = 0;
        continue;
      }
      const first = reverse ? t === L - 1 : t === 0;
      const src = first ? h0 : y;
      const so = first ? (d * N + b) * H : ((reverse ? t + 1 : t - 1) * N + b) * DH + d * H;
      for (let j = 0; j < H; j++) hp[o + j] = src[so + j];
    }
  }
}

/** Column sums of a [rows, cols] matrix into `out` (accumulated in float64). */
function columnSums(m: F, rows: number, cols: number, out: F): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) acc[c] += m[o + c];
  }
  out.set(acc);
}

registerKernel<RnnLayerBackwardAttrs>("gruLayerBackward", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const [xT, h0T, yT, wsT, dyT, dhNT] = inputs;
  const x = data(xT), h0 = data(h0T), y = data(yT), ws = data(wsT), dy = data(dyT), dhN = data(dhNT);
  const [T, N, I] = xT.shape;
  const H = h0T.shape[2];
  const D = attrs.bidirectional ? 2 : 1;
  const G = 3 * H, DH = D * H, W = 4 * H;
  const dtype = outputs[0].dtype;
  const dx = cpuOutput(backend, dtype, attrs.needsInputGrad ? T * N * I : 0) as F;
  const dh0 = cpuOutput(backend, dtype, D * N * H) as F;
  const lengths = lengthsOf(attrs, N, T);
  const dgi = scratch(x, T * N * G), dgh = scratch(x, T * N * G), hp = scratch(x, T * N * H);
  const dh = scratch(x, N * H);
  const result: F[] = [dx, dh0];
  for (let d = 0; d < D; d++) {
    const wIh = data(inputs[6 + 2 * d]), wHh = data(inputs[7 + 2 * d]);
    const reverse = d === 1;
    previousStates(hp, y, h0, lengths, { T, N, H, D, d });
    dgi.fill(0);
    dgh.fill(0);
    dh.set(dhN.subarray(d * N * H, (d + 1) * N * H));
    // Steps in the reverse of the order forward processed them.
    singleThreaded(() => {
      for (let step = T - 1; step >= 0; step--) {
        const t = reverse ? T - 1 - step : step;
        for (let b = 0; b < N; b++) {
          if (t >= lengths[b]) continue; // dh passes through unchanged
          const go = (t * N + b) * G, ho = b * H, po = (t * N + b) * H;
          const yo = (t * N + b) * DH + d * H;
          const wo = ((d * T + t) * N + b) * W;
          for (let j = 0; j < H; j++) {
            const r = ws[wo + j], z = ws[wo + H + j], n = ws[wo + 2 * H + j], hn = ws[wo + 3 * H + j];
            const g = dh[ho + j] + dy[yo + j];
            const dnPre = g * (1 - z) * (1 - n * n);
            const dzPre = g * (hp[po + j] - n) * z * (1 - z);
            const drPre = dnPre * hn * r * (1 - r);
            dgi[go + j] = drPre;
            dgi[go + H + j] = dzPre;
            dgi[go + 2 * H + j] = dnPre;
            dgh[go + j] = drPre;
            dgh[go + H + j] = dzPre;
            dgh[go + 2 * H + j] = dnPre * r;
            dh[ho + j] = g * z; // the direct path h' = ... + z·h; the GEMM below adds the rest
          }
        }
        // dh += dgh[t] · W_hh: [N, 3H] × [3H, H] (rows past their length have dgh = 0).
        gemm(false, false, N, H, G, 1, dgh, t * N * G, G, wHh, 0, H, 1, dh, 0, H);
      }
    });
    dh0.set(dh, d * N * H);
    const dwIh = cpuOutput(backend, dtype, G * I) as F, dwHh = cpuOutput(backend, dtype, G * H) as F;
    const dbIh = cpuOutput(backend, dtype, G) as F, dbHh = cpuOutput(backend, dtype, G) as F;
    if (attrs.needsInputGrad) {
      gemm(false, false, T * N, I, G, 1, dgi, 0, G, wIh, 0, I, d === 0 ? 0 : 1, dx, 0, I);
    }
    gemm(true, false, G, I, T * N, 1, dgi, 0, G, x, 0, I, 0, dwIh, 0, I);
    gemm(true, false, G, H, T * N, 1, dgh, 0, G, hp, 0, H, 0, dwHh, 0, H);
    columnSums(dgi, T * N, G, dbIh);
    columnSums(dgh, T * N, G, dbHh);
    result.push(dwIh, dwHh, dbIh, dbHh);
  }
  return result;
});

// ---- LSTM ------------------------------------------------------------------------------------

registerKernel<RnnLayerAttrs>("lstmLayer", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const x = data(inputs[0]), h0 = data(inputs[1]), c0 = data(inputs[2]);
  const [T, N, I] = inputs[0].shape;
  const H = inputs[1].shape[2];
  const D = attrs.bidirectional ? 2 : 1;
  const G = 4 * H, DH = D * H, W = 5 * H;
  const dtype = outputs[0].dtype;
  const y = cpuOutput(backend, dtype, T * N * DH) as F;
  const hN = cpuOutput(backend, dtype, D * N * H) as F;
  const cN = cpuOutput(backend, dtype, D * N * H) as F;
  const ws = cpuOutput(backend, dtype, D * T * N * W) as F;
  const lengths = lengthsOf(attrs, N, T);
  const gi = scratch(x, T * N * G), gh = scratch(x, N * G), h = scratch(x, N * H), c = scratch(x, N * H);
  for (let d = 0; d < D; d++) {
    const wIh = data(inputs[3 + 4 * d]), wHh = data(inputs[4 + 4 * d]);
    const bIh = data(inputs[5 + 4 * d]), bHh = data(inputs[6 + 4 * d]);
    const reverse = d === 1;
    gemm(false, true, T * N, G, I, 1, x, 0, I, wIh, 0, I, 0, gi, 0, G);
    h.set(h0.subarray(d * N * H, (d + 1) * N * H));
    c.set(c0.subarray(d * N * H, (d + 1) * N * H));
    singleThreaded(() => {
      for (let step = 0; step < T; step++) {
        const t = reverse ? T - 1 - step : step;
        // gh [G, N] = W_hh·hᵀ: the weight as GEMM's A costs OpenBLAS less than as a transposed B
        // for N of a few rows (BENCHMARKS.md, "cpu RNN and ctcLoss").
        gemm(false, true, G, N, H, 1, wHh, 0, H, h, 0, H, 0, gh, 0, N);
        for (let b = 0; b < N; b++) {
          if (t >= lengths[b]) continue;
          const gio = (t * N + b) * G, ho = b * H;
          const yo = (t * N + b) * DH + d * H;
          const wo = ((d * T + t) * N + b) * W;
          for (let j = 0; j < H; j++) {
            const ig = 1 / (1 + Math.exp(-(gi[gio + j] + bIh[j] + gh[j * N + b] + bHh[j])));
            const fg = 1 / (1 + Math.exp(-(gi[gio + H + j] + bIh[H + j] + gh[(H + j) * N + b] + bHh[H + j])));
            const gg = tanh(gi[gio + 2 * H + j] + bIh[2 * H + j] + gh[(2 * H + j) * N + b] + bHh[2 * H + j]);
            const og = 1 /
              (1 +
                Math.exp(-(gi[gio + 3 * H + j] + bIh[3 * H + j] + gh[(3 * H + j) * N + b] + bHh[3 * H + j])));
            const cv = fg * c[ho + j] + ig * gg;
            const hv = og * tanh(cv);
            c[ho + j] = cv;
            h[ho + j] = hv;
            y[yo + j] = hv;
            ws[wo + j] = ig;
            ws[wo + H + j] = fg;
            ws[wo + 2 * H + j] = gg;
            ws[wo + 3 * H + j] = og;
            ws[wo + 4 * H + j] = cv;
          }
        }
      }
    });
    hN.set(h, d * N * H);
    cN.set(c, d * N * H);
  }
  return [y, hN, cN, ws];
});

registerKernel<RnnLayerBackwardAttrs>("lstmLayerBackward", "cpu", ({ inputs, attrs, outputs, backend }) => {
  const [xT, h0T, c0T, yT, wsT, dyT, dhNT, dcNT] = inputs;
  const x = data(xT), h0 = data(h0T), c0 = data(c0T), y = data(yT), ws = data(wsT);
  const dy = data(dyT), dhN = data(dhNT), dcN = data(dcNT);
  const [T, N, I] = xT.shape;
  const H = h0T.shape[2];
  const D = attrs.bidirectional ? 2 : 1;
  const G = 4 * H, DH = D * H, W = 5 * H;
  const dtype = outputs[0].dtype;
  const dx = cpuOutput(backend, dtype, attrs.needsInputGrad ? T * N * I : 0) as F;
  const dh0 = cpuOutput(backend, dtype, D * N * H) as F;
  const dc0 = cpuOutput(backend, dtype, D * N * H) as F;
  const lengths = lengthsOf(attrs, N, T);
  const dg = scratch(x, T * N * G), hp = scratch(x, T * N * H);
  const dh = scratch(x, N * H), dc = scratch(x, N * H);
  const result: F[] = [dx, dh0, dc0];
  for (let d = 0; d < D; d++) {
    const wIh = data(inputs[8 + 2 * d]), wHh = data(inputs[9 + 2 * d]);
    const reverse = d === 1;
    previousStates(hp, y, h0, lengths, { T, N, H, D, d });
    dg.fill(0);
    dh.set(dhN.subarray(d * N * H, (d + 1) * N * H));
    dc.set(dcN.subarray(d * N * H, (d + 1) * N * H));
    singleThreaded(() => {
      for (let step = T - 1; step >= 0; step--) {
        const t = reverse ? T - 1 - step : step;
        for (let b = 0; b < N; b++) {
          const L = lengths[b];
          if (t >= L) continue;
          const go = (t * N + b) * G, ho = b * H;
          const yo = (t * N + b) * DH + d * H;
          const wo = ((d * T + t) * N + b) * W;
          const first = reverse ? t === L - 1 : t === 0;
          // The cell state this step started from: c0, or the previous processed step's c.
          const cpSrc = first ? c0 : ws;
          const cpo = first ? (d * N + b) * H : ((d * T + (reverse ? t + 1 : t - 1)) * N + b) * W + 4 * H;
          for (let j = 0; j < H; j++) {
            const ig = ws[wo + j], fg = ws[wo + H + j], gg = ws[wo + 2 * H + j], og = ws[wo + 3 * H + j];
            const tc = tanh(ws[wo + 4 * H + j]);
            const gH = dh[ho + j] + dy[yo + j];
            const gC = dc[ho + j] + gH * og * (1 - tc * tc);
            dg[go + j] = gC * gg * ig * (1 - ig);
            dg[go + H + j] = gC * cpSrc[cpo + j] * fg * (1 - fg);
            dg[go + 2 * H + j] = gC * ig * (1 - gg * gg);
            dg[go + 3 * H + j] = gH * tc * og * (1 - og);
            dc[ho + j] = gC * fg;
            dh[ho + j] = 0; // h reaches the next step only through the gates: the GEMM below
          }
        }
        gemm(false, false, N, H, G, 1, dg, t * N * G, G, wHh, 0, H, 1, dh, 0, H);
      }
    });
    dh0.set(dh, d * N * H);
    dc0.set(dc, d * N * H);
    const dwIh = cpuOutput(backend, dtype, G * I) as F, dwHh = cpuOutput(backend, dtype, G * H) as F;
    const dbIh = cpuOutput(backend, dtype, G) as F, dbHh = cpuOutput(backend, dtype, G) as F;
    if (attrs.needsInputGrad) {
      gemm(false, false, T * N, I, G, 1, dg, 0, G, wIh, 0, I, d === 0 ? 0 : 1, dx, 0, I);
    }
    gemm(true, false, G, I, T * N, 1, dg, 0, G, x, 0, I, 0, dwIh, 0, I);
    gemm(true, false, G, H, T * N, 1, dg, 0, G, hp, 0, H, 0, dwHh, 0, H);
    columnSums(dg, T * N, G, dbIh);
    dbHh.set(dbIh);
    result.push(dwIh, dwHh, dbIh, dbHh);
  }
  return result;
});
