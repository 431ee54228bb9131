import assert from "node:assert/strict";
import { readAudio } from "../../../data/audio/audio.ts";
import { computeFeatures, type FeatureConfig } from "../../../data/features/compute_features.ts";
import { sharedDataPath, testWithSharedData } from "../../shared_data.ts";
import { featureCase, fixturePath, relErrToMax } from "./front_end_fixtures.ts";

// References follow OpenSeq2Seq's speech_utils.py pipelines (librosa 0.11 and the NumPy psf
// re-implementation) in tests/fixtures/features/make_features.py. Error: max |ours - ref| /
// max |ref| over the normalised [F, T] matrix.
const TOL = 1e-4;
const clip = readAudio(fixturePath("features", "lj002_0020.wav")).samples;

for (
  const name of [
    "o2s_librosa_logfbank_64_perfeature",
    "o2s_librosa_spectrogram_96_global",
    "o2s_psf_logfbank_40",
    "o2s_psf_spectrogram_160",
    "o2s_psf_mfcc_13",
  ]
) {
  Deno.test(`computeFeatures() matches OpenSeq2Seq's pipeline for ${name}`, () => {
    const ref = featureCase(name);
    const f = computeFeatures(clip, ref.params as unknown as FeatureConfig);
    assert.deepEqual([f.nFeatures, f.nFrames], ref.shape);
    assert.equal(f.data.length, f.nFeatures * f.nFrames);
    const err = relErrToMax(f.data, ref.data);
    assert.ok(err < TOL, `relative error ${err}`);
  });
}

Deno.test("computeFeatures() with the psf backend pads the signal so nFrames is a multiple of padTo", () => {
  for (const padTo of [8, 16]) {
    const f = computeFeatures(clip, { inputType: "logfbank", numFeatures: 40, backend: "psf", padTo });
    assert.equal(f.nFrames % padTo, 0);
  }
  assert.equal(
    computeFeatures(clip, { inputType: "logfbank", numFeatures: 40, backend: "psf", padTo: 0 }).nFrames,
    153,
  );
});

Deno.test("computeFeatures() librosa backend keeps the true frame count (batching pads later)", () => {
  const f = computeFeatures(clip, { inputType: "logfbank", numFeatures: 64, padTo: 16 });
  assert.equal(f.nFrames, 1 + Math.floor(clip.length / 160));
  assert.ok(Math.abs(f.duration - clip.length / 16000) < 1e-12);
});

Deno.test("computeFeatures() returns finite features for digital silence with every type and backend", () => {
  const silence = new Float32Array(8000);
  for (const backend of ["librosa", "psf"] as const) {
    for (const inputType of ["logfbank", "spectrogram", "mfcc"] as const) {
      for (const normPerFeature of [false, true]) {
        const f = computeFeatures(silence, { inputType, numFeatures: 20, backend, normPerFeature });
        for (const v of f.data) assert.ok(Number.isFinite(v), `${backend} ${inputType} gave ${v}`);
      }
    }
  }
});

Deno.test("computeFeatures() Jasper settings (dither, per-feature norm) are seeded and repeatable", () => {
  const cfg: FeatureConfig = {
    inputType: "logfbank",
    numFeatures: 64,
    backend: "librosa",
    dither: 1e-5,
    normPerFeature: true,
    seed: 3,
  };
  const a = computeFeatures(clip, cfg);
  const b = computeFeatures(clip, cfg);
  const c = computeFeatures(clip, { ...cfg, seed: 4 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
});

Deno.test("computeFeatures() mfcc (librosa backend) has numFeatures coefficients per frame", () => {
  const f = computeFeatures(clip, { inputType: "mfcc", numFeatures: 13 });
  assert.equal(f.nFeatures, 13);
  assert.equal(f.nFrames, 1 + Math.floor(clip.length / 160));
});

Deno.test("computeFeatures() rejects unknown types, backends and too many spectrogram bins", () => {
  // deno-lint-ignore no-explicit-any
  const bad = (cfg: any) => () => computeFeatures(clip, cfg);
  assert.throws(bad({ inputType: "wav", numFeatures: 4 }), /unknown inputType "wav"/);
  assert.throws(bad({ inputType: "logfbank", numFeatures: 4, backend: "kaldi" }), /unknown backend "kaldi"/);
  assert.throws(bad({ inputType: "spectrogram", numFeatures: 200 }), /exceeds 161 bins/);
  assert.throws(bad({ inputType: "logfbank", numFeatures: 0 }), /numFeatures must be >= 1/);
});

testWithSharedData(
  "computeFeatures() gives finite, normalised features for every real clip in misc_clips and ljspeech",
  "real/misc_clips/wav",
  (dir) => {
    const files = [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`);
    const lj = sharedDataPath("real/ljspeech/wav");
    if (lj !== null) { for (const e of Deno.readDirSync(lj)) files.push(`${lj}/${e.name}`); }
    assert.ok(files.length >= 4);
    for (const path of files) {
      const { samples, sampleRate } = readAudio(path);
      for (const backend of ["librosa", "psf"] as const) {
        const f = computeFeatures(samples, { inputType: "logfbank", numFeatures: 64, backend, sampleRate });
        let sum = 0;
        for (const v of f.data) {
          assert.ok(Number.isFinite(v), `${path} (${backend}) gave ${v}`);
          sum += v;
        }
        assert.ok(Math.abs(sum / f.data.length) < 1e-3, `${path} (${backend}) mean ${sum / f.data.length}`);
      }
    }
  },
);
