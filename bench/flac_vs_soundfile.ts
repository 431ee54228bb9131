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
import { readAudio } from "../data/audio.ts";
import { writeWav } from "../data/wav.ts";

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

const child = new Deno.Command(Deno.env.get("PYTHON") ?? "/opt/refvenv/bin/python", {
  args: [here("./flac_vs_soundfile.py")],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const writer = child.stdin.getWriter();
const lines = child.stdout.pipeThrough(new TextDecoderStream()).values();
let buffered = "";
async function readLine(): Promise<string> {
  while (!buffered.includes("\n")) {
    const { value, done } = await lines.next();
    if (done) throw new Error("bench/flac_vs_soundfile.py exited early");
    buffered += value;
  }
  const i = buffered.indexOf("\n");
  const line = buffered.slice(0, i);
  buffered = buffered.slice(i + 1);
  return line;
}
const send = (s: string): Promise<void> => writer.write(new TextEncoder().encode(s + "\n"));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

await send(flac);
console.log(`peer: ${await readLine()}`);
readAudio(flac);
await send("run");
await readLine();
const wall = [[], []] as number[][];
const cpu = [[], []] as number[][];
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  const c0 = cpuMs();
  const n = readAudio(flac).samples.length;
  wall[0].push(performance.now() - t0);
  cpu[0].push(cpuMs() - c0);
  await send("run");
  const [ms, cpuPeer, nPeer] = (await readLine()).split(" ");
  wall[1].push(Number(ms));
  cpu[1].push(Number(cpuPeer));
  if (Number(nPeer) !== n) throw new Error(`sample count mismatch: ${n} vs ${nPeer}`);
}
await send("quit");
await writer.close();
await child.status;
Deno.removeSync(dir, { recursive: true });
const [a, b, c, d] = [median(wall[0]), median(wall[1]), median(cpu[0]), median(cpu[1])];
console.log(`decode 60 s of 16-bit mono FLAC, ${reps} interleaved repetitions, medians:`);
console.log(`wall: toolkit ${a.toFixed(1)} ms, soundfile ${b.toFixed(1)} ms, ratio ${(a / b).toFixed(2)}`);
console.log(`cpu:  toolkit ${c.toFixed(1)} ms, soundfile ${d.toFixed(1)} ms, ratio ${(c / d).toFixed(2)}`);
