/**
 * Loader throughput: seconds of audio turned into padded feature batches per wall-clock second
 * (FLAC or WAV decoding + resampling check + Jasper-style 64-bin logfbank + padding), in-process
 * and with 1 and 2 feature Workers. The corpus is synthesised with espeak-ng from
 * data/corpora/text/gutenberg_sentences.txt (kept in work/bench_loader/ between runs) and converted
 * to 16 kHz FLAC with sox, like LibriSpeech. Runs are interleaved over the configurations,
 * and the cache is off, so every run decodes and computes everything. Each configuration's
 * figure is its second epoch, after a warm-up epoch.
 *
 * With a Python that has librosa and soundfile (--peer, default /opt/refvenv/bin/python), each
 * repeat also runs bench/loader_throughput_peer.py (OpenSeq2Seq's librosa path, one process) on the
 * same files, and the table shows toolkit / peer throughput ratios (above 1.0: toolkit faster).
 * Besides wall-clock throughput it reports audio seconds per CPU-second (all threads), which a
 * busy shared machine distorts much less.
 *
 *   ./deno run -A bench/loader_throughput.ts [--n 300] [--format flac|wav] [--repeats 3] [--augment]
 *     [--speed-filter kaiser_best|kaiser_fast] [--workers 0,1,2]
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BatchLoader } from "../data/pipeline/loader.ts";
import { filterSentences, hasEspeak, synthesizeCorpus } from "../data/corpora/synth.ts";
import { Vocabulary } from "../data/pipeline/vocabulary.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "300" },
    format: { type: "string", default: "flac" },
    repeats: { type: "string", default: "3" },
    workers: { type: "string", default: "0,1,2" },
    augment: { type: "boolean", default: false },
    "speed-filter": { type: "string", default: "kaiser_best" },
    peer: { type: "string", default: "/opt/refvenv/bin/python" },
  },
});
const n = Number(values.n);
const root = fileURLToPath(new URL("../work/bench_loader/", import.meta.url));
if (!hasEspeak()) {
  console.error("loader_throughput: needs espeak-ng and sox to make its corpus");
  Deno.exit(1);
}
const text = Deno.readTextFileSync(
  fileURLToPath(new URL("../data/corpora/text/gutenberg_sentences.txt", import.meta.url)),
);
const sentences = filterSentences(text.split("\n"), Vocabulary.english()).slice(0, n);
const synth = await synthesizeCorpus(sentences, { outDir: join(root, "wav16k"), seed: 1 });
let entries = synth.entries;
if (values.format === "flac") {
  const dir = join(root, "flac");
  Deno.mkdirSync(dir, { recursive: true });
  entries = await Promise.all(entries.map(async (e, i) => {
    const out = join(dir, `utt${i}.flac`);
    try {
      Deno.statSync(out);
    } catch {
      const r = await new Deno.Command("sox", { args: [e.audioPath, out] }).output();
      if (!r.success) throw new Error(`sox failed on ${e.audioPath}`);
    }
    return { ...e, audioPath: out, durationS: undefined };
  }));
}

const features = { inputType: "logfbank" as const, numFeatures: 64, dither: 1e-5, normPerFeature: true };
const augment = values.augment
  ? {
    speed: { factors: [0.9, 1.0, 1.1], filter: values["speed-filter"] as "kaiser_best" | "kaiser_fast" },
    noise: { minDb: -90, maxDb: -46 },
    specAugment: { nFreqMasks: 2, freqWidth: 6, nTimeMasks: 2, timeWidth: 36 },
  }
  : undefined;
const workerCounts = values.workers.split(",").map(Number);
const results = new Map<number, number[]>();
const cpuResults = new Map<number, number[]>();
const peerRuns: number[] = [];
const peerCpuRuns: number[] = [];
const fileList = join(root, `files_${values.format}.txt`);
Deno.writeTextFileSync(fileList, entries.map((e) => e.audioPath).join("\n") + "\n");
const peerScript = fileURLToPath(new URL("./loader_throughput_peer.py", import.meta.url));
let havePeer = true;
let totalAudioS = 0;
for (let rep = 0; rep < Number(values.repeats); rep++) {
  if (havePeer) {
    try {
      // One BLAS/OpenMP thread: the peer is one loader process, like one Worker; idle BLAS threads
      // spinning on a busy 2-core machine otherwise cost the peer several times its real work.
      const env = { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
      const r = await new Deno.Command(values.peer, {
        args: [peerScript, fileList, ...(values.augment ? ["--augment"] : [])],
        env,
        stderr: "inherit",
      })
        .output();
      const m = /audio_s_per_s ([\d.]+) audio_s_per_cpu_s ([\d.]+)/.exec(new TextDecoder().decode(r.stdout));
      if (!r.success || m === null) throw new Error(`exit ${r.code}`);
      peerRuns.push(Number(m[1]));
      peerCpuRuns.push(Number(m[2]));
    } catch (e) {
      console.error(
        `loader_throughput: no Python peer (${values.peer}: ${(e as Error).message}); toolkit only`,
      );
      havePeer = false;
    }
  }
  for (const nWorkers of workerCounts) {
    using loader = new BatchLoader(entries, {
      features,
      vocabulary: Vocabulary.english(),
      batchSize: 16,
      nBuckets: 4,
      padTo: 16,
      seed: rep,
      nWorkers,
      augment,
    });
    totalAudioS = loader.durations.reduce((s, d) => s + d, 0);
    // Time the second epoch: a training run keeps its Workers for many epochs, so their start-up
    // (module load) and JIT warm-up belong to the first epoch only.
    for await (const _ of loader) { /* warm-up epoch */ }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let frames = 0;
    for await (const b of loader.epoch()) frames += b.featureLengths.reduce((s, x) => s + x, 0);
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    if (frames === 0) throw new Error("no frames");
    if (!results.has(nWorkers)) results.set(nWorkers, []);
    results.get(nWorkers)!.push(totalAudioS / s);
    if (!cpuResults.has(nWorkers)) cpuResults.set(nWorkers, []);
    cpuResults.get(nWorkers)!.push(totalAudioS / cpuS);
  }
}
console.log(
  `corpus: ${entries.length} utterances, ${totalAudioS.toFixed(1)} s of audio, ${values.format}, ` +
    `64-bin logfbank${values.augment ? " + speed/noise/masks" : ""}, ${navigator.hardwareConcurrency} cores`,
);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results.get(workerCounts[0])!);
const peer = havePeer ? median(peerRuns) : NaN;
if (havePeer) {
  console.log(
    `python peer: ${peer.toFixed(0)} s audio / s (runs: ${peerRuns.map((x) => x.toFixed(0)).join(", ")}); ` +
      `${median(peerCpuRuns).toFixed(0)} s audio / CPU-s`,
  );
}
for (const w of workerCounts) {
  const m = median(results.get(w)!);
  console.log(
    `${w === 0 ? "in-process " : `${w} Worker${w > 1 ? "s" : " "}  `}: ${m.toFixed(0)} s audio / s ` +
      `(runs: ${results.get(w)!.map((x) => x.toFixed(0)).join(", ")}; x${(m / base).toFixed(2)} vs ${
        workerCounts[0] === 0 ? "in-process" : `${workerCounts[0]} Workers`
      }${havePeer ? `; toolkit/peer ${(m / peer).toFixed(2)}` : ""}); ` +
      `${median(cpuResults.get(w)!).toFixed(0)} s audio / CPU-s${
        havePeer ? ` (toolkit/peer ${(median(cpuResults.get(w)!) / median(peerCpuRuns)).toFixed(2)})` : ""
      }`,
  );
}
