"""Torch side of the rnn family's benchmark rows (bench/ops/rnn.ts has the toolkit side).

Each row: name (identical to the TypeScript row), setup(threads) -> state, run(state).
Run alone: /opt/refvenv/bin/python bench/ops/rnn.py [threads...]  (median of 7 after 2 warm-ups).
"""
import sys

import torch

from row import run_rows_standalone


def rnn_row(name, kind, t, n, input_size, hidden, with_backward):
    def setup(threads):
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        cls = torch.nn.GRU if kind == "gru" else torch.nn.LSTM
        net = cls(input_size, hidden, bidirectional=True)
        g = torch.Generator().manual_seed(1)
        x = torch.randn(t, n, input_size, generator=g, requires_grad=with_backward)
        dy = torch.randn(t, n, 2 * hidden, generator=g)
        return net, x, dy

    def run(state):
        net, x, dy = state
        if with_backward:
            y, _ = net(x)
            y.backward(dy)
            x.grad = None
            net.zero_grad(set_to_none=True)
        else:
            with torch.no_grad():
                net(x)

    return {"name": name, "setup": setup, "run": run}


ROWS = [
    rnn_row("GRU bidirectional layer forward, [400, 8, 512] → 2×512", "gru", 400, 8, 512, 512, False),
    rnn_row("GRU bidirectional layer forward+backward, [400, 8, 512] → 2×512", "gru", 400, 8, 512, 512, True),
    rnn_row("LSTM bidirectional layer forward+backward, [400, 8, 512] → 2×512", "lstm", 400, 8, 512, 512, True),
]

if __name__ == "__main__":
    run_rows_standalone(ROWS, sys.argv[1:])
