/**
 * Peak resident memory of inference against the amount of audio: `train --mode infer` on
 * manifests of 20 minutes and 2 hours (hard links to one 10 s espeak-ng utterance), each in its
 * own process, writing transcripts and a logits file. The peak (VmHWM of the child) should not
 * grow with the number of files, since inference decodes and writes one batch at a time.
 *
 *   ./deno run -A bench/infer_memory.ts [--minutes 20,120] [--checkpoint models/pretrained/small_wide_espeak.safetensors]
 *
 * Needs espeak-ng and sox. Files stay in work/infer_memory/ between runs.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "20,120" },
    checkpoint: {
      type: "string",
      default: fileURLToPath(new URL("../models/pretrained/small_wide_espeak.safetensors", import.meta.url)),
    },
  },
});
const root = fileURLToPath(new URL("../", import.meta.url));
const dir = `${root}work/infer_memory`;
await Deno.mkdir(`${dir}/wav`, { recursive: true });

async function run(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

const source = `${dir}/utt.wav`;
try {
  Deno.statSync(source);
} catch {
  const text = "it was the best of times it was the worst of times it was the age of wisdom " +
    "it was the age of foolishness it was the epoch of belief";
  await run("espeak-ng", ["-v", "en-us", "-w", `${dir}/raw.wav`, text]);
  await run("sox", [
    `${dir}/raw.wav`,
    "-r",
    "16000",
    "-c",
    "1",
    "-b",
    "16",
    source,
    "pad",
    "0",
    "1",
    "trim",
    "0",
    "10",
  ]);
}
const wavBytes = Deno.statSync(source).size;

/** Peak resident set (VmHWM) and wall time of one infer run in a child process. */
async function inferPeak(manifest: string, out: string): Promise<{ peakMiB: number; seconds: number }> {
  // The child reports its own VmHWM at exit, so the figure is the process's peak, not a sample.
  const probe = `${dir}/peak_probe.ts`;
  Deno.writeTextFileSync(
    probe,
    `globalThis.addEventListener("unload", () => {
  const s = Deno.readTextFileSync("/proc/self/status");
  Deno.writeTextFileSync(${JSON.stringify(`${dir}/peak.txt`)}, /VmHWM:\\s+(\\d+)/.exec(s)![1]);
});
await import(${JSON.stringify(`${root}scripts/train.ts`)});
`,
  );
  const t0 = performance.now();
  await run(`${root}deno`, [
    "run",
    "-A",
    probe,
    "--config",
    "small_wide",
    "--mode",
    "infer",
    "--checkpoint",
    values.checkpoint!,
    `--data.infer=${manifest}`,
    "--infer_output_file",
    out,
    "--logits_output_file",
    `${out}.safetensors`,
  ]);
  const kib = Number(Deno.readTextFileSync(`${dir}/peak.txt`));
  return { peakMiB: kib / 1024, seconds: (performance.now() - t0) / 1000 };
}

for (const minutes of values.minutes!.split(",").map(Number)) {
  const n = Math.round(minutes * 6);
  for (let i = 0; i < n; i++) {
    const p = `${dir}/wav/u${i}.wav`;
    try {
      Deno.statSync(p);
    } catch {
      Deno.linkSync(source, p);
    }
  }
  const manifest = `${dir}/m${minutes}.csv`;
  const rows = ["wav_filename,wav_filesize,transcript"];
  for (let i = 0; i < n; i++) rows.push(`wav/u${i}.wav,${wavBytes},x`);
  Deno.writeTextFileSync(manifest, rows.join("\n") + "\n");
  const r = await inferPeak(manifest, `${dir}/out${minutes}.csv`);
  console.log(
    `${minutes} min of audio (${n} files): peak RSS ${r.peakMiB.toFixed(0)} MiB, ${r.seconds.toFixed(0)} s`,
  );
}
