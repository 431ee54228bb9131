import assert from "node:assert/strict";
import { readAudio } from "../../../data/audio/audio.ts";
import { psfFrameCount, psfLogfbank, psfLogPowerSpectrogram, psfMfcc } from "../../../data/features/psf.ts";
import { analysisWindow } from "../../../data/features/window.ts";
import { featureCase, fixturePath, relErrToMax } from "./front_end_fixtures.ts";

// python_speech_features is not installable here. The references come from a NumPy
// re-implementation of psf 0.6's documented algorithm (tests/fixtures/features/make_features.py),
// written separately from data/psf.ts. Error: max |ours - ref| / max |ref| on the log scale.
const TOL = 1e-4;
const clip = readAudio(fixturePath("features", "lj002_0020.wav")).samples;

function check(name: string, got: Float32Array & { shape: readonly [number, number] }): void {
  const ref = featureCase(name);
  assert.deepEqual(got.shape, ref.shape, `${name} shape`);
  const err = relErrToMax(got, ref.data);
  assert.ok(err < TOL, `${name}: relative error ${err}`);
}

Deno.test("psfLogfbank() matches psf.logfbank(winlen=0.02, nfilt=40, nfft=512)", () => {
  check("psf_logfbank_40", psfLogfbank(clip, { winLen: 0.02, winStep: 0.01, nFilters: 40, nFft: 512 }));
});

Deno.test("psfMfcc() matches psf.mfcc with its defaults (13 cepstra, 26 filters, lifter 22, energy)", () => {
  check("psf_mfcc_13", psfMfcc(clip));
});

Deno.test("psfLogPowerSpectrogram() matches psf.logpowspec(framesig(x, 320, 160, np.hanning), 320)", () => {
  const window = analysisWindow("hann", 320, { periodic: false });
  check(
    "psf_logpowspec_hanning_320",
    psfLogPowerSpectrogram(clip, { frameLength: 320, frameStep: 160, nFft: 320, window }),
  );
});

Deno.test("psfFrameCount() follows framesig: one frame up to a frame's length, then ceil over steps", () => {
  assert.equal(psfFrameCount(0, { frameLength: 400, frameStep: 160 }), 1);
  assert.equal(psfFrameCount(400, { frameLength: 400, frameStep: 160 }), 1);
  assert.equal(psfFrameCount(401, { frameLength: 400, frameStep: 160 }), 2);
  assert.equal(
    psfFrameCount(16000, { frameLength: 400, frameStep: 160 }),
    1 + Math.ceil((16000 - 400) / 160),
  );
  // Frame length 0.025 s * 16 kHz = 400.00000000000006 in floating point rounds to 400.
  assert.equal(psfFrameCount(16000, { frameLength: 0.025 * 16000, frameStep: 0.01 * 16000 }), 99);
});

Deno.test("psfLogfbank() of digital silence is log(2^-52), finite, as psf's eps floor gives", () => {
  const f = psfLogfbank(new Float32Array(1600));
  for (const v of f) assert.equal(v, Math.fround(Math.log(Number.EPSILON)));
});
