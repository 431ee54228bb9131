/**
 * Log-mel spectrogram of 60 s of speech: data/features.ts against librosa 0.11, interleaved.
 *
 * Run: ./deno run --allow-read --allow-write --allow-run --allow-env bench/features_vs_librosa.ts [reps]
 * (PYTHON overrides the interpreter, default /opt/refvenv/bin/python)
 *
 * Audio: the committed LJ Speech clip (tests/fixtures/features/lj002_0020.wav) tiled to 60 s at
 * 16 kHz, written to a temporary WAV that both sides read. Each repetition times the toolkit's
 * logMelSpectrogram (defaults: n_fft 512, win 320, hop 160, 64 mels) in this process, then asks the
 * Python peer (bench/features_vs_librosa.py, one long-lived process) to time librosa's equivalent.
 * Prints the medians and the ratio toolkit / librosa (below 1 means the toolkit is faster), for
 * wall-clock time and for process CPU time (all threads; millisecond resolution on Linux), which
 * is steadier when other work shares the machine.
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { readAudio } from "../data/audio/audio.ts";
import { logMelSpectrogram } from "../data/features/features.ts";
import { writeWav } from "../data/audio/wav.ts";
import { median, PeerProcess } from "./peer.ts";

const reps = Number(Deno.args[0] ?? 15);
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const clip = readAudio(here("../tests/fixtures/features/lj002_0020.wav")).samples;
const audio = new Float32Array(16000 * 60);
for (let i = 0; i < audio.length; i++) audio[i] = clip[i % clip.length];
const wav = Deno.makeTempFileSync({ suffix: ".wav" });
writeWav(wav, audio, 16000);
const samples = readAudio(wav).samples; // both sides see the same 16-bit-quantised signal

const peer = new PeerProcess(new URL("./features_vs_librosa.py", import.meta.url));

console.log(`peer: ${await peer.ask(wav)}`);
const ours: number[] = [];
const theirs: number[] = [];
const oursCpu: number[] = [];
const theirsCpu: number[] = [];
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let shape = "";
// One untimed warm-up each (JIT, plan and filterbank caches; librosa's imports).
logMelSpectrogram(samples);
await peer.ask("run");
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  const c0 = cpuMs();
  const f = logMelSpectrogram(samples);
  ours.push(performance.now() - t0);
  oursCpu.push(cpuMs() - c0);
  shape = `[${f.shape[0]}, ${f.shape[1]}]`;
  const [ms, cpu, rows, cols] = (await peer.ask("run")).split(" ");
  theirs.push(Number(ms));
  theirsCpu.push(Number(cpu));
  if (`[${rows}, ${cols}]` !== shape) {
    throw new Error(`shape mismatch: ours ${shape}, librosa [${rows}, ${cols}]`);
  }
}
await peer.close();
Deno.removeSync(wav);
const a = median(ours);
const b = median(theirs);
console.log(`log-mel of 60 s, output ${shape}, ${reps} interleaved repetitions, medians:`);
const c = median(oursCpu);
const d = median(theirsCpu);
console.log(
  `wall: toolkit ${a.toFixed(1)} ms, librosa ${b.toFixed(1)} ms, ratio toolkit/librosa ${(a / b).toFixed(2)}`,
);
console.log(
  `cpu:  toolkit ${c.toFixed(1)} ms, librosa ${d.toFixed(1)} ms, ratio toolkit/librosa ${(c / d).toFixed(2)}`,
);
