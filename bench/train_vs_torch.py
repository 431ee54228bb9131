"""PyTorch peer of bench/train_vs_torch.ts: the same TDNN architecture (built from the very
encoder config the toolkit uses, sent as JSON), timed on a fixed random batch.

- Model: per sub-block Conv1d without bias (depthwise + pointwise when separable), BatchNorm1d,
  ReLU or clipped ReLU (hardtanh 0..20), dropout; residual blocks add 1x1 conv + BatchNorm1d
  projections of the block input (of every earlier residual block's input when dense) before
  the last activation; padded frames are zeroed before every convolution (use_conv_mask).
  Then Linear to the vocabulary, log_softmax and F.ctc_loss (sum over the batch / batch size).
  BatchNorm1d counts padded frames in its statistics (the toolkit's batch norm skips them).
- Train step: forward, loss.item(), backward, global gradient norm .item(), then NovoGrad
  (OpenSeq2Seq's: per-tensor scalar second moment, TF momentum) written in torch ops.
- Inference: 10 s of audio -> librosa log-mel (the toolkit's librosa backend settings) ->
  per-feature normalisation -> eval-mode forward -> logits as numpy.

Serve mode (`train_vs_torch.py --serve`) reads one JSON command per line and answers one line:
  {"cmd": "setup", "encoder": {...}, "numFeatures": 64, "vocab": 29, "batch": 16, "frames": 400,
   "threads": 1, "optimizer": {...}, "lr": 0.01, "features": {...}}  -> {"params": N}
  {"cmd": "train"} / {"cmd": "infer"}  -> {"wall_ms": ..., "cpu_ms": ...}
  {"cmd": "check", "dir": ..., "encoder": ..., "numFeatures": ..., "vocab": ..., "shape": [N, F, T],
   "lengths": [...]}  -> {"maxAbsDiff": ...}: the toolkit's weights and input (files in dir) through
   this model, against the toolkit's logits, so both sides provably time the same function.
Alone: /opt/refvenv/bin/python bench/train_vs_torch.py (a quick self-check of one step).
"""
import json
import math
import re
import sys
import time

import librosa
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBn(nn.Module):
    def __init__(self, cin, cout, kernel, stride, dilation, separable, bn_eps, bn_momentum):
        super().__init__()
        pad = (kernel - 1) * dilation // 2
        if separable and kernel > 1:
            self.convs = nn.ModuleList([
                nn.Conv1d(cin, cin, kernel, stride=stride, dilation=dilation, padding=pad, groups=cin, bias=False),
                nn.Conv1d(cin, cout, 1, bias=False),
            ])
        else:
            s, d, p = (stride, dilation, pad) if kernel > 1 else (1, 1, 0)
            self.convs = nn.ModuleList([nn.Conv1d(cin, cout, kernel, stride=s, dilation=d, padding=p, bias=False)])
        self.bn = nn.BatchNorm1d(cout, eps=bn_eps, momentum=bn_momentum)

    def conv(self, x, mask):
        y = x * mask
        for c in self.convs:
            y = c(y)
        return y


class TdnnEncoder(nn.Module):
    def __init__(self, in_features, cfg):
        super().__init__()
        self.cfg = cfg
        eps, mom = cfg["bnEps"], cfg["bnMomentum"]
        self.blocks = nn.ModuleList()
        cin = in_features
        residual_inputs = []
        for b in cfg["blocks"]:
            block = nn.Module()
            block.subs = nn.ModuleList()
            for r in range(b["repeat"]):
                block.subs.append(ConvBn(cin if r == 0 else b["channels"], b["channels"], b["kernel"],
                                         b.get("stride", 1), b.get("dilation", 1), b.get("separable", False),
                                         eps, mom))
            sources = []
            if b.get("residual"):
                residual_inputs.append(cin)
                sources = list(residual_inputs) if b.get("residualDense") else [cin]
            block.projections = nn.ModuleList([ConvBn(ch, b["channels"], 1, 1, 1, False, eps, mom) for ch in sources])
            self.blocks.append(block)
            cin = b["channels"]
        self.out_channels = cin

    def forward(self, x, lengths):
        def mask_of(lens, t):
            return (torch.arange(t)[None, :] < lens[:, None]).to(x.dtype)[:, None, :]

        lens = lengths.clone()
        h = x
        mask = mask_of(lens, h.shape[2])
        residual_inputs = []
        act = F.relu if self.cfg["activation"] == "relu" else (lambda v: F.hardtanh(v, 0.0, 20.0))
        for b, block in zip(self.cfg["blocks"], self.blocks):
            if b.get("residual"):
                residual_inputs.append((h, mask))
            sources = (residual_inputs if b.get("residualDense") else residual_inputs[-1:]) if b.get("residual") else []
            for r, sub in enumerate(block.subs):
                h = sub.conv(h, mask)
                s = b.get("stride", 1)
                if s > 1:
                    lens = (lens + s - 1) // s
                    mask = mask_of(lens, h.shape[2])
                h = sub.bn(h)
                if r == b["repeat"] - 1:
                    for proj, (src, src_mask) in zip(block.projections, sources):
                        h = h + proj.bn(proj.conv(src, src_mask))
                h = F.dropout(act(h), b["dropout"], self.training)
        return h * mask, lens


class CtcModel(nn.Module):
    def __init__(self, in_features, num_classes, encoder_cfg):
        super().__init__()
        self.encoder = TdnnEncoder(in_features, encoder_cfg)
        self.decoder = nn.Linear(self.encoder.out_channels, num_classes)

    def forward(self, x, lengths):
        h, lens = self.encoder(x, lengths)
        return self.decoder(h.permute(0, 2, 1)), lens

    def loss(self, logits, lens, targets, target_lengths):
        log_probs = F.log_softmax(logits, -1).permute(1, 0, 2)
        total = F.ctc_loss(log_probs, targets, lens, target_lengths, blank=logits.shape[-1] - 1,
                           reduction="sum", zero_infinity=True)
        return total / logits.shape[0]


class NovoGrad:
    """OpenSeq2Seq's NovoGrad, as models/optimizers/novograd.ts."""

    def __init__(self, params, beta1=0.95, beta2=0.98, eps=1e-8, weight_decay=0.0, grad_averaging=False):
        self.params = list(params)
        self.b1, self.b2, self.eps, self.wd, self.avg = beta1, beta2, eps, weight_decay, grad_averaging
        self.m = [None] * len(self.params)
        self.v = [None] * len(self.params)

    @torch.no_grad()
    def step(self, lr):
        for i, w in enumerate(self.params):
            g = w.grad
            if g is None:
                continue
            g2 = (g * g).sum()
            self.v[i] = g2 if self.v[i] is None else self.v[i] * self.b2 + g2 * (1 - self.b2)
            g_hat = g / torch.sqrt(self.v[i] + self.eps)
            if self.wd > 0:
                g_hat = g_hat + w * self.wd
            if self.avg:
                g_hat = g_hat * (1 - self.b1)
            self.m[i] = g_hat if self.m[i] is None else self.m[i] * self.b1 + g_hat
            w.sub_(self.m[i] * lr)
            w.grad = None


def features_librosa(audio, f):
    """The toolkit's librosa backend (data/compute_features.ts): peak-normalised, pre-emphasis,
    slaney log-mel, per-feature normalisation."""
    sr = 16000
    win = int(round(f.get("windowSize", 0.02) * sr))
    hop = int(round(f.get("windowStride", 0.01) * sr))
    n_fft = 2 ** math.ceil(math.log2(win))
    x = audio / (np.abs(audio).max() + 1e-5)
    x = np.append(x[0], x[1:] - f.get("preemphasis", 0.97) * x[:-1]).astype(np.float32)
    s = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win, window="hann", center=True,
                            pad_mode="constant")) ** 2
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=f["numFeatures"], fmin=0, fmax=sr // 2, htk=False,
                              norm="slaney")
    feats = np.log(mel @ s + 1e-20)
    feats = (feats - feats.mean(axis=1, keepdims=True)) / (feats.std(axis=1, keepdims=True) + 1e-5)
    return feats.astype(np.float32)


class Bench:
    def __init__(self, spec):
        torch.set_num_threads(int(spec["threads"]))
        torch.manual_seed(0)
        n, fdim, t, v = spec["batch"], spec["numFeatures"], spec["frames"], spec["vocab"]
        self.model = CtcModel(fdim, v, spec["encoder"]).train()
        o = spec["optimizer"]
        self.opt = NovoGrad(self.model.parameters(), beta1=o.get("beta1", 0.95), beta2=o.get("beta2", 0.98),
                            eps=o.get("epsilon", 1e-8), weight_decay=o.get("weightDecay", 0.0),
                            grad_averaging=o.get("gradAveraging", False))
        self.lr = spec["lr"]
        self.features_cfg = spec["features"]
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, fdim, t, generator=g)
        # Lengths t, t-6, t-12, ... as the toolkit side: the masks have work to do.
        self.lengths = torch.tensor([t - 6 * i for i in range(n)], dtype=torch.long)
        self.target_lengths = torch.tensor([int(spec["targetLength"])] * n, dtype=torch.long)
        self.targets = torch.randint(0, v - 1, (int(self.target_lengths.sum()),), generator=g)
        rng = np.random.default_rng(2)
        ts = np.arange(int(spec["inferSeconds"] * 16000)) / 16000
        self.audio = (0.3 * np.sin(2 * np.pi * 220 * ts) + 0.05 * rng.standard_normal(ts.size)).astype(np.float32)

    def params(self):
        return sum(p.numel() for p in self.model.parameters())

    def train_step(self):
        self.model.train()
        logits, lens = self.model(self.x, self.lengths)
        loss = self.model.loss(logits, lens, self.targets, self.target_lengths)
        loss_value = loss.item()
        loss.backward()
        norm = torch.sqrt(sum((p.grad * p.grad).sum() for p in self.model.parameters() if p.grad is not None))
        norm.item()
        self.opt.step(self.lr)
        return loss_value

    def infer(self):
        self.model.eval()
        with torch.no_grad():
            f = torch.from_numpy(features_librosa(self.audio, self.features_cfg))[None]
            logits, _ = self.model(f, torch.tensor([f.shape[2]]))
            return logits.numpy()


def torch_name(name):
    """The torch parameter name of a toolkit state-dict name (models/tdnn.ts naming)."""
    t = re.sub(r"block(\d+)", r"blocks.\1", name)
    t = re.sub(r"sub(\d+)", r"subs.\1", t)
    t = re.sub(r"res(\d+)", r"projections.\1", t)
    return t.replace(".conv.", ".convs.0.").replace(".depthwise.", ".convs.0.").replace(".pointwise.", ".convs.1.")


def check(msg):
    """Loads the toolkit's weights (raw float32 in state-dict order) into a fresh torch model and
    returns the largest difference between its eval-mode logits and the toolkit's."""
    d = msg["dir"]
    names = json.load(open(f"{d}/names.json"))
    flat = np.fromfile(f"{d}/state.f32", dtype=np.float32)
    model = CtcModel(msg["numFeatures"], msg["vocab"], msg["encoder"]).eval()
    sd, o = {}, 0
    for name, shape in names:
        n = int(np.prod(shape)) if shape else 1
        sd[torch_name(name)] = torch.from_numpy(flat[o:o + n].reshape(shape).copy())
        o += n
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        return {"error": f"state dict mismatch: missing {missing}, unexpected {unexpected}"}
    shape, lengths = msg["shape"], msg["lengths"]
    x = torch.from_numpy(np.fromfile(f"{d}/x.f32", dtype=np.float32).reshape(shape))
    with torch.no_grad():
        got, lens = model(x, torch.tensor(lengths))
    want = np.fromfile(f"{d}/logits.f32", dtype=np.float32).reshape(got.shape)
    got = got.numpy()
    diff = max(float(np.abs(got[i, :lens[i]] - want[i, :lens[i]]).max()) for i in range(len(lengths)))
    return {"maxAbsDiff": diff, "maxAbs": float(np.abs(want).max())}


def timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return {"wall_ms": (time.perf_counter() - t0) * 1000, "cpu_ms": (time.process_time() - c0) * 1000}


def serve():
    bench = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "setup":
            bench = Bench(msg)
            out = {"params": bench.params()}
        elif cmd == "train":
            out = timed(bench.train_step)
        elif cmd == "infer":
            out = timed(bench.infer)
        elif cmd == "check":
            out = check(msg)
        elif cmd == "quit":
            print("{}", flush=True)
            return
        else:
            out = {"error": f"unknown command {cmd}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        enc = {"kind": "tdnn", "activation": "relu", "bnMomentum": 0.1, "bnEps": 1e-3, "blocks": [
            {"repeat": 1, "kernel": 11, "stride": 2, "channels": 32, "dropout": 0.1},
            {"repeat": 2, "kernel": 11, "channels": 32, "dropout": 0.1, "residual": True, "separable": True},
        ]}
        b = Bench({"threads": 1, "batch": 2, "numFeatures": 16, "frames": 64, "vocab": 29, "encoder": enc,
                   "optimizer": {"beta1": 0.95, "beta2": 0.5}, "lr": 0.01, "targetLength": 8,
                   "features": {"numFeatures": 16}, "inferSeconds": 1})
        print("params", b.params(), "losses", [round(b.train_step(), 3) for _ in range(3)],
              "logits", b.infer().shape)
