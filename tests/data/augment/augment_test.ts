import assert from "node:assert/strict";
import { addNoise, addNoiseAtDb, drawNoiseDb } from "../../../data/augment/noise.ts";
import { Rng } from "../../../data/pipeline/rng.ts";
import { applySpecAugment } from "../../../data/augment/spec_augment.ts";
import { changeSpeed, drawSpeedFactor, speedPerturb } from "../../../data/augment/speed_perturb.ts";

function tone(n: number, hz: number, rate = 16000): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / rate);
  return x;
}

/** Dominant frequency by counting upward zero crossings. */
function zeroCrossHz(x: Float32Array, rate = 16000): number {
  let c = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) c++;
  return (c * rate) / x.length;
}

Deno.test("speed perturbation by 1.1 shortens the audio to 1/1.1 and raises the pitch by 1.1", () => {
  const x = tone(16000, 440);
  const y = changeSpeed(x, 1.1);
  assert.ok(Math.abs(y.length - 16000 / 1.1) <= 1, `length ${y.length}`);
  assert.ok(Math.abs(zeroCrossHz(y.subarray(100, y.length - 100)) / 440 - 1.1) < 0.01);
  const z = changeSpeed(x, 0.9);
  assert.ok(Math.abs(z.length - 16000 / 0.9) <= 1, `length ${z.length}`);
  const fast = changeSpeed(x, 1.1, { filter: "kaiser_fast" });
  assert.equal(fast.length, y.length);
  assert.ok(Math.abs(zeroCrossHz(fast.subarray(100, fast.length - 100)) / 440 - 1.1) < 0.01);
  let diff = 0;
  for (let i = 100; i < y.length - 100; i++) diff = Math.max(diff, Math.abs(fast[i] - y[i]));
  assert.ok(diff < 0.02, `fast vs best differ by ${diff}`);
});

Deno.test("speed factors are drawn from the list or the range, the same for the same seed", () => {
  const draws = (seed: number): number[] => {
    const r = new Rng(seed);
    return Array.from({ length: 40 }, () => drawSpeedFactor(r, { factors: [0.9, 1.0, 1.1] }));
  };
  assert.deepEqual(draws(1), draws(1));
  assert.notDeepEqual(draws(1), draws(2));
  assert.deepEqual(new Set(draws(1)), new Set([0.9, 1.0, 1.1]));
  const r = new Rng(4);
  for (let i = 0; i < 200; i++) {
    const f = drawSpeedFactor(r, { range: [0.85, 1.15] });
    assert.ok(f >= 0.85 && f < 1.15);
  }
  const a = speedPerturb(tone(4000, 300), new Rng(9), { range: [0.8, 1.2] });
  const b = speedPerturb(tone(4000, 300), new Rng(9), { range: [0.8, 1.2] });
  assert.deepEqual(a.samples, b.samples);
  assert.throws(() => drawSpeedFactor(r, {}), /needs `factors` or `range`/);
});

Deno.test("additive noise has the drawn level in dB full scale and repeats for a seed", () => {
  const x = tone(32000, 200);
  for (const db of [-60, -40, -20]) {
    const y = addNoiseAtDb(x, db, new Rng(db));
    let e = 0;
    for (let i = 0; i < x.length; i++) e += (y[i] - x[i]) ** 2;
    const measuredDb = 10 * Math.log10(e / x.length);
    assert.ok(Math.abs(measuredDb - db) < 0.2, `asked ${db} dB, measured ${measuredDb}`);
  }
  const r = new Rng(1);
  const levels = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const l = drawNoiseDb(r, { minDb: -90, maxDb: -85 });
    assert.ok(Number.isInteger(l) && l >= -90 && l < -85);
    levels.add(l);
  }
  assert.equal(levels.size, 5);
  assert.equal(drawNoiseDb(r, { minDb: -50, maxDb: -50 }), -50);
  const a = addNoise(x, new Rng(5), { minDb: -60, maxDb: -30 });
  const b = addNoise(x, new Rng(5), { minDb: -60, maxDb: -30 });
  const c = addNoise(x, new Rng(6), { minDb: -60, maxDb: -30 });
  assert.deepEqual(a.samples, b.samples);
  assert.notDeepEqual(a.samples, c.samples);
});

Deno.test("SpecAugment masks respect counts and widths, zero exactly the masked cells and leave padding alone", () => {
  const F = 40, T = 120, stride = 128;
  const config = { nFreqMasks: 2, freqWidth: 10, nTimeMasks: 3, timeWidth: 20 };
  for (let seed = 0; seed < 50; seed++) {
    const feats = new Float32Array(F * stride).fill(1);
    const masks = applySpecAugment(feats, new Rng(seed), { nFeatures: F, nFrames: T, stride }, config);
    assert.equal(masks.filter((m) => m.axis === "freq").length, 2);
    assert.equal(masks.filter((m) => m.axis === "time").length, 3);
    for (const m of masks) {
      const size = m.axis === "freq" ? F : T;
      assert.ok(m.width >= 0 && m.width <= (m.axis === "freq" ? 10 : 20));
      assert.ok(m.start >= 0 && m.start + m.width <= size);
    }
    for (let f = 0; f < F; f++) {
      for (let t = 0; t < stride; t++) {
        const masked = t < T &&
          masks.some((m) =>
            m.axis === "freq" ? f >= m.start && f < m.start + m.width : t >= m.start && t < m.start + m.width
          );
        assert.equal(feats[f * stride + t], masked ? 0 : 1, `seed ${seed} f ${f} t ${t}`);
      }
    }
  }
  const once = (seed: number): string =>
    JSON.stringify(
      applySpecAugment(new Float32Array(F * T), new Rng(seed), { nFeatures: F, nFrames: T }, config),
    );
  assert.equal(once(3), once(3));
  assert.notEqual(once(3), once(4));
});

Deno.test("SpecAugment on fewer frames than the maximum width stays inside the utterance", () => {
  const feats = new Float32Array(8 * 5).fill(1);
  const masks = applySpecAugment(feats, new Rng(2), { nFeatures: 8, nFrames: 5 }, {
    nFreqMasks: 1,
    freqWidth: 100,
    nTimeMasks: 4,
    timeWidth: 100,
  });
  for (const m of masks) assert.ok(m.start + m.width <= (m.axis === "freq" ? 8 : 5));
});
