/**
 * `deno bench` entry for the general ops (reductions, softmax, layout ops, dropout): the rows
 * of bench/ops/general.ts, one Deno.bench each, single-threaded.
 *
 * Run: ./deno bench -A bench/general_bench.ts
 */
import { rows } from "./ops/general.ts";

for (const row of rows) {
  let ready = false;
  Deno.bench(row.name, { group: "general ops" }, () => {
    if (!ready) {
      row.setup(1);
      ready = true;
    }
    row.run();
  });
}
