/**
 * `deno bench` entry for the ctc family: every row of bench/ops/ctc.ts at 1 and 2 threads.
 * Run: ./deno bench -A bench/ctc_bench.ts. The comparison with PyTorch is bench/ops/ctc.ts
 * run as a script next to bench/ops/ctc.py.
 */
import { rows } from "./ops/ctc.ts";

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
