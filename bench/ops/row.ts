/**
 * What every op benchmark family (bench/ops/<family>.ts) exports: rows that set up inputs for a
 * thread count and time one step. bench/ops_bench.ts registers them with `deno bench`, and
 * bench/ops_vs_torch.ts runs them against the same rows in PyTorch (bench/ops/<family>.py).
 */

/** One benchmark row: `setup` builds the inputs for `threads` GEMM threads, `run` times one step. */
export interface BenchRow {
  name: string;
  setup(threads: number): void;
  run(): void;
}

/** Runs `rows` alone (no peer): median of 7 runs after 2 warm-ups per thread count in `args`. */
export function runRowsStandalone(rows: readonly BenchRow[], args: readonly string[]): void {
  const threadList = args.length ? args.map(Number) : [1, 2];
  for (const threads of threadList) {
    for (const row of rows) {
      row.setup(threads);
      for (let i = 0; i < 2; i++) row.run();
      const ms: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        row.run();
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      console.log(
        `${row.name} | threads ${threads} | median ${ms[3].toFixed(2)} ms (min ${ms[0].toFixed(2)})`,
      );
    }
  }
}
