/**
 * webgpu kernel of `ctcLoss` (declared in ops/ctc_loss.ts; ops/backends/cpu/ctc_loss.ts is the
 * reference): the alpha-beta recursions of Graves et al. (2006) §4.1 in log space, one
 * workgroup per sample. The time loop runs inside the kernel; the 2L + 1 states of the
 * extended target are spread over the invocations (state s on invocation s mod 128), and a
 * barrier separates consecutive frames. One dispatch gives the per-sample nll [N] and, when
 * asked, PyTorch's gradient d nll_n / d logProbs [T, N, C] (zero past a sample's length).
 *
 * Numerics (f32 throughout): every alpha and beta row is stored relative to the previous
 * row's maximum (the log-space form of Graves's rescaling), so the stored values stay near 0
 * even after thousands of frames and keep their precision; the loss adds the maxima back.
 * The gradient of frame t uses the occupancies γ_t(s) = α_t(s)β_t(s) / y_t(l'_s), normalised
 * by their sum over s, which equals p(l|x) at every frame (Graves eq. 14), so no offset needs
 * carrying into it. Impossible states hold -1e30 instead of -Infinity (WGSL may assume no
 * infinities); a sample whose final states are impossible is infeasible: loss Infinity and a
 * NaN gradient, or 0 and 0 with zeroInfinity, as in PyTorch.
 *
 * Per frame of the gradient, the classes are written once with exp(lp), then the blank's
 * occupancy (a tree reduction over the even states) and each label's (a chain through its
 * repeated occurrences in the target, walked by the invocation of its first occurrence) are
 * subtracted, so no two invocations write one class.
 *
 * The per-sample lengths come from the op's host attributes and are uploaded with the call;
 * labels are read on the device. A label outside 0..C-1 cannot raise an error without a
 * read-back: that sample's loss and gradient come out NaN (the cpu kernel throws).
 *
 * Not here: the reductions over the batch (ops/ctc_loss.ts), several samples per workgroup.
 */
import { registerKernel } from "../../op_registry.ts";
import { type CtcLossAttrs, ctcLossDims } from "../../ctc_loss.ts";
import { gpuBackend, gpuBuffer, type GpuStorage, type WebGpuBackend, wgslMeta } from "./backend.ts";
import { wgslWorkgroupReduce } from "./workgroup_reduce.ts";

const WORKGROUP = 128;

// Parameter block: [T, N, C, blank, zeroInfinity, computeGrad, maxS, maxL, alphaRows, gridWidth, betaBase].
function shaderSource(): string {
  return `@group(0) @binding(0) var<storage, read> lp: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> info: array<i32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> work: array<f32>;
@group(0) @binding(6) var<storage, read_write> links: array<i32>;
${wgslMeta(7)}
${wgslWorkgroupReduce(WORKGROUP)}
const NEG: f32 = -1e30;
const IMPOSSIBLE: f32 = -1e29;
var<workgroup> wg_tn: u32;
var<workgroup> wg_l: u32;
var<workgroup> wg_off: u32;
var<workgroup> wg_flag: u32;
var<workgroup> wg_bad: atomic<u32>;

fn inf() -> f32 { return bitcast<f32>(0x7f800000u); }
fn nan() -> f32 { return bitcast<f32>(0x7fc00000u); }
fn lse2(a: f32, b: f32) -> f32 {
  let mx = max(a, b);
  if (mx <= IMPOSSIBLE) { return NEG; }
  return mx + log(exp(a - mx) + exp(b - mx));
}
fn lse3(a: f32, b: f32, c: f32) -> f32 {
  let mx = max(max(a, b), c);
  if (mx <= IMPOSSIBLE) { return NEG; }
  return mx + log(exp(a - mx) + exp(b - mx) + exp(c - mx));
}
/** A stored row value relative to the row's maximum (impossible stays impossible). */
fn rel(v: f32, rowMax: f32) -> f32 { return select(v - rowMax, NEG, v <= IMPOSSIBLE); }
fn label_of(s: u32, off: u32) -> u32 {
  if (s % 2u == 0u) { return m(3u); }
  return u32(targets[off + (s - 1u) / 2u]);
}
/** State s may be entered from s - 2 (a label differing from the label before it). */
fn skips(s: u32, off: u32) -> bool {
  return s % 2u == 1u && s >= 2u && targets[off + (s - 1u) / 2u] != targets[off + (s - 3u) / 2u];
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = m(0u);
  let N = m(1u);
  let C = m(2u);
  let blank = m(3u);
  let zero_inf = m(4u) != 0u;
  let with_grad = m(5u) != 0u;
  let max_s = m(6u);
  let max_l = m(7u);
  let n = wid.x + wid.y * m(9u);
  if (n >= N) { return; } // uniform: the whole workgroup leaves
  if (lid == 0u) {
    wg_tn = u32(info[3u * n]);
    wg_l = u32(info[3u * n + 1u]);
    wg_off = u32(info[3u * n + 2u]);
    atomicStore(&wg_bad, 0u);
  }
  let tn = workgroupUniformLoad(&wg_tn);
  let L = workgroupUniformLoad(&wg_l);
  let off = workgroupUniformLoad(&wg_off);
  let S = 2u * L + 1u;
  let lbase = n * 2u * max_l;
  // Labels in range; for the gradient, each label's next occurrence and whether it is the first.
  for (var j = lid; j < L; j += ${WORKGROUP}u) {
    let lab = targets[off + j];
    if (lab < 0 || u32(lab) >= C) { atomicOr(&wg_bad, 1u); }
    if (with_grad) {
      var next = -1;
      for (var q = j + 1u; q < L; q++) {
        if (targets[off + q] == lab) { next = i32(q); break; }
      }
      var head = 1;
      for (var q = 0u; q < j; q++) {
        if (targets[off + q] == lab) { head = 0; break; }
      }
      links[lbase + j] = next;
      links[lbase + max_l + j] = head;
    }
  }
  if (with_grad) {
    for (var t = tn; t < T; t++) {
      for (var c = lid; c < C; c += ${WORKGROUP}u) { grad[(t * N + n) * C + c] = 0.0; }
    }
  }
  workgroupBarrier();
  if (lid == 0u) { wg_flag = atomicLoad(&wg_bad); }
  if (workgroupUniformLoad(&wg_flag) != 0u) {
    if (lid == 0u) { nll[n] = nan(); }
    if (with_grad) {
      for (var t = 0u; t < tn; t++) {
        for (var c = lid; c < C; c += ${WORKGROUP}u) { grad[(t * N + n) * C + c] = nan(); }
      }
    }
    return;
  }
  if (tn == 0u) {
    // No frames: only the empty target has an alignment (PyTorch returns 0 or Infinity).
    if (lid == 0u) { nll[n] = select(select(inf(), 0.0, zero_inf), 0.0, L == 0u); }
    return;
  }

  // ---- alpha: row t holds log alpha_t - (maxima of rows 0..t-1) ----------------------------
  let abase = n * m(8u) * max_s;
  let alpha_rows = m(8u);
  var local_max = NEG;
  for (var s = lid; s < S; s += ${WORKGROUP}u) {
    var v = NEG;
    if (s < 2u) { v = max(lp[n * C + label_of(s, off)], NEG); }
    work[abase + s] = v;
    local_max = max(local_max, v);
  }
  storageBarrier();
  var row_max = wg_max(local_max, lid);
  var offset = 0.0;
  for (var t = 1u; t < tn; t++) {
    let prev_max = select(row_max, 0.0, row_max <= IMPOSSIBLE);
    offset += prev_max;
    let prev = abase + ((t - 1u) % alpha_rows) * max_s;
    let cur = abase + (t % alpha_rows) * max_s;
    let lpo = (t * N + n) * C;
    local_max = NEG;
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      let a = rel(work[prev + s], prev_max);
      var b = NEG;
      if (s > 0u) { b = rel(work[prev + s - 1u], prev_max); }
      var c = NEG;
      if (skips(s, off)) { c = rel(work[prev + s - 2u], prev_max); }
      let v = max(lse3(a, b, c) + lp[lpo + label_of(s, off)], NEG);
      work[cur + s] = v;
      local_max = max(local_max, v);
    }
    storageBarrier();
    row_max = wg_max(local_max, lid);
  }
  if (lid == 0u) {
    let last = abase + ((tn - 1u) % alpha_rows) * max_s;
    var ll = work[last];
    if (S > 1u) { ll = lse2(work[last + S - 1u], work[last + S - 2u]); }
    let infeasible = ll <= IMPOSSIBLE;
    nll[n] = select(-(offset + ll), select(inf(), 0.0, zero_inf), infeasible);
    wg_flag = u32(infeasible);
  }
  if (!with_grad) { return; }
  if (workgroupUniformLoad(&wg_flag) != 0u) {
    // PyTorch: exp(lp) - exp(-inf + inf - lp) = NaN on every valid frame; 0 with zeroInfinity.
    let g = select(nan(), 0.0, zero_inf);
    for (var t = 0u; t < tn; t++) {
      for (var c = lid; c < C; c += ${WORKGROUP}u) { grad[(t * N + n) * C + c] = g; }
    }
    return;
  }

  // ---- beta from the last frame, and the gradient of each frame as soon as beta_t is known ----
  let bbase = m(10u) + n * 2u * max_s;
  var next_max = 0.0;
  for (var k = 0u; k < tn; k++) {
    let t = tn - 1u - k;
    let cur = bbase + (t % 2u) * max_s;
    let nxt = bbase + ((t + 1u) % 2u) * max_s;
    let lpo = (t * N + n) * C;
    local_max = NEG;
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      let lpv = lp[lpo + label_of(s, off)];
      var v = NEG;
      if (k == 0u) {
        if (s + 2u >= S) { v = max(lpv, NEG); }
      } else {
        let a = rel(work[nxt + s], next_max);
        var b = NEG;
        if (s + 1u < S) { b = rel(work[nxt + s + 1u], next_max); }
        var c = NEG;
        if (s + 2u < S && skips(s + 2u, off)) { c = rel(work[nxt + s + 2u], next_max); }
        v = max(lse3(a, b, c) + lpv, NEG);
      }
      work[cur + s] = v;
      local_max = max(local_max, v);
    }
    storageBarrier();
    let bm = wg_max(local_max, lid);
    next_max = select(bm, 0.0, bm <= IMPOSSIBLE);
    // log occupancy of state s (up to a constant of the frame): alpha + beta - lp.
    let arow = abase + t * max_s;
    local_max = NEG;
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      local_max = max(local_max, occupancy(work[arow + s], work[cur + s], lp[lpo + label_of(s, off)]));
    }
    let om = wg_max(local_max, lid);
    var part = vec2<f32>(0.0, 0.0);
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      let lab = label_of(s, off);
      let e = exp(occupancy(work[arow + s], work[cur + s], lp[lpo + lab]) - om);
      part += vec2<f32>(e, select(0.0, e, lab == blank));
    }
    let sums = wg_sum2(part, lid);
    let z = om + log(sums.x);
    for (var c = lid; c < C; c += ${WORKGROUP}u) { grad[lpo + c] = exp(lp[lpo + c]); }
    storageBarrier();
    for (var j = lid; j < L; j += ${WORKGROUP}u) {
      let lab = u32(targets[off + j]);
      if (links[lbase + max_l + j] == 0 || lab == blank) { continue; }
      var acc = 0.0;
      var q = i32(j);
      while (q >= 0) {
        let s = 2u * u32(q) + 1u;
        acc += exp(occupancy(work[arow + s], work[cur + s], lp[lpo + lab]) - z);
        q = links[lbase + u32(q)];
      }
      grad[lpo + lab] = exp(lp[lpo + lab]) - acc;
    }
    if (lid == 0u) { grad[lpo + blank] = exp(lp[lpo + blank]) - sums.y / sums.x; }
  }
}

fn occupancy(a: f32, b: f32, lpv: f32) -> f32 {
  return select(a + b - lpv, NEG, a <= IMPOSSIBLE || b <= IMPOSSIBLE);
}`;
}

/** A storage uploaded for one call; `using` frees it (later uses are queue-ordered). */
function lease(gpu: WebGpuBackend, data: Int32Array): Disposable & { buffer: GPUBuffer } {
  const s = gpu.upload(data) as GpuStorage;
  return { buffer: s.buffer, [Symbol.dispose]: () => gpu.free(s, "int32", data.length) };
}

registerKernel<CtcLossAttrs>(
  "ctcLoss",
  "webgpu",
  ({ inputs: [logProbs, targets], attrs, outputs, backend }) => {
    const gpu = gpuBackend(backend);
    const { T, N, C, targetOffsets } = ctcLossDims(logProbs, targets, attrs);
    const nll = gpu.alloc(outputs[0].dtype, N) as GpuStorage;
    const grad = gpu.alloc(outputs[1].dtype, attrs.computeGrad ? T * N * C : 0) as GpuStorage;
    if (N === 0) return [nll, grad];
    let maxL = 1;
    for (const l of attrs.targetLengths) maxL = Math.max(maxL, l);
    const maxS = 2 * maxL + 1;
    const alphaRows = attrs.computeGrad ? Math.max(T, 1) : 2;
    const info = new Int32Array(3 * N);
    for (let n = 0; n < N; n++) {
      info[3 * n] = attrs.inputLengths[n];
      info[3 * n + 1] = attrs.targetLengths[n];
      info[3 * n + 2] = targetOffsets[n];
    }
    using infoBuffer = lease(gpu, info);
    const betaBase = N * alphaRows * maxS;
    using work = gpu.scratch("float32", betaBase + N * 2 * maxS);
    using links = gpu.scratch("int32", attrs.computeGrad ? N * 2 * maxL : 1);
    const groups = gpu.grid(N);
    const meta = new Uint32Array([
      T,
      N,
      C,
      attrs.blank,
      attrs.zeroInfinity ? 1 : 0,
      attrs.computeGrad ? 1 : 0,
      maxS,
      maxL,
      alphaRows,
      groups[0],
      betaBase,
    ]);
    const pipeline = gpu.pipeline(
      "ctcLoss",
      ["read", "read", "read", "write", "write", "write", "write", "uniform"],
      shaderSource,
    );
    gpu.dispatch(
      pipeline,
      [gpuBuffer(logProbs), gpuBuffer(targets), infoBuffer.buffer, nll.buffer, grad.buffer, work.buffer, links.buffer],
      { meta, workgroups: groups },
    );
    return [nll, grad];
  },
);
