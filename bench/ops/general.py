"""Torch side of the general family's benchmark rows (bench/ops/general.ts has the toolkit side).

Each row: name (identical to the TypeScript row), setup(threads) -> state, run(state).
Run alone: /opt/refvenv/bin/python bench/ops/general.py [threads...]  (median of 7 after 2 warm-ups).
bench/ops_vs_torch.py serves these rows to bench/ops_vs_torch.ts.
"""
import sys

import torch
import torch.nn.functional as F

from row import run_rows_standalone

N, C, T = 8, 256, 400


def frame_mask():
    """[N, 1, T] mask of valid frames for lengths T - 25n, as general.ts builds it."""
    lengths = torch.tensor([T - 25 * n for n in range(N)])
    return (torch.arange(T)[None, :] < lengths[:, None]).float()[:, None, :]


def row(name, shapes, with_grad, step):
    """step(xs, frames) gets the leaves and the constant [N, 1, T] frame mask."""
    def setup(threads):
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(1)
        xs = [torch.randn(*s, generator=g).requires_grad_(with_grad) for s in shapes]
        return xs, frame_mask()

    def run(state):
        xs, frames = state
        y = step(xs, frames)
        if with_grad:
            y.sum().backward()
            for x in xs:
                x.grad = None
        return y

    return {"name": name, "setup": setup, "run": run}


ROWS = [
    row("logSoftmax forward+backward, [400, 8, 29] along V", [[T, N, 29]], True, lambda xs, _frames: F.log_softmax(xs[0], -1)),
    row("softmax forward, [8, 400, 256] along the last axis", [[N, T, C]], False, lambda xs, _frames: torch.softmax(xs[0], -1)),
    row("permute NCT to NTC forward+backward, [8, 256, 400]", [[N, C, T]], True,
        lambda xs, _frames: xs[0].permute(0, 2, 1).contiguous()),
    row("bias + relu forward+backward, [8, 256, 400] + [256, 1]", [[N, C, T], [C, 1]], True,
        lambda xs, _frames: torch.relu(xs[0] + xs[1])),
    # PyTorch has no fused op for these: the rows time its eager chain against the fused ones.
    row("fused bias + relu (addRelu) forward+backward, [8, 256, 400] + [256, 1]", [[N, C, T], [C, 1]], True,
        lambda xs, _frames: torch.relu(xs[0] + xs[1])),
    row("residual + relu + dropout p 0.2 + frame mask forward+backward, [8, 256, 400]", [[N, C, T], [N, C, T]],
        True, lambda xs, frames: F.dropout(torch.relu(xs[0] + xs[1]), 0.2, training=True) * frames),
    row("fused residual + relu + dropout p 0.2 + frame mask (addReluMasked) forward+backward, [8, 256, 400]",
        [[N, C, T], [N, C, T]], True,
        lambda xs, frames: F.dropout(torch.relu(xs[0] + xs[1]), 0.2, training=True) * frames),
    row("sum over batch and time, [8, 256, 400]", [[N, C, T]], False, lambda xs, _frames: xs[0].sum(dim=(0, 2))),
    row("pad time by 16 then slice it back forward+backward, [8, 256, 400]", [[N, C, T]], True,
        lambda xs, _frames: F.pad(xs[0], (8, 8))[:, :, 8:8 + T].contiguous()),
    row("concat along the last axis, 2 x [8, 400, 256]", [[N, T, C], [N, T, C]], False, lambda xs, _frames: torch.cat(xs, -1)),
    row("dropout p 0.2 forward+backward, [8, 256, 400]", [[N, C, T]], True,
        lambda xs, _frames: F.dropout(xs[0], 0.2, training=True)),
    row("max over the last axis, [3200, 29]", [[N * T, 29]], False, lambda xs, _frames: torch.amax(xs[0], -1)),
    row("matmul forward, 512×512×512", [[512, 512], [512, 512]], False, lambda xs, _frames: xs[0] @ xs[1]),
]


if __name__ == "__main__":
    run_rows_standalone(ROWS, sys.argv[1:])
