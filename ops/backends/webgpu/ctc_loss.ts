/**
 * webgpu kernel of `ctcLoss` (declared in ops/ctc_loss.ts; ops/backends/cpu/ctc_loss.ts is the
 * reference): the alpha-beta recursions of Graves et al. (2006) §4.1 in log space, one
 * workgroup per sample for the recursions. The time loop runs inside the kernel; the 2L + 1
 * states of the extended target are spread over the invocations (state s on invocation
 * s mod 128), and a barrier separates consecutive frames. The op gives the per-sample nll [N]
 * and, when asked, PyTorch's gradient d nll_n / d logProbs [T, N, C] (zero past a sample's
 * length). Three kernels:
 * 1. alpha: checks the labels, links each label to its next occurrence in the target and
 *    each class to its first (for step 3), runs the forward recursion and writes the nll;
 * 2. beta (gradient only): the backward recursion, from each sample's last frame, and the
 *    log of the sum of the state occupancies of every frame;
 * 3. gradient: one invocation per element of [T, N, C]: exp(lp) minus the occupancies of the
 *    states labelled with its class (the even states for the blank, the chain of the class's
 *    occurrences for a label), so no two invocations write one element.
 * Steps 1 and 2 are split into several dispatches of consecutive frames when the loops of one
 * would pass 60000 iterations: Mesa's llvmpipe (the CPU adapter the tests run on) ends a
 * shader after 65535 loop iterations in total. Each dispatch carries its sample's state
 * (running offset, row maxima) over in the scratch buffer; with ordinary sizes one dispatch
 * each suffices.
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
/** Loop iterations one dispatch may run per invocation (llvmpipe stops at 65535). */
const LOOP_BUDGET = 60000;

// Parameter block of the three shaders: [T, N, C, blank, zeroInfinity, computeGrad, maxS, maxL,
// alphaRows, gridWidth, betaBase, zBase, stateBase, headBase, flagBase, t0, t1]. Scratch
// layout: work (f32) = alpha [N, alphaRows, maxS], beta [N, T, maxS], z [N, T], state [N, 4]
// (offset, alpha row max, beta row max); ints (i32) = next occurrence [N, maxL], first
// occurrence of each class [N, C], flags [N, 2] (bad label, infeasible).
const COMMON = `const NEG: f32 = -1e30;
const IMPOSSIBLE: f32 = -1e29;
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
/** A stored row value relative to its row's maximum (impossible stays impossible). */
fn rel(v: f32, row_max: f32) -> f32 { return select(v - row_max, NEG, v <= IMPOSSIBLE); }
/** log occupancy of a state (up to a constant of the frame): alpha + beta - lp. */
fn occupancy(a: f32, b: f32, lpv: f32) -> f32 {
  return select(a + b - lpv, NEG, a <= IMPOSSIBLE || b <= IMPOSSIBLE);
}`;

/** Declarations of the recursions' shaders (alpha, beta): targets, the sample's header, helpers. */
const RECURSION = `${wgslWorkgroupReduce(WORKGROUP)}
var<workgroup> wg_tn: u32;
var<workgroup> wg_l: u32;
var<workgroup> wg_off: u32;
var<workgroup> wg_flag: u32;
fn label_of(s: u32, off: u32) -> u32 {
  if (s % 2u == 0u) { return m(3u); }
  return u32(targets[off + (s - 1u) / 2u]);
}
/** State s may be entered from s - 2 (a label differing from the label before it). */
fn skips(s: u32, off: u32) -> bool {
  return s % 2u == 1u && s >= 2u && targets[off + (s - 1u) / 2u] != targets[off + (s - 3u) / 2u];
}`;

/** WGSL that loads the sample's frames, labels and label offset into uniform values. */
const HEADER = `let T = m(0u);
  let N = m(1u);
  let C = m(2u);
  let max_s = m(6u);
  let max_l = m(7u);
  let t0 = m(15u);
  let t1 = m(16u);
  let n = wid.x + wid.y * m(9u);
  if (n >= N) { return; } // uniform: the whole workgroup leaves
  if (lid == 0u) {
    wg_tn = u32(info[3u * n]);
    wg_l = u32(info[3u * n + 1u]);
    wg_off = u32(info[3u * n + 2u]);
  }
  let tn = workgroupUniformLoad(&wg_tn);
  let L = workgroupUniformLoad(&wg_l);
  let off = workgroupUniformLoad(&wg_off);
  let S = 2u * L + 1u;
  let abase = n * m(8u) * max_s;
  let state = m(12u) + 4u * n;
  let flags = m(14u) + 2u * n;`;

function alphaShader(): string {
  return `@group(0) @binding(0) var<storage, read> lp: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> info: array<i32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;
@group(0) @binding(4) var<storage, read_write> work: array<f32>;
@group(0) @binding(5) var<storage, read_write> ints: array<i32>;
${wgslMeta(6)}
${COMMON}
${RECURSION}
var<workgroup> wg_bad: atomic<u32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { atomicStore(&wg_bad, 0u); }
  ${HEADER}
  let with_grad = m(5u) != 0u;
  let zero_inf = m(4u) != 0u;
  if (t0 == 0u) {
    // Labels in range; for the gradient, each label's next occurrence and each class's first.
    let heads = m(13u) + n * C;
    if (with_grad) {
      for (var c = lid; c < C; c += ${WORKGROUP}u) { ints[heads + c] = -1; }
    }
    storageBarrier();
    for (var j = lid; j < L; j += ${WORKGROUP}u) {
      let lab = targets[off + j];
      if (lab < 0 || u32(lab) >= C) {
        atomicOr(&wg_bad, 1u);
        continue;
      }
      if (!with_grad) { continue; }
      var next = -1;
      for (var q = j + 1u; q < L; q++) {
        if (targets[off + q] == lab) { next = i32(q); break; }
      }
      ints[n * max_l + j] = next;
      var first = true;
      for (var q = 0u; q < j; q++) {
        if (targets[off + q] == lab) { first = false; break; }
      }
      if (first) { ints[heads + u32(lab)] = i32(j); }
    }
    workgroupBarrier();
    if (lid == 0u) {
      wg_flag = atomicLoad(&wg_bad);
      ints[flags] = i32(wg_flag);
      ints[flags + 1u] = 0;
    }
  } else if (lid == 0u) {
    wg_flag = u32(ints[flags]);
  }
  if (workgroupUniformLoad(&wg_flag) != 0u) {
    if (lid == 0u && t0 == 0u) { nll[n] = nan(); }
    return;
  }
  if (tn == 0u) {
    // No frames: only the empty target has an alignment (PyTorch returns 0 or Infinity).
    if (lid == 0u && t0 == 0u) {
      nll[n] = select(select(inf(), 0.0, zero_inf), 0.0, L == 0u);
      ints[flags + 1u] = i32(L != 0u);
    }
    return;
  }
  // Row t holds log alpha_t - (maxima of rows 0..t-1); offset is the sum of those maxima.
  let alpha_rows = m(8u);
  var local_max = NEG;
  var row_max = 0.0;
  var offset = 0.0;
  if (t0 == 0u) {
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      var v = NEG;
      if (s < 2u) { v = max(lp[n * C + label_of(s, off)], NEG); }
      work[abase + s] = v;
      local_max = max(local_max, v);
    }
    storageBarrier();
    row_max = wg_max(local_max, lid);
  } else {
    offset = work[state];
    row_max = work[state + 1u];
  }
  let t_end = min(t1, tn);
  for (var t = max(t0, 1u); t < t_end; t++) {
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
  storageBarrier();
  if (lid == 0u) {
    work[state] = offset;
    work[state + 1u] = row_max;
    if (t0 < tn && tn <= t1) {
      let last = abase + ((tn - 1u) % alpha_rows) * max_s;
      var ll = work[last];
      if (S > 1u) { ll = lse2(work[last + S - 1u], work[last + S - 2u]); }
      let infeasible = ll <= IMPOSSIBLE;
      nll[n] = select(-(offset + ll), select(inf(), 0.0, zero_inf), infeasible);
      ints[flags + 1u] = i32(infeasible);
    }
  }
}`;
}

function betaShader(): string {
  return `@group(0) @binding(0) var<storage, read> lp: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> info: array<i32>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read> ints: array<i32>;
${wgslMeta(5)}
${COMMON}
${RECURSION}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${HEADER}
  if (lid == 0u) { wg_flag = u32(ints[flags] != 0 || ints[flags + 1u] != 0); }
  if (workgroupUniformLoad(&wg_flag) != 0u) { return; } // bad label or infeasible: no gradient to compute
  let t_hi = min(t1, tn);
  if (t_hi <= t0) { return; }
  // Row t holds log beta_t - (maximum of row t + 1), frames t0..t_hi-1 from the last.
  let bbase = m(10u) + n * T * max_s;
  var next_max = 0.0;
  if (t_hi < tn) { next_max = work[state + 2u]; }
  for (var k = 0u; k < t_hi - t0; k++) {
    let t = t_hi - 1u - k;
    let cur = bbase + t * max_s;
    let nxt = cur + max_s;
    let lpo = (t * N + n) * C;
    var local_max = NEG;
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      let lpv = lp[lpo + label_of(s, off)];
      var v = NEG;
      if (t + 1u == tn) {
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
    // z_t = log Σ_s exp(occupancy): it normalises the occupancies of frame t to sum to 1.
    let arow = abase + t * max_s;
    local_max = NEG;
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      local_max = max(local_max, occupancy(work[arow + s], work[cur + s], lp[lpo + label_of(s, off)]));
    }
    let om = wg_max(local_max, lid);
    var part = 0.0;
    for (var s = lid; s < S; s += ${WORKGROUP}u) {
      part += exp(occupancy(work[arow + s], work[cur + s], lp[lpo + label_of(s, off)]) - om);
    }
    let total = wg_sum(part, lid);
    if (lid == 0u) { work[m(11u) + n * T + t] = om + log(total); }
  }
  storageBarrier();
  if (lid == 0u) { work[state + 2u] = next_max; }
}`;
}

function gradShader(): string {
  return `@group(0) @binding(0) var<storage, read> lp: array<f32>;
@group(0) @binding(1) var<storage, read> info: array<i32>;
@group(0) @binding(2) var<storage, read> work: array<f32>;
@group(0) @binding(3) var<storage, read> ints: array<i32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
${wgslMeta(5)}
${COMMON}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = m(0u);
  let N = m(1u);
  let C = m(2u);
  let max_s = m(6u);
  let max_l = m(7u);
  let i = gid.x + gid.y * m(9u);
  if (i >= T * N * C) { return; }
  let c = i % C;
  let n = (i / C) % N;
  let t = i / (N * C);
  let tn = u32(info[3u * n]);
  let L = u32(info[3u * n + 1u]);
  let flags = m(14u) + 2u * n;
  if (t >= tn) {
    grad[i] = 0.0;
    return;
  }
  if (ints[flags] != 0) {
    grad[i] = nan();
    return;
  }
  if (ints[flags + 1u] != 0) {
    // PyTorch: exp(lp) - exp(-inf + inf - lp) = NaN on every valid frame; 0 with zeroInfinity.
    grad[i] = select(nan(), 0.0, m(4u) != 0u);
    return;
  }
  let lpv = lp[i];
  let z = work[m(11u) + n * T + t];
  let arow = n * m(8u) * max_s + t * max_s;
  let brow = m(10u) + (n * T + t) * max_s;
  var acc = 0.0;
  if (c == m(3u)) {
    for (var s = 0u; s <= 2u * L; s += 2u) { acc += exp(occupancy(work[arow + s], work[brow + s], lpv) - z); }
  }
  var q = ints[m(13u) + n * C + c];
  while (q >= 0) {
    let s = 2u * u32(q) + 1u;
    acc += exp(occupancy(work[arow + s], work[brow + s], lpv) - z);
    q = ints[n * max_l + u32(q)];
  }
  grad[i] = exp(lpv) - acc;
}`;
}

/** A storage uploaded for one call; `using` frees it (later uses are queue-ordered). */
function lease(gpu: WebGpuBackend, data: Int32Array): Disposable & { buffer: GPUBuffer } {
  const s = gpu.upload(data) as GpuStorage;
  return { buffer: s.buffer, [Symbol.dispose]: () => gpu.free(s, "int32", data.length) };
}

/** Frames per dispatch so that one invocation's loops stay within LOOP_BUDGET iterations. */
function framesPerDispatch(loopsPerFrame: number, setupLoops: number): number {
  return Math.max(1, Math.floor((LOOP_BUDGET - setupLoops) / (loopsPerFrame + 1)));
}

registerKernel<CtcLossAttrs>(
  "ctcLoss",
  "webgpu",
  ({ inputs: [logProbs, targets], attrs, outputs, backend }) => {
    const gpu = gpuBackend(backend);
    const { T, N, C, targetOffsets } = ctcLossDims(logProbs, targets, attrs);
    const withGrad = attrs.computeGrad;
    const nll = gpu.alloc(outputs[0].dtype, N) as GpuStorage;
    const grad = gpu.alloc(outputs[1].dtype, withGrad ? T * N * C : 0) as GpuStorage;
    if (N === 0) return [nll, grad];
    let maxL = 1;
    for (const l of attrs.targetLengths) maxL = Math.max(maxL, l);
    const maxS = 2 * maxL + 1;
    const alphaRows = withGrad ? Math.max(T, 1) : 2;
    const info = new Int32Array(3 * N);
    for (let n = 0; n < N; n++) {
      info[3 * n] = attrs.inputLengths[n];
      info[3 * n + 1] = attrs.targetLengths[n];
      info[3 * n + 2] = targetOffsets[n];
    }
    using infoBuffer = lease(gpu, info);
    const betaBase = N * alphaRows * maxS;
    const zBase = betaBase + (withGrad ? N * T * maxS : 0);
    const stateBase = zBase + (withGrad ? N * T : 0);
    using work = gpu.scratch("float32", stateBase + 4 * N);
    const headBase = withGrad ? N * maxL : 0;
    const flagBase = headBase + (withGrad ? N * C : 0);
    using ints = gpu.scratch("int32", flagBase + 2 * N);
    const groups = gpu.grid(N);
    const meta = (t0: number, t1: number, gridWidth = groups[0]): Uint32Array =>
      new Uint32Array([
        T,
        N,
        C,
        attrs.blank,
        attrs.zeroInfinity ? 1 : 0,
        withGrad ? 1 : 0,
        maxS,
        maxL,
        alphaRows,
        gridWidth,
        betaBase,
        zBase,
        stateBase,
        headBase,
        flagBase,
        t0,
        t1,
      ]);
    const slots = Math.ceil(maxS / WORKGROUP);
    // The first alpha dispatch also checks and links the labels: ceil(L / 128) · L iterations.
    const setup = Math.ceil(maxL / WORKGROUP) * (maxL + 1) + 2 * Math.ceil(C / WORKGROUP) + slots;
    const alpha = gpu.pipeline(
      "ctcLoss|alpha",
      ["read", "read", "read", "write", "write", "write", "uniform"],
      alphaShader,
    );
    const alphaFrames = framesPerDispatch(slots, setup);
    for (let t0 = 0; t0 === 0 || t0 < T; t0 += alphaFrames) {
      gpu.dispatch(
        alpha,
        [gpuBuffer(logProbs), gpuBuffer(targets), infoBuffer.buffer, nll.buffer, work.buffer, ints.buffer],
        { meta: meta(t0, t0 + alphaFrames), workgroups: groups },
      );
    }
    if (!withGrad || T === 0) return [nll, grad];
    const beta = gpu.pipeline(
      "ctcLoss|beta",
      ["read", "read", "read", "write", "read", "uniform"],
      betaShader,
    );
    const betaFrames = framesPerDispatch(3 * slots, 0);
    for (let t1 = T; t1 > 0; t1 -= betaFrames) {
      gpu.dispatch(
        beta,
        [gpuBuffer(logProbs), gpuBuffer(targets), infoBuffer.buffer, work.buffer, ints.buffer],
        { meta: meta(Math.max(0, t1 - betaFrames), t1), workgroups: groups },
      );
    }
    const gradient = gpu.pipeline(
      "ctcLoss|grad",
      ["read", "read", "read", "read", "write", "uniform"],
      gradShader,
    );
    const elements = gpu.grid(Math.ceil((T * N * C) / 256));
    gpu.dispatch(
      gradient,
      [gpuBuffer(logProbs), infoBuffer.buffer, work.buffer, ints.buffer, grad.buffer],
      { meta: meta(0, T, elements[0] * 256), workgroups: elements },
    );
    return [nll, grad];
  },
);
