"""Torch side of the conv family's benchmark rows (bench/ops/conv.ts has the toolkit side).

Each row: name (identical to the TypeScript row), setup(threads) -> state, run(state).
Run alone: /opt/refvenv/bin/python bench/ops/conv.py [threads...]  (median of 7 after 2 warm-ups;
wall time and process CPU time).
"""
import sys

import torch
import torch.nn.functional as F

from row import run_rows_standalone


def conv1d_row(name, n, cin, cout, k, t, groups, with_backward):
    def setup(threads):
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(1)
        x = torch.randn(n, cin, t, generator=g, requires_grad=with_backward)
        w = (torch.randn(cout, cin // groups, k, generator=g) * 0.05).requires_grad_(with_backward)
        dy = torch.randn(n, cout, t, generator=g)
        return x, w, dy

    def run(state):
        x, w, dy = state
        if with_backward:
            y = F.conv1d(x, w, None, padding="same", groups=groups)
            y.backward(dy)
            x.grad = None
            w.grad = None
        else:
            with torch.no_grad():
                F.conv1d(x, w, None, padding="same", groups=groups)

    return {"name": name, "setup": setup, "run": run}


def ds2_conv2_row(name, shape):
    # SAME for stride [1, 2] on W = 81 with k = 21: out 41, total pad 20 → 10 / 10; H: 5 / 5.
    def setup(threads):
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(2)
        x = torch.randn(*shape, generator=g, requires_grad=True)
        w = (torch.randn(32, shape[1], 11, 21, generator=g) * 0.02).requires_grad_(True)
        return x, w

    def run(state):
        x, w = state
        y = F.conv2d(F.pad(x, (10, 10, 5, 5)), w, None, stride=(1, 2))
        y.backward(y.detach())
        x.grad = None
        w.grad = None

    return {"name": name, "setup": setup, "run": run}


ROWS = [
    conv1d_row("conv1d forward, Jasper [8, 256, 800] k11 256→256", 8, 256, 256, 11, 800, 1, False),
    conv1d_row("conv1d forward+backward, Jasper [8, 256, 800] k11 256→256", 8, 256, 256, 11, 800, 1, True),
    conv1d_row("conv1d depthwise forward+backward, QuartzNet [8, 256, 800] k33", 8, 256, 256, 33, 800, 256, True),
    ds2_conv2_row("conv2d forward+backward, DeepSpeech2 conv2 [4, 32, 100, 81] k[11, 21] s[1, 2]", [4, 32, 100, 81]),
]

if __name__ == "__main__":
    run_rows_standalone(ROWS, sys.argv[1:])
