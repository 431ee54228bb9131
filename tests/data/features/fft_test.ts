import assert from "node:assert/strict";
import { ComplexFft, RealFft } from "../../../data/features/fft.ts";

/** Direct O(n^2) DFT in float64, the reference. */
function dft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
    outRe[k] = sr;
    outIm[k] = si;
  }
  return [outRe, outIm];
}

function seeded(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

// Power-of-2 (radix 4 and 2), mixed radix 2/3/5 (OpenSeq2Seq's NFFT 320, 400), primes, and 1.
const sizes = [1, 2, 3, 4, 5, 7, 8, 16, 30, 97, 128, 160, 256, 320, 400, 512, 1024];

for (const n of sizes) {
  Deno.test(`ComplexFft(${n}) matches the direct DFT`, () => {
    const re = seeded(n, n);
    const im = seeded(n, n + 1);
    const [refRe, refIm] = dft(re, im);
    new ComplexFft(n).forward(re, im);
    let err = 0;
    let scale = 0;
    for (let k = 0; k < n; k++) {
      err = Math.max(err, Math.hypot(re[k] - refRe[k], im[k] - refIm[k]));
      scale = Math.max(scale, Math.hypot(refRe[k], refIm[k]));
    }
    assert.ok(err <= 1e-12 * Math.max(1, scale), `max error ${err} at n=${n}`);
  });

  Deno.test(`RealFft(${n}) matches the direct DFT's non-negative-frequency bins`, () => {
    const x = seeded(n, 7 * n);
    const [refRe, refIm] = dft(x, new Float64Array(n));
    const plan = new RealFft(n);
    assert.equal(plan.nBins, Math.floor(n / 2) + 1);
    const re = new Float64Array(plan.nBins);
    const im = new Float64Array(plan.nBins);
    const input = x.slice();
    plan.forward(x, re, im);
    assert.deepEqual(x, input, "input was modified");
    for (let k = 0; k < plan.nBins; k++) {
      assert.ok(Math.hypot(re[k] - refRe[k], im[k] - refIm[k]) <= 1e-11, `bin ${k} of n=${n}`);
    }
  });
}

Deno.test("RealFft.power() satisfies Parseval's theorem for n = 512", () => {
  const n = 512;
  const x = seeded(n, 3);
  const plan = new RealFft(n);
  const p = new Float64Array(plan.nBins);
  plan.power(x, p, new Float64Array(plan.nBins), new Float64Array(plan.nBins));
  let time = 0;
  for (const v of x) time += v * v;
  // Interior bins stand for two conjugate bins each.
  let freq = p[0] + p[n / 2];
  for (let k = 1; k < n / 2; k++) freq += 2 * p[k];
  assert.ok(Math.abs(freq / n - time) < 1e-10 * time);
});

Deno.test("ComplexFft rejects a length that is not a positive integer", () => {
  assert.throws(() => new ComplexFft(0), /ComplexFft: length must be a positive integer/);
  assert.throws(() => new RealFft(2.5), /RealFft: length must be a positive integer/);
});

for (const n of [8, 30, 64, 320, 400, 512, 1024, 7]) {
  Deno.test(`RealFft(${n}).powerInto() equals |DFT|^2 at the given offset`, () => {
    const x = seeded(n, 11 * n);
    const [refRe, refIm] = dft(x, new Float64Array(n));
    const plan = new RealFft(n);
    const out = new Float32Array(plan.nBins + 3);
    plan.powerInto(x, out, 3);
    assert.deepEqual(Array.from(out.subarray(0, 3)), [0, 0, 0]);
    for (let k = 0; k < plan.nBins; k++) {
      const want = refRe[k] * refRe[k] + refIm[k] * refIm[k];
      assert.ok(
        Math.abs(out[3 + k] - want) <= 1e-6 * Math.max(1, want),
        `bin ${k}: ${out[3 + k]} vs ${want}`,
      );
    }
  });
}
