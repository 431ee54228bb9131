"""Peer for bench/loader_throughput.ts: OpenSeq2Seq's librosa feature path in one Python process.

Per file: soundfile decode -> peak normalisation -> dither 1e-5 -> pre-emphasis 0.97 ->
|librosa.stft(n_fft=512, hop=160, win=320, hann)|^2 -> 64-bin Slaney mel -> log(+1e-20) ->
per-feature mean/std; then batches of 16 padded to a multiple of 16 (numpy). Prints
"audio_s_per_s <x> audio_s_per_cpu_s <y>" for the timed pass (after one warm-up file).

With --augment (as the toolkit's --augment): speed perturbation by a factor from [0.9, 1.0, 1.1]
with soxr HQ (resampy, which OpenSeq2Seq uses, is not installed here), white noise at
randint(-90, -46) dB after peak normalisation, and 2 + 2 SpecAugment masks (widths 6, 36)
after normalisation.

usage: python loader_throughput_peer.py FILELIST [--augment]   (one audio path per line)
"""
import sys
import time

import librosa
import numpy as np
import soundfile as sf
import soxr

paths = [p for p in open(sys.argv[1]).read().split("\n") if p]
augment = "--augment" in sys.argv[2:]
mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=64, fmin=0, fmax=8000)
rng = np.random.default_rng(0)


def feats(path):
    x, sr = sf.read(path, dtype="float32")
    duration = x.shape[0] / sr  # of the source, as the toolkit counts it
    x = x / (np.max(np.abs(x)) + 1e-5)
    if augment:
        r = [0.9, 1.0, 1.1][rng.integers(3)]
        if r != 1.0:
            x = soxr.resample(x, 16000, 16000 / r, quality="HQ").astype(np.float32)
        x = x + rng.standard_normal(x.shape[0]).astype(np.float32) * 10.0 ** (rng.integers(-90, -46) / 20.0)
    x = x + 1e-5 * rng.standard_normal(x.shape[0]).astype(np.float32)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    s = np.abs(librosa.stft(x, n_fft=512, hop_length=160, win_length=320, window="hann", center=True)) ** 2
    f = np.log(mel @ s + 1e-20)
    m = f.mean(axis=1, keepdims=True)
    d = f.std(axis=1, keepdims=True)
    f = ((f - m) / d).astype(np.float32)
    if augment:
        for _ in range(2):
            w = rng.integers(0, 7)
            b = rng.integers(0, 64 - w)
            f[b : b + w, :] = 0
        for _ in range(2):
            w = min(rng.integers(0, 37), f.shape[1])
            b = rng.integers(0, max(1, f.shape[1] - w))
            f[:, b : b + w] = 0
    return f, duration


feats(paths[0])
t0 = time.perf_counter()
c0 = time.process_time()
total = 0.0
for b in range(0, len(paths), 16):
    items = [feats(p) for p in paths[b : b + 16]]
    total += sum(d for _, d in items)
    tmax = -(-max(f.shape[1] for f, _ in items) // 16) * 16
    batch = np.zeros((len(items), 64, tmax), np.float32)
    for i, (f, _) in enumerate(items):
        batch[i, :, : f.shape[1]] = f
wall = time.perf_counter() - t0
cpu = time.process_time() - c0
print(f"audio_s_per_s {total / wall:.3f} audio_s_per_cpu_s {total / cpu:.3f}")
