"""Peer for bench/loader_throughput.ts: OpenSeq2Seq's librosa feature path in one Python process.

Per file: soundfile decode -> peak normalisation -> dither 1e-5 -> pre-emphasis 0.97 ->
|librosa.stft(n_fft=512, hop=160, win=320, hann)|^2 -> 64-bin Slaney mel -> log(+1e-20) ->
per-feature mean/std; then batches of 16 padded to a multiple of 16 (numpy). Prints
"audio_s_per_s <x> audio_s_per_cpu_s <y>" for the timed pass (after one warm-up file).

usage: python loader_throughput_peer.py FILELIST   (one audio path per line)
"""
import sys
import time

import librosa
import numpy as np
import soundfile as sf

paths = [p for p in open(sys.argv[1]).read().split("\n") if p]
mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=64, fmin=0, fmax=8000)
rng = np.random.default_rng(0)


def feats(path):
    x, sr = sf.read(path, dtype="float32")
    x = x / (np.max(np.abs(x)) + 1e-5)
    x = x + 1e-5 * rng.standard_normal(x.shape[0]).astype(np.float32)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    s = np.abs(librosa.stft(x, n_fft=512, hop_length=160, win_length=320, window="hann", center=True)) ** 2
    f = np.log(mel @ s + 1e-20)
    m = f.mean(axis=1, keepdims=True)
    d = f.std(axis=1, keepdims=True)
    return ((f - m) / d).astype(np.float32), x.shape[0] / sr


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
