"""Torch side of the general family's benchmark rows (bench/ops/general.ts has the toolkit side).

Each row: name (identical to the TypeScript row), setup(threads) -> state, run(state).
Run alone: /opt/refvenv/bin/python bench/ops/general.py [threads...]  (median of 7 after 2 warm-ups).
Serve mode for bench/ops/general_vs_torch.ts: `general.py --serve` reads "setup <row> <threads>"
and "run <row>" lines and answers each with the wall and CPU milliseconds it took.
"""
import sys
import time

import torch
import torch.nn.functional as F

N, C, T = 8, 256, 400


def row(name, shapes, with_grad, step):
    def setup(threads):
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(1)
        return [torch.randn(*s, generator=g).requires_grad_(with_grad) for s in shapes]

    def run(xs):
        y = step(xs)
        if with_grad:
            y.sum().backward()
            for x in xs:
                x.grad = None
        return y

    return {"name": name, "setup": setup, "run": run}


ROWS = [
    row("logSoftmax forward+backward, [400, 8, 29] along V", [[T, N, 29]], True, lambda xs: F.log_softmax(xs[0], -1)),
    row("softmax forward, [8, 400, 256] along the last axis", [[N, T, C]], False, lambda xs: torch.softmax(xs[0], -1)),
    row("permute NCT to NTC forward+backward, [8, 256, 400]", [[N, C, T]], True,
        lambda xs: xs[0].permute(0, 2, 1).contiguous()),
    row("bias + relu forward+backward, [8, 256, 400] + [256, 1]", [[N, C, T], [C, 1]], True,
        lambda xs: torch.relu(xs[0] + xs[1])),
    row("sum over batch and time, [8, 256, 400]", [[N, C, T]], False, lambda xs: xs[0].sum(dim=(0, 2))),
    row("pad time by 16 then slice it back forward+backward, [8, 256, 400]", [[N, C, T]], True,
        lambda xs: F.pad(xs[0], (8, 8))[:, :, 8:8 + T].contiguous()),
    row("concat along the last axis, 2 x [8, 400, 256]", [[N, T, C], [N, T, C]], False, lambda xs: torch.cat(xs, -1)),
    row("dropout p 0.2 forward+backward, [8, 256, 400]", [[N, C, T]], True,
        lambda xs: F.dropout(xs[0], 0.2, training=True)),
    row("max over the last axis, [3200, 29]", [[N * T, 29]], False, lambda xs: torch.amax(xs[0], -1)),
    row("matmul forward, 512×512×512", [[512, 512], [512, 512]], False, lambda xs: xs[0] @ xs[1]),
]
BY_NAME = {r["name"]: r for r in ROWS}


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
    if sys.argv[1:] == ["--serve"]:
        serve()
        sys.exit(0)
    thread_list = [int(a) for a in sys.argv[1:]] or [1]
    for threads in thread_list:
        for r in ROWS:
            state = r["setup"](threads)
            for _ in range(2):
                r["run"](state)
            ms = []
            for _ in range(7):
                t0 = time.perf_counter()
                r["run"](state)
                ms.append((time.perf_counter() - t0) * 1000)
            ms.sort()
            print(f"{r['name']} | threads {threads} | median {ms[3]:.2f} ms (min {ms[0]:.2f})")
