/**
 * FLAC decoding speed: data/flac.ts (through readAudio, file read included, MD5 checked) against
 * libsndfile/libFLAC through Python's soundfile, interleaved in one process pair.
 *
 * Run: ./deno run --allow-read --allow-write --allow-run --allow-env bench/flac_vs_soundfile.ts [reps]
 * (needs sox to encode the test file; PYTHON overrides /opt/refvenv/bin/python)
 *
 * Audio: the LJ Speech fixture tiled to 60 s, 16 kHz 16-bit mono, encoded by sox at its default
 * FLAC level. Prints medians of wall-clock and process CPU time and the ratios toolkit / peer.
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { readAudio } from "../data/audio/audio.ts";
import { writeWav } from "../data/audio/wav.ts";
import { median, PeerProcess } from "./peer.ts";

const reps = Number(Deno.args[0] ?? 15);
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const clip = readAudio(here("../tests/fixtures/features/lj002_0020.wav")).samples;
const audio = new Float32Array(16000 * 60);
for (let i = 0; i < audio.length; i++) audio[i] = clip[i % clip.length];
const dir = Deno.makeTempDirSync();
const wav = `${dir}/a.wav`;
const flac = `${dir}/a.flac`;
writeWav(wav, audio, 16000);
const sox = new Deno.Command("sox", { args: [wav, flac] }).outputSync();
if (!sox.success) {
  throw new Error(`bench/flac_vs_soundfile.ts: sox failed: ${new TextDecoder().decode(sox.stderr)}`);
}

const peer = new PeerProcess(new URL("./flac_vs_soundfile.py", import.meta.url));
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

console.log(`peer: ${await peer.ask(flac)}`);
readAudio(flac);
await peer.ask("run");
const wall = [[], []] as number[][];
const cpu = [[], []] as number[][];
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  const c0 = cpuMs();
  const n = readAudio(flac).samples.length;
  wall[0].push(performance.now() - t0);
  cpu[0].push(cpuMs() - c0);
  const [ms, cpuPeer, nPeer] = (await peer.ask("run")).split(" ");
  wall[1].push(Number(ms));
  cpu[1].push(Number(cpuPeer));
  if (Number(nPeer) !== n) throw new Error(`sample count mismatch: ${n} vs ${nPeer}`);
}
await peer.close();
Deno.removeSync(dir, { recursive: true });
const [a, b, c, d] = [median(wall[0]), median(wall[1]), median(cpu[0]), median(cpu[1])];
console.log(`decode 60 s of 16-bit mono FLAC, ${reps} interleaved repetitions, medians:`);
console.log(`wall: toolkit ${a.toFixed(1)} ms, soundfile ${b.toFixed(1)} ms, ratio ${(a / b).toFixed(2)}`);
console.log(`cpu:  toolkit ${c.toFixed(1)} ms, soundfile ${d.toFixed(1)} ms, ratio ${(c / d).toFixed(2)}`);
