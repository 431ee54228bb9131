"""Torch side of the ctc family's benchmark rows (bench/ops/ctc.ts has the toolkit side).

Each row: name (identical to the TypeScript row), setup(threads) -> state, run(state).
Run alone: /opt/refvenv/bin/python bench/ops/ctc.py [threads...]  (median of 7 after 2 warm-ups).
"""
import sys

import torch
import torch.nn.functional as F

from row import run_rows_standalone

T, N, C, S, BLANK = 400, 8, 29, 80, 28


def bench_targets():
    return torch.tensor([[(n * 7 + s * 3 + (s >> 2)) % 28 for s in range(S)] for n in range(N)], dtype=torch.long)


def ctc_row(name, with_backward):
    def setup(threads):
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(1)
        lp = F.log_softmax(torch.randn(T, N, C, generator=g), dim=-1).detach().requires_grad_(with_backward)
        input_lengths = torch.tensor([T - 10 * n for n in range(N)])
        target_lengths = torch.tensor([S - 2 * n for n in range(N)])
        return lp, bench_targets(), input_lengths, target_lengths

    def run(state):
        lp, targets, il, tl = state
        if with_backward:
            F.ctc_loss(lp, targets, il, tl, blank=BLANK, reduction="sum").backward()
            lp.grad = None
        else:
            with torch.no_grad():
                F.ctc_loss(lp, targets, il, tl, blank=BLANK, reduction="sum")

    return {"name": name, "setup": setup, "run": run}


ROWS = [
    ctc_row("ctcLoss forward, T 400, N 8, C 29, S 80", False),
    ctc_row("ctcLoss forward+backward, T 400, N 8, C 29, S 80", True),
]

if __name__ == "__main__":
    run_rows_standalone(ROWS, sys.argv[1:])
