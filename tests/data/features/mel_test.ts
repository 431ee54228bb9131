import assert from "node:assert/strict";
import { hzToMel, melFilterbank, melToHz, psfFilterbank } from "../../../data/features/mel.ts";
import { featureCase, relErrToMax } from "./front_end_fixtures.ts";

Deno.test("melFilterbank() matches librosa.filters.mel(sr=16000, n_fft=512, n_mels=64) (Slaney)", () => {
  const ref = featureCase("mel_slaney_16k_512_64");
  const fb = melFilterbank({ sampleRate: 16000, nFft: 512, nMels: 64 });
  assert.deepEqual(fb.shape, ref.shape);
  assert.ok(relErrToMax(fb, ref.data) < 1e-6, `relative error ${relErrToMax(fb, ref.data)}`);
});

Deno.test("melFilterbank() matches librosa with htk=True, norm=None, fmin 20, fmax 7600 at 22.05 kHz", () => {
  const ref = featureCase("mel_htk_none_22050_400_40");
  const fb = melFilterbank({
    sampleRate: 22050,
    nFft: 400,
    nMels: 40,
    fmin: 20,
    fmax: 7600,
    htk: true,
    norm: null,
  });
  assert.deepEqual(fb.shape, ref.shape);
  assert.ok(relErrToMax(fb, ref.data) < 1e-6);
});

Deno.test("melFilterbank() accepts norm 'none' as the same as null", () => {
  const a = melFilterbank({ sampleRate: 16000, nFft: 256, nMels: 20, norm: "none" });
  const b = melFilterbank({ sampleRate: 16000, nFft: 256, nMels: 20, norm: null });
  assert.deepEqual(a, b);
  let peak = 0;
  for (const v of a) peak = Math.max(peak, v);
  assert.ok(peak <= 1 && peak > 0.9, `unnormalised triangles peak at ${peak}`);
});

Deno.test("melFilterbank() rejects a bad frequency range or unknown norm", () => {
  assert.throws(() => melFilterbank({ sampleRate: 16000, nFft: 512, fmin: 5000, fmax: 4000 }), /fmin < fmax/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => melFilterbank({ sampleRate: 16000, nFft: 512, norm: "l2" as any }), /unknown norm/);
});

Deno.test("hzToMel() and melToHz() are inverse on both scales and Slaney is linear below 1 kHz", () => {
  for (const htk of [false, true]) {
    for (const f of [0, 100, 999, 1000, 1001, 4000, 8000, 22050]) {
      assert.ok(Math.abs(melToHz(hzToMel(f, htk), htk) - f) < 1e-9 * Math.max(1, f));
    }
  }
  assert.ok(Math.abs(hzToMel(600) - 9) < 1e-12);
  assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(1000, true) - 999.9855371) < 1e-6);
});

Deno.test("psfFilterbank() matches python_speech_features' get_filterbanks(40, 512, 16000) exactly", () => {
  // Reference from the NumPy re-implementation of psf 0.6 in tests/fixtures/features/make_features.py.
  const ref = featureCase("psf_filterbank_40_512");
  const fb = psfFilterbank({ sampleRate: 16000, nFft: 512, nFilters: 40 });
  assert.deepEqual(fb.shape, ref.shape);
  assert.equal(relErrToMax(fb, ref.data), 0);
});
