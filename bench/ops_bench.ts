/**
 * `deno bench` entry for the op layer: every row of bench/ops/{general,conv,rnn,ctc}.ts at 1 and
 * 2 GEMM threads, grouped by row with 1 thread as the baseline.
 *
 * Run: ./deno task bench (or ./deno bench -A bench/ops_bench.ts). The comparison with PyTorch is
 * bench/ops_vs_torch.ts.
 */
import { rows as conv } from "./ops/conv.ts";
import { rows as ctc } from "./ops/ctc.ts";
import { rows as general } from "./ops/general.ts";
import { rows as rnn } from "./ops/rnn.ts";

for (const threads of [1, 2]) {
  for (const row of [...general, ...conv, ...rnn, ...ctc]) {
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
