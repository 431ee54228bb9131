"""Shared runner of the torch-side op benchmark rows (bench/ops/<family>.py).

A row is {"name", "setup"(threads) -> state, "run"(state)}; bench/ops_vs_torch.py serves them to
bench/ops_vs_torch.ts, and run_rows_standalone times them alone.
"""
import time


def run_rows_standalone(rows, argv):
    """Median wall and CPU ms of 7 runs after 2 warm-ups, per thread count given in argv."""
    for threads in [int(a) for a in argv] or [1, 2]:
        for row in rows:
            state = row["setup"](threads)
            for _ in range(2):
                row["run"](state)
            ms, cpu_ms = [], []
            for _ in range(7):
                c0, t0 = time.process_time(), time.perf_counter()
                row["run"](state)
                ms.append((time.perf_counter() - t0) * 1000)
                cpu_ms.append((time.process_time() - c0) * 1000)
            ms.sort()
            cpu_ms.sort()
            print(f"{row['name']} | threads {threads} | median {ms[3]:.2f} ms (min {ms[0]:.2f}) | "
                  f"cpu median {cpu_ms[3]:.2f} ms")
