/**
 * Aliasing rejection of data/resample.ts, measured on sweeps.
 *
 * Run: ./deno run bench/resample_aliasing.ts
 *
 * For each rate pair an exponential sine sweep (amplitude 0.5, 4 s) runs from the new Nyquist
 * frequency up to the old one: an ideal resampler outputs silence, so all output energy is
 * aliasing folded back below the new Nyquist. It is compared with the output energy of an
 * in-band sweep (100 Hz to 0.9 x new Nyquist) of the same amplitude:
 *   rejection (dB) = 10 log10(mean out^2 of the alias sweep / mean out^2 of the in-band sweep)
 * The worst 20 ms window of the alias sweep (the part just above the new Nyquist, inside the
 * filter's transition band) is reported too, relative to the same in-band mean, and the best of
 * five wall-clock timings per second of input once the filter table is built.
 */
import { resample } from "../data/audio/resample.ts";

function sweep(rate: number, f0: number, f1: number, seconds: number): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  const k = Math.log(f1 / f0) / seconds;
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * f0 * (Math.exp((k * i) / rate) - 1)) / k);
  return x;
}

function meanSquare(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return s / (to - from);
}

/** Overall and worst-window aliasing, in dB relative to the in-band output power. */
export function measureAliasing(
  fromRate: number,
  toRate: number,
): { overallDb: number; worstWindowDb: number } {
  const nyq = Math.min(fromRate, toRate) / 2;
  const alias = sweep(fromRate, nyq, fromRate / 2, 4);
  const inBand = sweep(fromRate, 100, 0.9 * nyq, 4);
  const ya = resample(alias, fromRate, toRate);
  const yi = resample(inBand, fromRate, toRate);
  const edge = 200;
  const ref = meanSquare(yi, edge, yi.length - edge);
  const win = Math.round(0.02 * toRate);
  let worst = 0;
  for (let s = edge; s + win <= ya.length - edge; s += win) {
    worst = Math.max(worst, meanSquare(ya, s, s + win));
  }
  return {
    overallDb: 10 * Math.log10(meanSquare(ya, edge, ya.length - edge) / ref),
    worstWindowDb: 10 * Math.log10(worst / ref),
  };
}

/** Best of 5 timings (after a warm-up that builds the filter table) in ms per second of input. */
function msPerSecond(fromRate: number, toRate: number): number {
  const x = sweep(fromRate, 100, fromRate / 2, 4);
  resample(x, fromRate, toRate);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    resample(x, fromRate, toRate);
    best = Math.min(best, performance.now() - t0);
  }
  return best / 4;
}

if (import.meta.main) {
  console.log("from -> to Hz        overall alias dB   worst 20 ms dB   ms per s of input");
  for (
    const [from, to] of [[48000, 16000], [44100, 16000], [22050, 16000], [16000, 14400], [16000, 16000 / 1.1]]
  ) {
    const r = measureAliasing(from, to);
    console.log(
      `${from} -> ${to.toFixed(1)}`.padEnd(22),
      r.overallDb.toFixed(1).padStart(10),
      r.worstWindowDb.toFixed(1).padStart(16),
      msPerSecond(from, to).toFixed(2).padStart(16),
    );
  }
}
