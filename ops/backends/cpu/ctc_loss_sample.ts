/**
 * The per-sample work of the cpu `ctcLoss` kernel: the alpha-beta recursions of Graves et al.
 * (2006) §4.1 in log space over Float64Array for the samples it is given. Samples are
 * independent, so the kernel (ctc_loss.ts) runs this on the calling thread or splits the batch
 * across Workers (ctc_loss_threads.ts); both run this one function, so the results are the
 * same bit for bit.
 *
 * Per sample with L labels the extended target has S = 2L + 1 states (blanks between and
 * around the labels). Alpha is kept for all frames ([Tn, S], float64); beta only for the
 * current and next frame, because the gradient of frame t is accumulated as soon as beta_t
 * is known. Only states that can still reach the end (and be reached from the start) are
 * visited at each frame, which is exact: the others have alpha·beta = 0.
 *
 * Not here: checking the labels (the kernel does it before any sample runs, so a Worker never
 * throws), reductions (ops/ctc_loss.ts does them with elementwise ops).
 */

type F = Float32Array | Float64Array;
const NEG_INF = -Infinity;

/** One ctcLoss call's inputs and outputs, in arrays a Worker can share. */
export interface CtcJob {
  /** log-probabilities [T, N, C]. */
  readonly logProbs: F;
  /** Labels; sample n's start at targetOffsets[n]. */
  readonly targets: Int32Array;
  readonly targetOffsets: Int32Array;
  readonly inputLengths: Int32Array;
  readonly targetLengths: Int32Array;
  readonly N: number;
  readonly C: number;
  readonly blank: number;
  readonly zeroInfinity: boolean;
  readonly computeGrad: boolean;
  /** Output: negative log-likelihood per sample [N] (float64 whatever the dtype). */
  readonly nll: Float64Array;
  /** Output: d nll / d logProbs [T, N, C] (empty without computeGrad); rows past Tn stay 0. */
  readonly grad: F;
}

/** A Float32Array or Float64Array view of `n` elements at byte offset `at` of shared memory. */
export function floatView(buffer: SharedArrayBuffer, at: number, n: number, isFloat64: boolean): F {
  return isFloat64 ? new Float64Array(buffer, at, n) : new Float32Array(buffer, at, n);
}

/** log(e^a + e^b), exact for -Infinity arguments; one exp. */
function logSumExp2(a: number, b: number): number {
  const m = a > b ? a : b;
  if (m === NEG_INF) return NEG_INF;
  return m + Math.log(1 + Math.exp((a > b ? b : a) - m));
}

/** log(e^a + e^b + e^c), exact for -Infinity arguments; two exps (the largest term is 1). */
function logSumExp3(a: number, b: number, c: number): number {
  let m = a;
  if (b > m) m = b;
  if (c > m) m = c;
  if (m === NEG_INF) return NEG_INF;
  // The largest term contributes exactly 1: only the other two need an exp.
  if (m === a) return m + Math.log(1 + Math.exp(b - m) + Math.exp(c - m));
  if (m === b) return m + Math.log(1 + Math.exp(a - m) + Math.exp(c - m));
  return m + Math.log(1 + Math.exp(a - m) + Math.exp(b - m));
}

/** Relative cost of sample n (alpha and beta over Tn·S states, plus Tn·C gradient entries). */
export function ctcSampleWork(job: CtcJob, n: number): number {
  const S = 2 * job.targetLengths[n] + 1;
  return job.inputLengths[n] * (2 * S + (job.computeGrad ? job.C : 0));
}

/** Runs the samples listed in `samples` of `job`, writing their nll and gradient rows. */
export function ctcLossSamples(job: CtcJob, samples: ArrayLike<number>): void {
  const { logProbs: lp, targets, targetOffsets, N, C, blank, zeroInfinity, computeGrad, nll: nllOut, grad } =
    job;
  let maxS = 1;
  for (let i = 0; i < samples.length; i++) maxS = Math.max(maxS, 2 * job.targetLengths[samples[i]] + 1);
  const labels = new Int32Array(maxS);
  // skip[s]: state s may be entered from s − 2 (a label differing from the label before it).
  const skip = new Uint8Array(maxS);
  let alpha = new Float64Array(0);
  let betaNext = new Float64Array(maxS), beta = new Float64Array(maxS);
  const rowC = new Float64Array(C);
  const NC = N * C;
  for (let i = 0; i < samples.length; i++) {
    const n = samples[i];
    const Tn = job.inputLengths[n], L = job.targetLengths[n], S = 2 * L + 1;
    for (let s = 0; s < S; s++) {
      labels[s] = s % 2 === 0 ? blank : targets[targetOffsets[n] + (s - 1) / 2];
      skip[s] = s >= 2 && s % 2 === 1 && labels[s] !== labels[s - 2] ? 1 : 0;
    }
    if (Tn === 0) {
      // No frames: only the empty target has an alignment (PyTorch returns 0 or Infinity).
      const nll = L === 0 ? 0 : Infinity;
      nllOut[n] = zeroInfinity && nll === Infinity ? 0 : nll;
      continue;
    }
    if (alpha.length < Tn * S) alpha = new Float64Array(Tn * S);
    // ---- alpha: alpha[t, s] = log P(prefix l'_1..s emitted in frames 0..t) -------------------
    const base0 = n * C; // offset of (t = 0, n) in logProbs; frame t adds t·N·C
    for (let s = 0; s < S; s++) alpha[s] = NEG_INF;
    alpha[0] = lp[base0 + blank];
    if (S > 1) alpha[1] = lp[base0 + labels[1]];
    for (let t = 1; t < Tn; t++) {
      const row = t * S, prev = row - S, lpo = t * NC + base0;
      // States s < lo cannot reach the end in time; s >= hi cannot be reached yet.
      const lo = Math.max(0, S - 2 * (Tn - t)), hi = Math.min(S, 2 * (t + 1));
      for (let s = 0; s < lo; s++) alpha[row + s] = NEG_INF;
      for (let s = lo; s < hi; s++) {
        const a = alpha[prev + s];
        const b = s > 0 ? alpha[prev + s - 1] : NEG_INF;
        // Blanks and repeated labels have no skip term: two terms, one exp fewer (and the same
        // bits, since the third term of logSumExp3 would add exactly 0).
        const sum = skip[s] ? logSumExp3(a, b, alpha[prev + s - 2]) : logSumExp2(a, b);
        alpha[row + s] = sum + lp[lpo + labels[s]];
      }
      for (let s = hi; s < S; s++) alpha[row + s] = NEG_INF;
    }
    const last = (Tn - 1) * S;
    const logLik = S > 1 ? logSumExp2(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last];
    const nll = -logLik;
    const infeasible = nll === Infinity;
    nllOut[n] = zeroInfinity && infeasible ? 0 : nll;
    if (!computeGrad) continue;
    if (infeasible) {
      // PyTorch: exp(lp) − exp(-inf + inf − lp) = NaN on every valid frame; 0 with zeroInfinity.
      if (!zeroInfinity) {
        for (let t = 0; t < Tn; t++) grad.fill(NaN, t * NC + base0, t * NC + base0 + C);
      }
      continue;
    }
    // ---- beta (from the end) and the gradient of each frame ------------------------------
    // grad[t, c] = exp(lp[t, c]) − Σ_{s: l'_s = c} exp(α_t(s) + β_t(s) + nll − lp[t, c]),
    // where β_t(s) includes frame t, as in PyTorch.
    for (let t = Tn - 1; t >= 0; t--) {
      const lpo = t * NC + base0, row = t * S;
      const lo = Math.max(0, S - 2 * (Tn - t)), hi = Math.min(S, 2 * (t + 1));
      for (let s = 0; s < S; s++) beta[s] = NEG_INF;
      if (t === Tn - 1) {
        beta[S - 1] = lp[lpo + blank];
        if (S > 1) beta[S - 2] = lp[lpo + labels[S - 2]];
      } else {
        for (let s = lo; s < hi; s++) {
          const a = betaNext[s];
          const b = s + 1 < S ? betaNext[s + 1] : NEG_INF;
          const sum = s + 2 < S && skip[s + 2] ? logSumExp3(a, b, betaNext[s + 2]) : logSumExp2(a, b);
          beta[s] = sum + lp[lpo + labels[s]];
        }
      }
      for (let c = 0; c < C; c++) rowC[c] = Math.exp(lp[lpo + c]);
      for (let s = lo; s < hi; s++) {
        const v = alpha[row + s] + beta[s];
        if (v === NEG_INF) continue;
        const c = labels[s];
        rowC[c] -= Math.exp(v + nll - lp[lpo + c]);
      }
      for (let c = 0; c < C; c++) grad[lpo + c] = rowC[c];
      const tmp = betaNext;
      betaNext = beta;
      beta = tmp;
    }
  }
}
