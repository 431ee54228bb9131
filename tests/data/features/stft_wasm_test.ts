/**
 * The WebAssembly SIMD log-mel path (data/features/stft_wasm.ts) against the TypeScript path
 * (the reference: float64 FFT and mel sums) on the same inputs.
 *
 * Tolerances, on the natural-log scale the features live on: 5e-5 for white noise, where every
 * bin holds energy; 5e-4 for speech, whose quiet high bands sit 80 dB below the frame's peak and
 * so carry the float32 FFT's rounding (about 1e-7 of the peak amplitude) at a relative 1e-4.
 */
import assert from "node:assert/strict";
import { readAudio } from "../../../data/audio/audio.ts";
import { type LogMelOptions, logMelSpectrogram } from "../../../data/features/features.ts";
import { wasmLogMel } from "../../../data/features/stft_wasm.ts";
import { stftLayout } from "../../../data/features/stft.ts";
import { setCpuKernelPath } from "../../../ops/backends/cpu/wasm/kernel_path.ts";
import { fixturePath } from "./front_end_fixtures.ts";

const speech = readAudio(fixturePath("features", "lj002_0020.wav")).samples;

function whiteNoise(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

/** logMelSpectrogram on the TypeScript path and on the WASM path. */
function bothPaths(x: Float32Array, options: LogMelOptions): [Float32Array, Float32Array] {
  const previous = setCpuKernelPath("ts");
  try {
    const ts = logMelSpectrogram(x, options);
    setCpuKernelPath("wasm");
    return [ts, logMelSpectrogram(x, options)];
  } finally {
    setCpuKernelPath(previous);
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] === b[i] ? 0 : Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d; // a NaN difference sticks
  }
  return worst;
}

// The configs' 20 ms window (320 samples) in nFft 512 (radix 4 only); 2·4^k sizes (a radix-2
// stage): 256, 1024 with a 400-sample window, 2048; sizes with radix 5 and 3 stages: 320 (h = 4·4·2·5),
// 400 (4·2·5·5), 480 (4·4·3·5); centred with zeros or reflection, or not centred.
const CASES: { name: string; options: LogMelOptions }[] = [
  { name: "nFft 512, win 320, hop 160, 64 mels (the defaults)", options: {} },
  { name: "nFft 256, win 256, hop 100", options: { nFft: 256, winLength: 256, hopLength: 100, nMels: 40 } },
  { name: "nFft 1024, win 400, 80 mels", options: { nFft: 1024, winLength: 400, nMels: 80 } },
  {
    name: "nFft 2048, hop 512, 128 HTK mels without norm",
    options: { nFft: 2048, winLength: 2048, hopLength: 512, nMels: 128, htk: true, norm: null },
  },
  {
    name: "nFft 512, Hamming, reflect padding, pre-emphasis",
    options: { window: "hamming", padMode: "reflect", preemphasis: 0.97, periodicWindow: false },
  },
  {
    name: "nFft 512, not centred, hop 256",
    options: { nFft: 512, winLength: 512, hopLength: 256, center: false, nMels: 80 },
  },
  { name: "nFft 512, win 318 (framing ends with two single samples)", options: { winLength: 318 } },
  { name: "nFft 320, win 320 (radix 5)", options: { nFft: 320, winLength: 320, nMels: 40 } },
  {
    name: "nFft 400, Hamming, reflect, 40 HTK mels from 20 to 7600 Hz (radix 5 twice)",
    options: {
      nFft: 400,
      winLength: 400,
      window: "hamming",
      padMode: "reflect",
      nMels: 40,
      fmin: 20,
      fmax: 7600,
      htk: true,
    },
  },
  {
    name: "nFft 480, win 400, hop 120 (radix 3 and 5)",
    options: { nFft: 480, winLength: 400, hopLength: 120 },
  },
  { name: "nFft 8, hop 4, 2 mels", options: { nFft: 8, winLength: 8, hopLength: 4, nMels: 2, fmin: 100 } },
];

for (const { name, options } of CASES) {
  Deno.test(`logMelSpectrogram() on the WASM path equals the TypeScript path within 5e-4 on speech: ${name}`, () => {
    const [ts, wasm] = bothPaths(speech, options);
    const err = maxAbsDiff(ts, wasm);
    assert.ok(err <= 5e-4, `max |wasm - ts| = ${err}`);
  });
  Deno.test(`logMelSpectrogram() on the WASM path equals the TypeScript path within 5e-5 on noise: ${name}`, () => {
    // 16003 samples: the frame count is not a multiple of four, so the last lane group is partial.
    const [ts, wasm] = bothPaths(whiteNoise(16003, 3), options);
    const err = maxAbsDiff(ts, wasm);
    assert.ok(err <= 5e-5, `max |wasm - ts| = ${err}`);
  });
}

Deno.test("logMelSpectrogram() on the WASM path handles 1 to 8 frames (partial lane groups) like the TypeScript path", () => {
  for (let nFrames = 1; nFrames <= 8; nFrames++) {
    const [ts, wasm] = bothPaths(whiteNoise(160 * (nFrames - 1) + 37, nFrames), { nMels: 16 });
    assert.equal(ts.length, 16 * nFrames);
    assert.ok(maxAbsDiff(ts, wasm) <= 5e-5, `${nFrames} frames: max |wasm - ts| = ${maxAbsDiff(ts, wasm)}`);
  }
});

Deno.test("logMelSpectrogram() on the WASM path gives log(eps) on digital silence and -Infinity without eps", () => {
  const silence = new Float32Array(3000);
  const [ts, wasm] = bothPaths(silence, { nMels: 8 });
  assert.deepEqual(wasm, ts);
  assert.equal(wasm[0], Math.fround(Math.log(1e-20)));
  const [tsNoEps, wasmNoEps] = bothPaths(silence, { nMels: 8, logEpsilon: 0 });
  assert.deepEqual(wasmNoEps, tsNoEps);
  assert.equal(wasmNoEps[0], -Infinity);
});

Deno.test("wasmLogMel() takes even nFft from 8 up whose half has no prime factor above 5, and declines the rest", () => {
  const sizes: [number, boolean][] = [[512, true], [400, true], [480, true], [8, true]];
  sizes.push([6, false], [14, false], [44, false], [513, false]);
  for (const [nFft, isTaken] of sizes) {
    const nBins = (nFft >> 1) + 1;
    // One filter summing every bin.
    const fb = {
      nRows: 1,
      nCols: nBins,
      start: new Int32Array([0]),
      end: new Int32Array([nBins]),
      weights: new Float32Array(nBins).fill(1),
    };
    const layout = stftLayout(1000, { nFft, winLength: nFft, hopLength: 100 });
    const out = wasmLogMel(whiteNoise(1000, 1), layout, fb, { logEpsilon: 0, planKey: `test-${nFft}` });
    assert.equal(out !== null, isTaken, `nFft ${nFft}`);
  }
});
