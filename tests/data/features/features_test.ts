import assert from "node:assert/strict";
import { readAudio } from "../../../data/audio/audio.ts";
import { logMelSpectrogram, logSpectrogram, mfcc } from "../../../data/features/features.ts";
import { testWithSharedData } from "../../shared_data.ts";
import { featureCase, fixturePath, relErrToMax } from "./front_end_fixtures.ts";

// References: librosa 0.11 on a committed LJ Speech clip (tests/fixtures/features/make_features.py).
// Error measure (relErrToMax): max |ours - librosa| / max |librosa| over the whole [F, T] matrix,
// taken on the log scale the feature lives on (natural log for log-mel, dB for the spectrogram).
const TOL = 1e-4;
const clip = readAudio(fixturePath("features", "lj002_0020.wav")).samples;

function check(name: string, got: Float32Array & { shape: readonly [number, number] }): void {
  const ref = featureCase(name);
  assert.deepEqual(got.shape, ref.shape, `${name} shape`);
  const err = relErrToMax(got, ref.data);
  assert.ok(err < TOL, `${name}: relative error ${err} >= ${TOL}`);
}

Deno.test("logMelSpectrogram() defaults match log(librosa melspectrogram(n_fft=512, win 320, hop 160, 64 mels) + 1e-20)", () => {
  check("logmel_default", logMelSpectrogram(clip));
});

Deno.test("logMelSpectrogram() matches librosa with n_fft 400, Hamming, reflect padding, HTK mels without norm", () => {
  check(
    "logmel_htk_hamming_400_reflect",
    logMelSpectrogram(clip, {
      nFft: 400,
      winLength: 400,
      hopLength: 160,
      window: "hamming",
      padMode: "reflect",
      nMels: 40,
      fmin: 20,
      fmax: 7600,
      htk: true,
      norm: null,
    }),
  );
});

Deno.test("logMelSpectrogram() matches librosa without centring (n_fft 512, hop 256, 80 mels)", () => {
  check(
    "logmel_nocenter_512",
    logMelSpectrogram(clip, { nFft: 512, winLength: 512, hopLength: 256, center: false, nMels: 80 }),
  );
});

Deno.test("logSpectrogram() matches 10 log10(max(|librosa.stft(n_fft=320)|^2, 1e-30))", () => {
  check("logspec_320", logSpectrogram(clip));
});

Deno.test("mfcc() matches librosa.feature.mfcc(n_mfcc=13, n_mels=40, lifter=22) with the same STFT", () => {
  check("mfcc_13_40_lifter22", mfcc(clip, { nMfcc: 13, nMels: 40, lifter: 22 }));
});

Deno.test("logMelSpectrogram() gives 1 + floor(n / hop) frames when centred", () => {
  for (const n of [0, 1, 159, 160, 16000, 16001]) {
    const f = logMelSpectrogram(new Float32Array(n).fill(0.1), { nMels: 8 });
    assert.deepEqual(f.shape, [8, 1 + Math.floor(n / 160)]);
  }
});

Deno.test("logMelSpectrogram() normalisation never divides by zero on silence or constant input", () => {
  for (const normalize of ["per_feature", "global"] as const) {
    for (const fill of [0, 0.5]) {
      const f = logMelSpectrogram(new Float32Array(8000).fill(fill), { normalize });
      for (const v of f) assert.ok(Number.isFinite(v), `${normalize} on constant ${fill} gave ${v}`);
    }
  }
});

Deno.test("logMelSpectrogram() per-feature normalisation gives each mel row mean 0 and std 1", () => {
  const f = logMelSpectrogram(clip, { normalize: "per_feature", preemphasis: 0.97 });
  const [nM, nT] = f.shape;
  for (let m = 0; m < nM; m++) {
    let s = 0;
    let ss = 0;
    for (let t = 0; t < nT; t++) s += f[m * nT + t];
    for (let t = 0; t < nT; t++) ss += (f[m * nT + t] - s / nT) ** 2;
    assert.ok(Math.abs(s / nT) < 1e-5, `row ${m} mean ${s / nT}`);
    assert.ok(Math.abs(Math.sqrt(ss / nT) - 1) < 1e-4, `row ${m} std ${Math.sqrt(ss / nT)}`);
  }
});

Deno.test("logMelSpectrogram() dither is repeatable for a seed and differs across seeds", () => {
  const silence = new Float32Array(4000);
  const a = logMelSpectrogram(silence, { dither: 1e-5, seed: 7 });
  const b = logMelSpectrogram(silence, { dither: 1e-5, seed: 7 });
  const c = logMelSpectrogram(silence, { dither: 1e-5, seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // Dither of 1e-5 lifts digital silence from log(1e-20) to roughly log(1e-10 * window energy).
  assert.ok(a[10] > -40, `dithered silence stayed at ${a[10]}`);
});

Deno.test("logMelSpectrogram() pads frames with zeros to a multiple of padTo", () => {
  const f = logMelSpectrogram(clip, { padTo: 16, nMels: 10, normalize: "global" });
  const unpadded = 1 + Math.floor(clip.length / 160);
  assert.equal(f.shape[1] % 16, 0);
  assert.ok(f.shape[1] >= unpadded && f.shape[1] < unpadded + 16);
  assert.equal(f[f.shape[1] - 1], 0);
});

Deno.test("logMelSpectrogram() pre-emphasis changes the features (it is applied)", () => {
  const a = logMelSpectrogram(clip, { nMels: 16 });
  const b = logMelSpectrogram(clip, { nMels: 16, preemphasis: 0.97 });
  assert.ok(b[0] < a[0], "pre-emphasis should lower the lowest mel band");
});

Deno.test("logMelSpectrogram() rejects a window longer than nFft", () => {
  assert.throws(
    () => logMelSpectrogram(clip, { nFft: 256, winLength: 320 }),
    /winLength 320 must be in \[1, nFft=256\]/,
  );
});

testWithSharedData(
  "logMelSpectrogram() of a 2.7 s real clip has 1 + n/160 finite frames",
  "real/misc_clips/wav/speech_recognition_english.wav",
  (path) => {
    const { samples, sampleRate } = readAudio(path);
    const f = logMelSpectrogram(samples, { sampleRate });
    assert.deepEqual(f.shape, [64, 1 + Math.floor(samples.length / 160)]);
    for (const v of f) assert.ok(Number.isFinite(v));
  },
);
