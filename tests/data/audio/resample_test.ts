import assert from "node:assert/strict";
import { resample } from "../../../data/audio/resample.ts";
import { measureAliasing } from "../../../bench/resample_aliasing.ts";

function sine(rate: number, freq: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** Least-squares fit of a cos + b sin at `freq` over x[from..to): amplitude and worst residual. */
function fitSine(
  x: Float32Array,
  rate: number,
  freq: number,
  from: number,
  to: number,
): { amp: number; resid: number } {
  let cc = 0;
  let ss = 0;
  let cs = 0;
  let xc = 0;
  let xs = 0;
  for (let i = from; i < to; i++) {
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    cc += c * c;
    ss += s * s;
    cs += c * s;
    xc += x[i] * c;
    xs += x[i] * s;
  }
  const det = cc * ss - cs * cs;
  const a = (xc * ss - xs * cs) / det;
  const b = (xs * cc - xc * cs) / det;
  let resid = 0;
  for (let i = from; i < to; i++) {
    const t = (2 * Math.PI * freq * i) / rate;
    resid = Math.max(resid, Math.abs(x[i] - a * Math.cos(t) - b * Math.sin(t)));
  }
  return { amp: Math.hypot(a, b), resid };
}

Deno.test("resample() returns a copy when the rates are equal", () => {
  const x = Float32Array.of(1, 2, 3);
  const y = resample(x, 16000, 16000);
  assert.deepEqual(y, x);
  assert.notEqual(y, x);
});

Deno.test("resample() output length is ceil(n * to / from)", () => {
  const x = new Float32Array(1001);
  assert.equal(resample(x, 48000, 16000).length, 334);
  assert.equal(resample(x, 16000, 14400).length, 901);
  assert.equal(resample(x, 16000, 16000 / 1.1).length, Math.ceil(1001 / 1.1));
  assert.equal(resample(new Float32Array(0), 8000, 16000).length, 0);
});

for (
  const [from, to, freq] of [[48000, 16000, 1000], [22050, 16000, 3000], [8000, 16000, 440], [
    16000,
    14400,
    2500,
  ]]
) {
  Deno.test(`resample() keeps a ${freq} Hz sine intact from ${from} to ${to} Hz`, () => {
    const x = sine(from, freq, from);
    const y = resample(x, from, to);
    const edge = Math.ceil(0.01 * to);
    const fit = fitSine(y, to, freq, edge, y.length - edge);
    assert.ok(Math.abs(fit.amp - 0.5) < 1e-4, `amplitude ${fit.amp}`);
    assert.ok(fit.resid < 1e-4, `residual ${fit.resid}`);
  });
}

Deno.test("resample() passes DC exactly away from the edges", () => {
  const y = resample(new Float32Array(4000).fill(0.25), 44100, 16000);
  for (let i = 200; i < y.length - 200; i++) assert.ok(Math.abs(y[i] - 0.25) < 1e-6, `y[${i}] = ${y[i]}`);
});

Deno.test("resample() removes a tone above the new Nyquist frequency (48 kHz -> 16 kHz, 9 kHz tone)", () => {
  const y = resample(sine(48000, 9000, 48000), 48000, 16000);
  let peak = 0;
  for (let i = 400; i < y.length - 400; i++) peak = Math.max(peak, Math.abs(y[i]));
  assert.ok(peak < 0.5 * 1e-4, `alias peak ${peak} is above -80 dB`);
});

Deno.test("resample() by a non-integer rate pair matches the exact polyphase path for the same ratio", () => {
  // 1.6 -> 1.44 is 16000 -> 14400 with non-integer rates: the interpolated-prototype path.
  const x = Float32Array.from(
    { length: 3000 },
    (_, i) => Math.sin(i * 0.37) * 0.3 + Math.sin(i * 0.05) * 0.5,
  );
  const exact = resample(x, 16000, 14400);
  const interp = resample(x, 1.6, 1.44);
  assert.equal(interp.length, exact.length);
  let m = 0;
  for (let i = 0; i < exact.length; i++) m = Math.max(m, Math.abs(exact[i] - interp[i]));
  assert.ok(m < 1e-5, `max difference ${m}`);
});

Deno.test("resample() rejects zero, negative and infinite rates", () => {
  assert.throws(() => resample(new Float32Array(4), 0, 16000), /resample: rates must be positive/);
  assert.throws(() => resample(new Float32Array(4), 16000, -1), /resample: rates must be positive/);
  assert.throws(() => resample(new Float32Array(4), 16000, Infinity), /resample: rates must be positive/);
});

Deno.test("resample() rejects aliasing by at least 95 dB on a 48 kHz -> 16 kHz sweep (bench/resample_aliasing.ts)", () => {
  const r = measureAliasing(48000, 16000);
  assert.ok(r.overallDb < -95, `overall aliasing ${r.overallDb.toFixed(1)} dB`);
  assert.ok(r.worstWindowDb < -90, `worst-window aliasing ${r.worstWindowDb.toFixed(1)} dB`);
});

Deno.test("resample() by a ratio with no close fraction (the golden ratio) still keeps a sine intact", () => {
  // The golden ratio is the worst-approximable number: no L/M with L <= 4096 is within 1e-7 of it,
  // so this takes the per-tap prototype path.
  const from = 16000;
  const to = (16000 * (1 + Math.sqrt(5))) / 2;
  const y = resample(sine(from, 1234, from), from, to);
  assert.equal(y.length, Math.ceil(from * (to / from) - 1e-9));
  const fit = fitSine(y, to, 1234, 200, y.length - 200);
  assert.ok(Math.abs(fit.amp - 0.5) < 1e-4, `amplitude ${fit.amp}`);
  assert.ok(fit.resid < 1e-4, `residual ${fit.resid}`);
});

Deno.test("resample() by a random speed factor (polyphase rows from a close fraction) keeps a sine intact", () => {
  // 1 / 1.0731234 is replaced by a fraction L/M with L <= 4096 within 1e-7; over 1 s that moves
  // the timing by at most 0.0016 samples, so the fitted sine stays within 3e-4 of the ideal one.
  const factor = 1.0731234;
  const y = resample(sine(16000, 1000, 16000), factor, 1);
  assert.equal(y.length, Math.ceil(16000 / factor - 1e-9));
  const fit = fitSine(y, 16000 / factor, 1000, 200, y.length - 200);
  assert.ok(Math.abs(fit.amp - 0.5) < 1e-4, `amplitude ${fit.amp}`);
  assert.ok(fit.resid < 3e-4, `residual ${fit.resid}`);
});
