/**
 * webgpu kernels of `gruLayer`, `lstmLayer` and their backward ops (declared in ops/rnn.ts,
 * semantics and layouts as the cpu reference ops/backends/cpu/rnn.ts defines them).
 *
 * Forward: the input projections of every frame and both directions are one GEMM
 * [T·N, I]×[I, D·G] through the webgpu `matmul` kernel (both directions' W_ih stacked).
 * Then one dispatch per time step, both directions in the same dispatch: invocation (j, b, d)
 * computes the G/H gate rows j of W_hh_d · h (the previous state of sequence b), the gate
 * nonlinearities, the new state, y and the reserve space at that step. The state
 * ([nStates, D, N, H]: h, and c for LSTM) ping-pongs between two buffers, because a step
 * reads every element of the previous state while other invocations write the new one.
 * Why not one kernel looping over time: WGSL's barriers (storageBarrier, workgroupBarrier)
 * synchronise one workgroup only and there is no grid-wide barrier, so a single kernel would
 * have to fit a whole step (D·N·H invocations) into one workgroup (at most 256); queue order
 * between dispatches is the only device-wide barrier. No step reads anything back to the
 * host; the lengths travel in a small buffer written together with the weights.
 *
 * Backward: T + 1 dispatches in reverse step order. Dispatch k first completes dh for the
 * state after step T−k (the carried direct term plus Σ_r dgh[r]·W_hh[r, j] of the step done
 * by dispatch k−1: a column of W_hh, neighbouring invocations reading neighbouring
 * addresses), then computes the gate gradients of step T−1−k, which only need dh at their
 * own index. The last dispatch only completes dh = dh0. Gate gradients of every step are kept
 * (dgi [T·N, D·G] and dgh [D, T·N, G]), so dx, dW_ih and dW_hh are GEMMs through `matmul`
 * and the bias gradients column sums through `sum`: fixed reduction orders, no atomics, so
 * weight gradients are the same run to run.
 *
 * When H % 4 = 0 the W_hh reads are vec4 loads (rows along k forward; four units per
 * invocation backward), which is what llvmpipe, bounds-checking every storage load, needs
 * most; other H take the scalar variant of the same generated shader.
 *
 * Padded steps (t ≥ lengths[b]) write y = 0 and leave the state as it is (forward), and give
 * zero gate gradients with dh passed through unchanged (backward), as on the cpu.
 *
 * W_hh, the biases and the lengths share one buffer (`prm`) because a shader may bind only 8
 * storage buffers under WebGPU's default limits, which is what the device is created with.
 *
 * Not here: workgroup-memory tiling of W_hh · h (the batch rows of one step share W_hh
 * through the cache only, and forward reads rows, which neighbouring invocations do not read
 * at neighbouring addresses: a transposed copy of W_hh would coalesce them on GPUs),
 * persistent kernels, and float64 (WGSL has none).
 */
import { type Kernel, registerKernel } from "../../op_registry.ts";
import type { RnnLayerAttrs, RnnLayerBackwardAttrs } from "../../rnn.ts";
import { matmul } from "../../matmul.ts";
import { reshape } from "../../reshape.ts";
import { sum } from "../../reduce_sum.ts";
import { noGrad } from "../../tape.ts";
import { TensorScope } from "../../scopes.ts";
import { Tensor } from "../../tensor.ts";
import { sizeOf } from "../../shape.ts";
import {
  type BindingKind,
  gpuBackend,
  gpuBuffer,
  type GpuStorage,
  type WebGpuBackend,
  wgslMeta,
} from "./backend.ts";

const WORKGROUP = 64;

/** What differs between the two cells: gates per unit, reserve words per unit, state tensors. */
interface Cell {
  kind: "gru" | "lstm";
  /** Gate blocks in W_ih / W_hh: 3 (r, z, n) or 4 (i, f, g, o). */
  gates: number;
  /** Reserve-space values per unit and step: GRU r, z, n, W_hn·h + b_hn; LSTM i, f, g, o, c. */
  reserve: number;
  /** Recurrent states: GRU h; LSTM h and c. */
  nStates: number;
}

const GRU: Cell = { kind: "gru", gates: 3, reserve: 4, nStates: 1 };
const LSTM: Cell = { kind: "lstm", gates: 4, reserve: 5, nStates: 2 };

interface Dims {
  T: number;
  N: number;
  I: number;
  H: number;
  D: number;
}

// ---- WGSL ------------------------------------------------------------------------------------

// Parameter block of the step kernels: [T, N, H, D, step or dispatch index, W_hh offset,
// b_ih offset, b_hh offset, lengths offset] (offsets into the packed `prm` buffer, in floats).
const COMMON = `fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// tanh without overflow for large |x| (exp(-2|x|) only underflows to 0).
fn tanh_stable(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }`;

/** One storage binding: name, access, element type (f32 unless given). */
type Binding = readonly [string, BindingKind] | readonly [string, BindingKind, string];

function declarations(list: readonly Binding[]): string {
  return list.map(([name, kind, type], i) =>
    `@group(0) @binding(${i}) var<storage, ${kind === "read" ? "read" : "read_write"}> ${name}: array<${
      type ?? "f32"
    }>;`
  ).join("\n") + `\n${wgslMeta(list.length)}`;
}

/**
 * With H % 4 = 0 the step kernels also bind `prm` as vec4s (`wv`), so W_hh is read four
 * floats per load: about 4× faster on llvmpipe, where each storage load is bounds-checked.
 */
const VEC_VIEW: Binding = ["wv", "read", "vec4<f32>"];

/** The first lines of every step kernel: sizes, the invocation's (b, d), the sequence length. */
const PROLOGUE = `let T = m(0u); let N = m(1u); let H = m(2u); let D = m(3u);
  let b = g.y; let d = g.z;
  let L = u32(prm[m(8u) + b]);
  let so = (d * N + b) * H;`;

/** WGSL accumulating a_q = Σ_k W_hh_d[q·H + j, k] · h[k] for each gate q (h: sIn[so..]). */
function rowDots(gates: number, vec: boolean): string {
  const q = [...Array(gates).keys()];
  const init = q.map((i) => `var a${i} = 0.0;`).join(" ");
  if (!vec) {
    return `let w0 = m(5u) + (d * ${gates}u * H + j) * H;
  ${init}
  for (var k = 0u; k < H; k++) {
    let h = sIn[so + k];
    ${q.map((i) => `a${i} += prm[w0 + ${i}u * H * H + k] * h;`).join(" ")}
  }`;
  }
  return `let w0 = (m(5u) + (d * ${gates}u * H + j) * H) / 4u;
  let H4 = H / 4u;
  ${init}
  for (var k = 0u; k < H4; k++) {
    let o = so + 4u * k;
    let h = vec4<f32>(sIn[o], sIn[o + 1u], sIn[o + 2u], sIn[o + 3u]);
    ${q.map((i) => `a${i} += dot(wv[w0 + ${i}u * H * H4 + k], h);`).join(" ")}
  }`;
}

/**
 * Forward step s: invocation (j, b, d) updates unit j of sequence b, direction d. The state
 * buffers are [nStates, D, N, H] (LSTM: h, then c at offset D·N·H).
 */
function forwardSource(cell: Cell, vec: boolean): string {
  const isGru = cell.kind === "gru";
  const R = cell.reserve;
  const zeroReserve = [...Array(R).keys()].map((i) => `ws[wo + ${i}u * H] = 0.0;`).join(" ");
  const math = isGru
    ? `let r = sigmoid(gi[go] + prm[bi] + a0 + prm[bh]);
  let z = sigmoid(gi[go + H] + prm[bi + H] + a1 + prm[bh + H]);
  let hn = a2 + prm[bh + 2u * H];
  let n = tanh_stable(gi[go + 2u * H] + prm[bi + 2u * H] + r * hn);
  let hv = (1.0 - z) * n + z * hp;
  sOut[so + j] = hv;
  y[yo] = hv;
  ws[wo] = r; ws[wo + H] = z; ws[wo + 2u * H] = n; ws[wo + 3u * H] = hn;`
    : `let ig = sigmoid(gi[go] + prm[bi] + a0 + prm[bh]);
  let fg = sigmoid(gi[go + H] + prm[bi + H] + a1 + prm[bh + H]);
  let gg = tanh_stable(gi[go + 2u * H] + prm[bi + 2u * H] + a2 + prm[bh + 2u * H]);
  let og = sigmoid(gi[go + 3u * H] + prm[bi + 3u * H] + a3 + prm[bh + 3u * H]);
  let cv = fg * sIn[dc + so + j] + ig * gg;
  let hv = og * tanh_stable(cv);
  sOut[so + j] = hv;
  sOut[dc + so + j] = cv;
  y[yo] = hv;
  ws[wo] = ig; ws[wo + H] = fg; ws[wo + 2u * H] = gg; ws[wo + 3u * H] = og; ws[wo + 4u * H] = cv;`;
  const hold = isGru ? "sOut[so + j] = hp;" : "sOut[so + j] = hp; sOut[dc + so + j] = sIn[dc + so + j];";
  const bindings: Binding[] = [
    ["gi", "read"],
    ["prm", "read"],
    ["sIn", "read"],
    ["sOut", "write"],
    [
      "y",
      "write",
    ],
    ["ws", "write"],
    ...(vec ? [VEC_VIEW] : []),
  ];
  return `${COMMON}
${declarations(bindings)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${PROLOGUE}
  let j = g.x;
  if (j >= H) { return; }
  let dc = D * N * H;
  let s = m(4u);
  let t = select(s, T - 1u - s, d == 1u);
  let hp = sIn[so + j];
  let yo = (t * N + b) * D * H + d * H + j;
  let wo = ((d * T + t) * N + b) * ${R}u * H + j;
  // A padded step: y is 0 and the state stays (frozen after the end, or not yet started).
  if (t >= L) { ${hold} y[yo] = 0.0; ${zeroReserve} return; }
  ${rowDots(cell.gates, vec)}
  let bi = m(6u) + d * ${cell.gates}u * H + j;
  let bh = m(7u) + d * ${cell.gates}u * H + j;
  let go = (t * N + b) * D * ${cell.gates}u * H + d * ${cell.gates}u * H + j;
  ${math}
}`;
}

/**
 * Backward dispatch k: invocation (lane, b, d) handles units 4·lane..4·lane+3 with `vec`
 * (one vec4 of each W_hh row), else unit lane.
 */
function backwardSource(cell: Cell, vec: boolean): string {
  const isGru = cell.kind === "gru";
  const G = `${cell.gates}u * H`;
  const R = cell.reserve;
  const U = vec ? 4 : 1;
  const q = [...Array(cell.gates).keys()];
  const zeroGates = q.map((i) => `dgi[gio + ${i}u * H] = 0.0; dgh[gho + ${i}u * H] = 0.0;`).join(" ");
  const math = isGru
    ? `let r = ws[wo]; let z = ws[wo + H]; let n = ws[wo + 2u * H]; let hn = ws[wo + 3u * H];
    let gr = dh + dy[yo];
    let dn = gr * (1.0 - z) * (1.0 - n * n);
    let dz = gr * (hp[((d * T + t) * N + b) * H + j] - n) * z * (1.0 - z);
    let dr = dn * hn * r * (1.0 - r);
    dgi[gio] = dr; dgi[gio + H] = dz; dgi[gio + 2u * H] = dn;
    dgh[gho] = dr; dgh[gho + H] = dz; dgh[gho + 2u * H] = dn * r;
    carry[so + j] = gr * z; // the direct path h' = ... + z·h; the next dispatch adds dgh·W_hh`
    : `// The cell state this step started from: c0, or the previous processed step's c.
    let first = select(t == 0u, t == L - 1u, d == 1u);
    let tq = select(t - 1u, t + 1u, d == 1u);
    var cp = c0[so + j];
    if (!first) { cp = ws[((d * T + tq) * N + b) * ${R}u * H + 4u * H + j]; }
    let ig = ws[wo]; let fg = ws[wo + H]; let gg = ws[wo + 2u * H]; let og = ws[wo + 3u * H];
    let tc = tanh_stable(ws[wo + 4u * H]);
    let gh = dh + dy[yo];
    let gc = carry[dc + so + j] + gh * og * (1.0 - tc * tc);
    let di = gc * gg * ig * (1.0 - ig);
    let df = gc * cp * fg * (1.0 - fg);
    let dg = gc * ig * (1.0 - gg * gg);
    let dout = gh * tc * og * (1.0 - og);
    dgi[gio] = di; dgi[gio + H] = df; dgi[gio + 2u * H] = dg; dgi[gio + 3u * H] = dout;
    dgh[gho] = di; dgh[gho + H] = df; dgh[gho + 2u * H] = dg; dgh[gho + 3u * H] = dout;
    carry[dc + so + j] = gc * fg;
    carry[so + j] = 0.0; // h reaches the previous step only through the gates: dgh·W_hh`;
  const inputs: Binding[] = isGru
    ? [["prm", "read"], ["ws", "read"], ["hp", "read"], ["dy", "read"]]
    : [["prm", "read"], ["ws", "read"], ["c0", "read"], ["dy", "read"]];
  const bindings: Binding[] = [
    ...inputs,
    ["carry", "write"],
    ["dgi", "write"],
    ["dgh", "write"],
    ...(vec ? [VEC_VIEW] : []),
  ];
  const carried = vec
    ? "vec4<f32>(carry[so + j0], carry[so + j0 + 1u], carry[so + j0 + 2u], carry[so + j0 + 3u])"
    : "carry[so + j0]";
  const column = vec ? "wv[(w + r * H) / 4u]" : "prm[w + r * H]";
  return `${COMMON}
${declarations(bindings)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${PROLOGUE}
  let j0 = g.x * ${U}u;
  if (j0 >= H) { return; }
  let k = m(4u);
  let dc = D * N * H; // LSTM: dc follows dh in carry
  var dhs = ${carried};
  if (k > 0u) {
    // Complete dh with the gate gradients of the step dispatch k − 1 did (step T − k):
    // column j of W_hh_d, read across the invocations' units.
    let sp = T - k;
    let tp = select(sp, T - 1u - sp, d == 1u);
    let base = ((d * T + tp) * N + b) * ${G};
    let w = m(5u) + d * ${G} * H + j0;
    for (var r = 0u; r < ${G}; r++) { dhs += dgh[base + r] * ${column}; }
  }
  let s = T - 1u - min(k, T - 1u);
  let t = select(s, T - 1u - s, d == 1u);
  for (var u = 0u; u < ${U}u; u++) {
    let j = j0 + u;
    let dh = dhs${vec ? "[u]" : ""};
    if (k == T) { carry[so + j] = dh; continue; }
    let gio = (t * N + b) * D * ${G} + d * ${G} + j;
    let gho = ((d * T + t) * N + b) * ${G} + j;
    let yo = (t * N + b) * D * H + d * H + j;
    let wo = ((d * T + t) * N + b) * ${R}u * H + j;
    // A padded step: no gate gradient, dh passes through to the previous step unchanged.
    if (t >= L) { ${zeroGates} carry[so + j] = dh; continue; }
    ${math}
  }
}`;
}

/** hp [D, T·N, H]: the state each valid step started from (0 on padded steps). */
function previousStatesSource(): string {
  return `${declarations([["prm", "read"], ["y", "read"], ["h0", "read"], ["hp", "write"]])}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let T = m(0u); let N = m(1u); let H = m(2u); let D = m(3u);
  let i = g.x + g.y * m(9u);
  if (i >= D * T * N * H) { return; }
  let j = i % H;
  let b = (i / H) % N;
  let t = (i / (H * N)) % T;
  let d = i / (H * N * T);
  let L = u32(prm[m(8u) + b]);
  if (t >= L) { hp[i] = 0.0; return; }
  let first = select(t == 0u, t == L - 1u, d == 1u);
  let tq = select(t - 1u, t + 1u, d == 1u);
  if (first) { hp[i] = h0[(d * N + b) * H + j]; } else { hp[i] = y[(tq * N + b) * D * H + d * H + j]; }
}`;
}

// ---- host side -------------------------------------------------------------------------------

function dimsOf(x: Tensor, h0: Tensor, attrs: RnnLayerAttrs): Dims {
  const [T, N, I] = x.shape;
  return { T, N, I, H: h0.shape[2], D: attrs.bidirectional ? 2 : 1 };
}

/** A new float32 tensor (contents undefined) owning a fresh buffer; the kernel's scope frees it. */
function fresh(gpu: WebGpuBackend, shape: readonly number[]): Tensor {
  return new Tensor(shape, "float32", gpu, gpu.alloc("float32", sizeOf(shape)));
}

/** The buffer of `t` as one of the kernel's outputs: one more reference, so it outlives the scope. */
function output(gpu: WebGpuBackend, t: Tensor): GpuStorage {
  return gpu.retain(t.storage) as GpuStorage;
}

/** Buffer-to-buffer copies (offsets and sizes in floats), in one submission. */
function copy(
  gpu: WebGpuBackend,
  list: readonly { src: Tensor; dst: Tensor; srcAt?: number; dstAt?: number; size: number }[],
): void {
  const enc = gpu.device.createCommandEncoder();
  for (const c of list) {
    if (c.size === 0) continue;
    enc.copyBufferToBuffer(
      gpuBuffer(c.src),
      4 * (c.srcAt ?? 0),
      gpuBuffer(c.dst),
      4 * (c.dstAt ?? 0),
      4 * c.size,
    );
  }
  gpu.device.queue.submit([enc.finish()]);
}

/** Both directions' [G, F] matrices stacked into one [D·G, F] (the GEMM operands of W_ih). */
function stackDirections(gpu: WebGpuBackend, parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0];
  const [rows, cols] = parts[0].shape;
  const out = fresh(gpu, [parts.length * rows, cols]);
  copy(gpu, parts.map((p, i) => ({ src: p, dst: out, dstAt: i * p.size, size: p.size })));
  return out;
}

/** One output buffer per block, copied out of `t` whose leading axis has `count` blocks (directions, states). */
function splitBlocks(gpu: WebGpuBackend, t: Tensor, count: number): GpuStorage[] {
  if (count === 1) return [output(gpu, t)];
  const size = t.size / count;
  const parts = [...Array(count)].map(() => fresh(gpu, [size]));
  copy(gpu, parts.map((p, i) => ({ src: t, dst: p, srcAt: i * size, size })));
  return parts.map((p) => output(gpu, p));
}

/**
 * The step kernels' read-only block `prm`: W_hh of every direction (D·G rows of H), b_ih
 * [D·G], b_hh [D·G] (left unwritten when not given: backward does not read them), then the
 * lengths as floats (exact: lengths are far below 2^24). Returns it and the step parameter
 * blocks.
 */
function parameterBlock(
  gpu: WebGpuBackend,
  dims: Dims,
  options: {
    gates: number;
    lengths: readonly number[] | null;
    wHh: readonly Tensor[];
    bIh?: readonly Tensor[];
    bHh?: readonly Tensor[];
  },
): { prm: Tensor; meta: (step: number) => Uint32Array } {
  const { T, N, H, D } = dims;
  const G = options.gates * H;
  const whhAt = 0, bihAt = D * G * H, bhhAt = bihAt + D * G, lenAt = bhhAt + D * G;
  const prm = fresh(gpu, [lenAt + N]);
  const copies = [];
  for (let d = 0; d < D; d++) {
    copies.push({ src: options.wHh[d], dst: prm, dstAt: whhAt + d * G * H, size: G * H });
    if (options.bIh) copies.push({ src: options.bIh[d], dst: prm, dstAt: bihAt + d * G, size: G });
    if (options.bHh) copies.push({ src: options.bHh[d], dst: prm, dstAt: bhhAt + d * G, size: G });
  }
  copy(gpu, copies);
  const lens = new Float32Array(N);
  for (let b = 0; b < N; b++) lens[b] = options.lengths ? options.lengths[b] : T;
  gpu.device.queue.writeBuffer(gpuBuffer(prm), 4 * lenAt, lens);
  return { prm, meta: (step) => Uint32Array.from([T, N, H, D, step, whhAt, bihAt, bhhAt, lenAt]) };
}

function forwardKernel(cell: Cell): Kernel<RnnLayerAttrs> {
  return ({ inputs, attrs, backend }) =>
    noGrad(() => {
      const gpu = gpuBackend(backend);
      using _scope = new TensorScope();
      const x = inputs[0];
      const dims = dimsOf(x, inputs[1], attrs);
      const { T, N, I, H, D } = dims;
      const vec = H % 4 === 0;
      const w = (d: number, p: number): Tensor => inputs[1 + cell.nStates + 4 * d + p];
      const dirs = D === 1 ? [0] : [0, 1];
      // Input projections of every frame and direction, one GEMM: [T·N, I]·[D·G, I]ᵀ → [T·N, D·G].
      const gi = matmul(reshape(x, [T * N, I]), stackDirections(gpu, dirs.map((d) => w(d, 0))), {
        transB: true,
      });
      const { prm, meta } = parameterBlock(gpu, dims, {
        gates: cell.gates,
        lengths: attrs.lengths,
        wHh: dirs.map((d) => w(d, 1)),
        bIh: dirs.map((d) => w(d, 2)),
        bHh: dirs.map((d) => w(d, 3)),
      });
      const y = fresh(gpu, [T, N, D * H]);
      const ws = fresh(gpu, [D, T, N, cell.reserve * H]);
      // Two state buffers [nStates, D, N, H], swapped every step; the first holds h0 (, c0).
      const stateSize = D * N * H;
      const ping = [0, 1].map(() => fresh(gpu, [cell.nStates, D, N, H]));
      copy(
        gpu,
        inputs.slice(1, 1 + cell.nStates).map((t, i) => ({
          src: t,
          dst: ping[0],
          dstAt: i * stateSize,
          size: stateSize,
        })),
      );
      const pipeline = gpu.pipeline(
        `${cell.kind}Layer|step|${vec ? "vec4" : "scalar"}`,
        ["read", "read", "read", "write", "write", "write", ...(vec ? ["read" as const] : []), "uniform"],
        () => forwardSource(cell, vec),
      );
      for (let s = 0; s < T; s++) {
        gpu.dispatch(
          pipeline,
          [gi, prm, ping[s % 2], ping[(s + 1) % 2], y, ws, ...(vec ? [prm] : [])].map(gpuBuffer),
          {
            meta: meta(s),
            workgroups: [Math.ceil(H / WORKGROUP), N, D],
          },
        );
      }
      return [output(gpu, y), ...splitBlocks(gpu, ping[T % 2], cell.nStates), output(gpu, ws)];
    });
}

function backwardKernel(cell: Cell): Kernel<RnnLayerBackwardAttrs> {
  return ({ inputs, attrs, backend }) =>
    noGrad(() => {
      const gpu = gpuBackend(backend);
      using _scope = new TensorScope();
      // GRU: [x, h0, y, ws, dy, dhN, (w_ih, w_hh) per direction];
      // LSTM: [x, h0, c0, y, ws, dy, dhN, dcN, (w_ih, w_hh) per direction].
      const n = cell.nStates;
      const [x, h0] = inputs;
      const [y, ws, dy] = inputs.slice(1 + n, 4 + n);
      const dims = dimsOf(x, h0, attrs);
      const { T, N, I, H, D } = dims;
      const G = cell.gates * H;
      const vec = H % 4 === 0;
      const dirs = D === 1 ? [0] : [0, 1];
      const wIh = dirs.map((d) => inputs[4 + 2 * n + 2 * d]);
      const wHh = dirs.map((d) => inputs[5 + 2 * n + 2 * d]);
      const { prm, meta } = parameterBlock(gpu, dims, { gates: cell.gates, lengths: attrs.lengths, wHh });
      // The states the steps started from (GRU's dz needs them; dW_hh = dghᵀ · hp per direction).
      const hp = fresh(gpu, [D, T * N, H]);
      const groups = gpu.grid(Math.ceil(hp.size / 256));
      const hpMeta = new Uint32Array(10);
      hpMeta.set(meta(0));
      hpMeta[9] = groups[0] * 256;
      gpu.dispatch(
        gpu.pipeline(
          "rnnLayerBackward|previousStates",
          ["read", "read", "read", "write", "uniform"],
          previousStatesSource,
        ),
        [prm, y, h0, hp].map(gpuBuffer),
        { meta: hpMeta, workgroups: groups },
      );
      const stateSize = D * N * H;
      // carry: dh (then dc for LSTM), starting from dhN (dcN), ending as dh0 (dc0).
      const carry = fresh(gpu, [n, D, N, H]);
      copy(
        gpu,
        inputs.slice(4 + n, 4 + 2 * n).map((t, i) => ({
          src: t,
          dst: carry,
          dstAt: i * stateSize,
          size: stateSize,
        })),
      );
      const dgi = fresh(gpu, [T * N, D * G]);
      const dgh = fresh(gpu, [D, T * N, G]);
      const stepInputs = [prm, ws, cell.kind === "gru" ? hp : inputs[2], dy];
      const pipeline = gpu.pipeline(
        `${cell.kind}LayerBackward|step|${vec ? "vec4" : "scalar"}`,
        [
          "read",
          "read",
          "read",
          "read",
          "write",
          "write",
          "write",
          ...(vec ? ["read" as const] : []),
          "uniform",
        ],
        () => backwardSource(cell, vec),
      );
      const unitsPerInvocation = vec ? 4 : 1;
      for (let k = 0; k <= T; k++) {
        gpu.dispatch(pipeline, [...stepInputs, carry, dgi, dgh, ...(vec ? [prm] : [])].map(gpuBuffer), {
          meta: meta(k),
          workgroups: [Math.ceil(H / unitsPerInvocation / WORKGROUP), N, D],
        });
      }
      const result: GpuStorage[] = [];
      // dx = dgi · [W_ih_0; W_ih_1]: [T·N, D·G]·[D·G, I], both directions in one GEMM.
      result.push(
        output(gpu, attrs.needsInputGrad ? matmul(dgi, stackDirections(gpu, wIh)) : fresh(gpu, [0])),
      );
      result.push(...splitBlocks(gpu, carry, n)); // dh0 (, dc0)
      const dwIh = splitBlocks(gpu, matmul(dgi, reshape(x, [T * N, I]), { transA: true }), D); // [D·G, I]
      const dwHh = splitBlocks(gpu, matmul(dgh, hp, { transA: true }), D); // [D, G, H]
      const dbIh = splitBlocks(gpu, sum(dgi, 0), D); // [D·G]
      // LSTM: b_ih and b_hh enter the same pre-activation, so their gradients are equal.
      const dbHh = cell.kind === "gru" ? splitBlocks(gpu, sum(dgh, 1), D) : splitBlocks(gpu, sum(dgi, 0), D);
      for (let d = 0; d < D; d++) result.push(dwIh[d], dwHh[d], dbIh[d], dbHh[d]);
      return result;
    });
}

registerKernel<RnnLayerAttrs>("gruLayer", "webgpu", forwardKernel(GRU));
registerKernel<RnnLayerBackwardAttrs>("gruLayerBackward", "webgpu", backwardKernel(GRU));
registerKernel<RnnLayerAttrs>("lstmLayer", "webgpu", forwardKernel(LSTM));
registerKernel<RnnLayerBackwardAttrs>("lstmLayerBackward", "webgpu", backwardKernel(LSTM));
