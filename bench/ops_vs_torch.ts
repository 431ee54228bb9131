/**
 * The op benchmarks against PyTorch CPU, interleaved in one process pair: this Deno process
 * times a row, then asks the torch process (bench/ops_vs_torch.py) to time the same row,
 * alternating every repetition so both sides see the same machine load. Prints, per row and
 * thread count, the median wall and CPU milliseconds of each side and toolkit/torch ratios.
 *
 *   ./deno run -A bench/ops_vs_torch.ts [--threads 1,2] [--reps 9] [--filter conv]
 *
 * The rows live with their families: bench/ops/{general,conv,rnn,ctc}.{ts,py}.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { rows as conv } from "./ops/conv.ts";
import { rows as ctc } from "./ops/ctc.ts";
import { rows as general } from "./ops/general.ts";
import { rows as rnn } from "./ops/rnn.ts";
import { median, PeerProcess } from "./peer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    threads: { type: "string", default: "1,2" },
    reps: { type: "string", default: "9" },
    filter: { type: "string", default: "" },
  },
});
const reps = Number(values.reps);
const rows = [...general, ...conv, ...rnn, ...ctc].filter((r) => r.name.includes(values.filter));
const peer = new PeerProcess(new URL("./ops_vs_torch.py", import.meta.url));
const ask = (line: string): Promise<string> => peer.ask(line);

console.log(`${reps} interleaved repetitions after 2 warm-ups each; medians in ms`);
console.log(
  "| row | threads | toolkit wall | torch wall | wall ratio | toolkit CPU | torch CPU | CPU ratio |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const threads of values.threads.split(",").map(Number)) {
  for (const row of rows) {
    row.setup(threads);
    await ask(`setup ${row.name} ${threads}`);
    for (let i = 0; i < 2; i++) {
      row.run();
      await ask(`run ${row.name}`);
    }
    const wall: number[] = [], cpu: number[] = [], peerWall: number[] = [], peerCpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      // CPU time as well as wall time: on a shared machine it is the steadier of the two.
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      row.run();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      const [w, pc] = (await ask(`run ${row.name}`)).split(" ").map(Number);
      peerWall.push(w);
      peerCpu.push(pc);
    }
    const [w, pw, c, pc] = [median(wall), median(peerWall), median(cpu), median(peerCpu)];
    console.log(
      `| ${row.name} | ${threads} | ${w.toFixed(2)} | ${pw.toFixed(2)} | ${(w / pw).toFixed(2)} | ${
        c.toFixed(2)
      } | ${pc.toFixed(2)} | ${(c / pc).toFixed(2)} |`,
    );
  }
}
await peer.close();
