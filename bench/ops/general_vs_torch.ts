/**
 * The general family's rows against PyTorch CPU, interleaved in one process pair: this Deno
 * process times a row, then asks the torch process (bench/ops/general.py --serve) to time the
 * same row, alternating for each repetition, so both see the same machine load.
 * Prints, per row, the median wall and CPU times of each side and the toolkit/torch ratios.
 *
 * Run: ./deno run -A bench/ops/general_vs_torch.ts [threads] [repetitions]
 * Not here: the rows themselves (bench/ops/general.ts, bench/ops/general.py).
 */
import process from "node:process";
import { rows } from "./general.ts";

const threads = Number(Deno.args[0] ?? 1);
const reps = Number(Deno.args[1] ?? 9);
const python = Deno.env.get("REF_PYTHON") ?? "/opt/refvenv/bin/python";
const child = new Deno.Command(python, {
  args: [new URL("./general.py", import.meta.url).pathname, "--serve"],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const writer = child.stdin.getWriter();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let pending = "";

/** Next line of the torch process's output (the answers are one line each). */
async function nextLine(): Promise<string | null> {
  while (!pending.includes("\n")) {
    const r = await reader.read();
    if (r.done) return null;
    pending += r.value;
  }
  const k = pending.indexOf("\n");
  const line = pending.slice(0, k);
  pending = pending.slice(k + 1);
  return line;
}

async function ask(line: string): Promise<string> {
  await writer.write(new TextEncoder().encode(line + "\n"));
  const answer = await nextLine();
  if (answer === null) throw new Error(`bench/ops/general.py exited while answering "${line}"`);
  return answer;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const fmt = (v: number): string => v.toFixed(2);
console.log(`threads ${threads}, ${reps} interleaved repetitions after 2 warm-ups each; medians in ms`);
console.log("row | toolkit wall | torch wall | wall ratio | toolkit CPU | torch CPU | CPU ratio");
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
    `${row.name} | ${fmt(w)} | ${fmt(pw)} | ${(w / pw).toFixed(1)} | ${fmt(c)} | ${fmt(pc)} | ${
      (c / pc).toFixed(1)
    }`,
  );
}
await ask("quit").catch(() => "");
await writer.close().catch(() => {});
await child.status;
