/**
 * `deno bench` entry for the conv family: every row of bench/ops/conv.ts at 1 and 2 GEMM
 * threads. Run: ./deno bench -A bench/conv_bench.ts. The comparison with PyTorch is
 * bench/ops/conv.ts run as a script next to bench/ops/conv.py.
 */
import { rows } from "./ops/conv.ts";

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
