/**
 * The channel augmentations measured as a listener's instruments would: SNR and spectral slope
 * of coloured noise, attenuation of band limiting, the energy decay (RT60) of synthetic room
 * impulse responses, gain in dB; and seeded determinism of the whole waveform chain.
 */
import assert from "node:assert/strict";
import { bandLimit, butterworth4InPlace, randomBandLimit } from "../../../data/augment/band_limit.ts";
import { addNoiseAtSnr, coloredNoise, meanPower } from "../../../data/augment/colored_noise.ts";
import { applyGainDb, randomGain } from "../../../data/augment/gain.ts";
import { convolveSame, randomReverb, syntheticRir } from "../../../data/augment/reverb.ts";
import { RealFft } from "../../../data/features/fft.ts";
import { augmentWaveform, hasWaveformAugmentation } from "../../../data/pipeline/extract.ts";
import { Rng } from "../../../data/pipeline/rng.ts";

const RATE = 16000;

function tone(n: number, hz: number, amp = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / RATE);
  return x;
}

/** Mean power spectrum (Welch, Hann, 1024-sample segments) of x. */
function powerSpectrum(x: Float32Array, n = 1024): Float64Array {
  const fft = new RealFft(n);
  const re = new Float64Array(fft.nBins), im = new Float64Array(fft.nBins);
  const acc = new Float64Array(fft.nBins);
  const seg = new Float64Array(n);
  let count = 0;
  for (let s = 0; s + n <= x.length; s += n / 2) {
    for (let i = 0; i < n; i++) seg[i] = x[s + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    fft.forward(seg, re, im);
    for (let k = 0; k < fft.nBins; k++) acc[k] += re[k] * re[k] + im[k] * im[k];
    count++;
  }
  for (let k = 0; k < acc.length; k++) acc[k] /= count;
  return acc;
}

/** Mean power in dB over bins whose centre lies in [loHz, hiHz). */
function bandDb(spec: Float64Array, loHz: number, hiHz: number, n = 1024): number {
  let p = 0, c = 0;
  for (let k = 0; k < spec.length; k++) {
    const hz = (k * RATE) / n;
    if (hz >= loHz && hz < hiHz) {
      p += spec[k];
      c++;
    }
  }
  return 10 * Math.log10(p / c);
}

Deno.test("addNoiseAtSnr() adds noise at the requested SNR in every colour", () => {
  const x = tone(32000, 300, 0.3);
  for (const color of ["white", "pink", "brown"] as const) {
    for (const snr of [0, 10, 25]) {
      const y = addNoiseAtSnr(x, snr, color, new Rng(4));
      const noise = y.map((v, i) => v - x[i]);
      const measured = 10 * Math.log10(meanPower(x) / meanPower(noise));
      assert.ok(Math.abs(measured - snr) < 1e-3, `${color} at ${snr} dB measured ${measured}`);
    }
  }
  assert.deepEqual(addNoiseAtSnr(new Float32Array(10), 10, "white", new Rng(1)), new Float32Array(10));
});

Deno.test("pink noise falls about 3 dB and brown about 6 dB per octave; white is flat", () => {
  const n = 1 << 18;
  const slope = (color: "white" | "pink" | "brown"): number => {
    const s = powerSpectrum(coloredNoise(n, color, new Rng(7)));
    // Octaves 250-500, 500-1000, 1000-2000, 2000-4000 Hz: mean drop per octave.
    const bands = [250, 500, 1000, 2000, 4000];
    let drop = 0;
    for (let i = 0; i + 2 < bands.length; i++) {
      drop += bandDb(s, bands[i], bands[i + 1]) - bandDb(s, bands[i + 1], bands[i + 2]);
    }
    return drop / (bands.length - 2);
  };
  const white = slope("white"), pink = slope("pink"), brown = slope("brown");
  assert.ok(Math.abs(white) < 0.5, `white ${white} dB/octave`);
  assert.ok(Math.abs(pink - 3.01) < 0.6, `pink ${pink} dB/octave`);
  assert.ok(Math.abs(brown - 6.02) < 0.8, `brown ${brown} dB/octave`);
  for (const c of ["white", "pink", "brown"] as const) {
    assert.ok(Math.abs(meanPower(coloredNoise(50000, c, new Rng(2))) - 1) < 1e-6, `${c} has unit power`);
  }
});

Deno.test("bandLimit('8k') removes everything above 4 kHz and keeps the voice band", () => {
  const n = 1 << 16;
  const x = coloredNoise(n, "white", new Rng(3));
  const y = bandLimit(x, RATE, "8k");
  assert.equal(y.length, x.length);
  const sx = powerSpectrum(x), sy = powerSpectrum(y);
  assert.ok(bandDb(sy, 4300, 8000) - bandDb(sx, 4300, 8000) < -50, "stop band");
  assert.ok(Math.abs(bandDb(sy, 300, 3500) - bandDb(sx, 300, 3500)) < 0.5, "pass band");
});

Deno.test("bandLimit('telephone') passes 1 kHz, cuts 100 Hz by over 30 dB, and is 3 dB down at its 300 Hz cutoff", () => {
  const pass = tone(16000, 1000);
  const low = tone(16000, 100);
  const rms = (v: Float32Array) => Math.sqrt(meanPower(v.subarray(4000)));
  const passGain = 20 * Math.log10(rms(bandLimit(pass, RATE, "telephone")) / rms(pass));
  const lowGain = 20 * Math.log10(rms(bandLimit(low, RATE, "telephone")) / rms(low));
  assert.ok(Math.abs(passGain) < 0.5, `1 kHz: ${passGain} dB`);
  assert.ok(lowGain < -30, `100 Hz: ${lowGain} dB`);
  // A 4th-order Butterworth high-pass is 3 dB down at its cutoff.
  const at = tone(32000, 300);
  butterworth4InPlace(at, RATE, 300, "high");
  const cutGain = 20 * Math.log10(rms(at) / rms(tone(32000, 300)));
  assert.ok(Math.abs(cutGain + 3.01) < 0.2, `at cutoff: ${cutGain} dB`);
});

Deno.test("a synthetic RIR's Schroeder decay reaches -60 dB at its RT60", () => {
  for (const rt60 of [0.2, 0.5, 0.9]) {
    const h = syntheticRir(RATE, rt60, new Rng(11), 0);
    // Backward-integrated energy of the tail (after the direct path).
    const e = new Float64Array(h.length + 1);
    for (let i = h.length - 1; i >= 1; i--) e[i] = e[i + 1] + h[i] * h[i];
    const db = (i: number) => 10 * Math.log10(e[i] / e[1]);
    // Fit the -5..-25 dB part (T20, as ISO 3382 does) and extrapolate to -60 dB.
    let i5 = 1, i25 = 1;
    while (db(i5) > -5) i5++;
    while (db(i25) > -25) i25++;
    const t60 = ((i25 - i5) / RATE) * 3;
    assert.ok(Math.abs(t60 / rt60 - 1) < 0.1, `RT60 ${rt60}: measured ${t60}`);
    assert.equal(h[0], 1);
    assert.ok(Math.abs(e[1] - 1) < 1e-5, "DRR 0 dB: the tail has the direct path's energy");
  }
});

Deno.test("convolveSame() equals direct convolution", () => {
  const rng = new Rng(5);
  const x = Float32Array.from({ length: 300 }, () => rng.normal());
  const h = Float32Array.from({ length: 37 }, () => rng.normal());
  const y = convolveSame(x, h);
  for (let i = 0; i < x.length; i++) {
    let s = 0;
    for (let j = 0; j < h.length && j <= i; j++) s += h[j] * x[i - j];
    assert.ok(Math.abs(y[i] - s) < 1e-4 * Math.max(1, Math.abs(s)), `sample ${i}: ${y[i]} vs ${s}`);
  }
});

Deno.test("applyGainDb() scales by 10^(dB/20); random parts respect their probability and ranges", () => {
  const x = tone(100, 440);
  const y = applyGainDb(x, 6);
  assert.ok(Math.abs(y[10] / x[10] - Math.pow(10, 0.3)) < 1e-6);
  const rng = new Rng(9);
  for (let i = 0; i < 200; i++) {
    const g = randomGain(x, rng, { minDb: -6, maxDb: 6 }).gainDb;
    assert.ok(g >= -6 && g <= 6);
  }
  let reverbed = 0, limited = 0;
  for (let i = 0; i < 400; i++) {
    if (randomReverb(x, RATE, rng, { probability: 0.25, minRt60S: 0.1, maxRt60S: 0.2 }).rt60S !== null) {
      reverbed++;
    }
    if (randomBandLimit(x, RATE, rng, { probability: 0.5 }).kind !== null) limited++;
  }
  // Binomial: 400 draws, 4.5 standard deviations.
  assert.ok(Math.abs(reverbed - 100) < 4.5 * Math.sqrt(400 * 0.25 * 0.75), `reverb ${reverbed}/400`);
  assert.ok(Math.abs(limited - 200) < 4.5 * Math.sqrt(400 * 0.25), `band limit ${limited}/400`);
  assert.throws(() => randomGain(x, rng, { minDb: 3, maxDb: -3 }), /reversed/);
  assert.throws(
    () => randomReverb(x, RATE, rng, { probability: 2, minRt60S: 0.1, maxRt60S: 0.2 }),
    /probability/,
  );
});

Deno.test("augmentWaveform() is a function of the seed alone, and every part counts as waveform augmentation", () => {
  const x = tone(8000, 440);
  const augment = {
    speed: { range: [0.9, 1.1] as [number, number] },
    reverb: { probability: 1, minRt60S: 0.2, maxRt60S: 0.4 },
    bandLimit: { probability: 1 },
    noiseSnr: { minSnrDb: 10, maxSnrDb: 20 },
    gain: { minDb: -3, maxDb: 3 },
  };
  const a = augmentWaveform(x, RATE, new Rng(1), augment);
  const b = augmentWaveform(x, RATE, new Rng(1), augment);
  const c = augmentWaveform(x, RATE, new Rng(2), augment);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const key of Object.keys(augment)) {
    const only = { [key]: augment[key as keyof typeof augment] };
    assert.ok(
      hasWaveformAugmentation({ features: { inputType: "logfbank", numFeatures: 64 }, augment: only }),
      key,
    );
  }
});
