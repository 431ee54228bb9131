/**
 * `deno bench` entry for the rnn family: every row of bench/ops/rnn.ts at 1 and 2 threads.
 * Run: ./deno bench -A bench/rnn_bench.ts. The comparison with PyTorch is bench/ops/rnn.ts
 * run as a script next to bench/ops/rnn.py.
 */
import { rows } from "./ops/rnn.ts";

for (const threads of [1, 2]) {
  for (const row of rows) {
    let ready = false;
    Deno.bench({
      name: `${row.name} (${threads} thread${threads > 1 ? "s" : ""})`,
      group: row.name,
      baseline: threads === 1,
      fn: () => {
        if (!ready) {
          row.setup(threads);
          ready = true;
        }
        row.run();
      },
    });
  }
}
