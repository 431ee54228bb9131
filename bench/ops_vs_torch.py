"""Torch side of bench/ops_vs_torch.ts: serves every family's rows (bench/ops/<family>.py).

Reads "setup <row> <threads>", "run <row>" and "quit" lines on stdin and answers each run
with the wall and CPU milliseconds it took, so the Deno side can interleave repetitions.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops"))
import conv  # noqa: E402
import ctc  # noqa: E402
import general  # noqa: E402
import rnn  # noqa: E402

BY_NAME = {r["name"]: r for m in (general, conv, rnn, ctc) for r in m.ROWS}


def serve():
    states = {}
    for line in sys.stdin:
        cmd, _, rest = line.rstrip("\n").partition(" ")
        if cmd == "setup":
            name, _, threads = rest.rpartition(" ")
            states[name] = BY_NAME[name]["setup"](int(threads))
            print("ok", flush=True)
        elif cmd == "run":
            c0, t0 = time.process_time(), time.perf_counter()
            BY_NAME[rest]["run"](states[rest])
            t1, c1 = time.perf_counter(), time.process_time()
            print(f"{(t1 - t0) * 1000:.4f} {(c1 - c0) * 1000:.4f}", flush=True)
        elif cmd == "quit":
            return


if __name__ == "__main__":
    serve()
