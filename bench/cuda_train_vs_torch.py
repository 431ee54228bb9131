"""CUDA peer of bench/cuda_train_vs_torch.ts: bench/train_vs_torch.py's model, batch and
NovoGrad step (imported from it, unchanged), moved to the GPU and timed between
torch.cuda.synchronize() calls.

Reads one JSON command per line: {"cmd": "setup", ...train_vs_torch's setup fields...} ->
{"params": N}; {"cmd": "train"} -> {"wall_ms": ...}; {"cmd": "quit"}. TF32 is allowed (the
toolkit allows it too); cudnn.benchmark on (the toolkit searches cuDNN algorithms per shape).
"""
import importlib.util
import json
import os
import sys
import time
import types

import torch

# The training step never computes features: a venv without librosa still imports the peer.
if importlib.util.find_spec("librosa") is None:
    sys.modules["librosa"] = types.ModuleType("librosa")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_vs_torch  # noqa: E402

torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.backends.cudnn.benchmark = True


def setup(msg):
    bench = train_vs_torch.Bench({**msg, "threads": 1, "inferSeconds": 0})
    bench.model = bench.model.cuda()  # parameters move in place, so the optimizer keeps them
    bench.x = bench.x.cuda()
    bench.lengths = bench.lengths.cuda()
    bench.targets = bench.targets.cuda()
    bench.target_lengths = bench.target_lengths.cuda()
    return bench


def serve():
    bench = None
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "setup":
            bench = setup(msg)
            out = {"params": bench.params()}
        elif msg["cmd"] == "train":
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            bench.train_step()
            torch.cuda.synchronize()
            out = {"wall_ms": (time.perf_counter() - t0) * 1000}
        elif msg["cmd"] == "quit":
            print("{}", flush=True)
            return
        else:
            out = {"error": f"unknown command {msg['cmd']}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    serve()
