"""Torch side of bench/cuda_vs_torch.ts: the same rows on the same GPU.

Reads "info", "setup <row>", "run <row> <iters>", "free <row>" and "quit" lines on stdin; a run
answers the milliseconds per call of <iters> calls between two torch.cuda.synchronize().
TF32 is allowed for f32 rows, as the toolkit allows it; *_bf16 rows run under autocast(bf16).
"""
import sys
import time

import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.backends.cudnn.benchmark = True  # the toolkit also searches cuDNN algorithms per shape
dev = torch.device("cuda")


def normal(*shape):
    return torch.randn(*shape, device=dev)


def conv_backward(x, w, dy):
    torch.ops.aten.convolution_backward(dy, x, w, None, [1], [5], [1], False, [0], 1, [True, True, False])


ROWS = {
    "matmul_4096": (lambda: [normal(4096, 4096), normal(4096, 4096)], lambda a, b: a @ b),
    "matmul_4096_bf16": (lambda: [normal(4096, 4096), normal(4096, 4096)], lambda a, b: a @ b),
    "batched_matmul_64x256": (lambda: [normal(64, 256, 256), normal(64, 256, 256)], lambda a, b: a @ b),
    "add_16M": (lambda: [normal(4096, 4096), normal(4096, 4096)], lambda a, b: a + b),
    "add_bias_16M": (lambda: [normal(4096, 4096), normal(4096)], lambda a, b: a + b),
    "sum_rows_16M": (lambda: [normal(4096, 4096)], lambda a: a.sum(1)),
    "softmax_8192x1024": (lambda: [normal(8192, 1024)], lambda a: torch.softmax(a, -1)),
    "conv1d_jasper_256x11": (lambda: [normal(32, 256, 800), normal(256, 256, 11)], lambda x, w: F.conv1d(x, w, padding=5)),
    "conv1d_jasper_256x11_bf16": (
        lambda: [normal(32, 256, 800), normal(256, 256, 11)],
        lambda x, w: F.conv1d(x, w, padding=5),
    ),
    "conv1d_jasper_256x11_backward": (
        lambda: [normal(32, 256, 800), normal(256, 256, 11), normal(32, 256, 800)],
        conv_backward,
    ),
    "conv1d_depthwise_256x33": (
        lambda: [normal(32, 256, 800), normal(256, 1, 33)],
        lambda x, w: F.conv1d(x, w, padding=16, groups=256),
    ),
}


def serve():
    state = {}
    for line in sys.stdin:
        parts = line.split()
        cmd = parts[0]
        if cmd == "info":
            print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
                  f"{torch.cuda.get_device_name(0)}", flush=True)
        elif cmd == "setup":
            state[parts[1]] = ROWS[parts[1]][0]()
            print("ok", flush=True)
        elif cmd == "run":
            name, iters = parts[1], int(parts[2])
            fn, args = ROWS[name][1], state[name]
            bf16 = name.endswith("_bf16")
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                for _ in range(iters):
                    fn(*args)
                torch.cuda.synchronize()
            print(f"{(time.perf_counter() - t0) * 1000 / iters:.4f}", flush=True)
        elif cmd == "free":
            del state[parts[1]]
            torch.cuda.empty_cache()
            print("ok", flush=True)
        elif cmd == "quit":
            return


if __name__ == "__main__":
    serve()
