"""Peer for bench/features_vs_librosa.ts: librosa's log-mel spectrogram, timed on request.

Protocol (stdin/stdout, one line each): the Deno script sends the path of a 16 kHz mono WAV
once, then "run" per repetition; this script answers each "run" with the elapsed wall-clock
and process CPU milliseconds (all threads) and the output shape of np.log(librosa.feature.melspectrogram(...) + 1e-20) with the toolkit's default parameters
(n_fft 512, win 320, hop 160, hann, centred with zeros, 64 Slaney mels, 0-8000 Hz).
"""
import os
import sys
import time

# One thread, as the toolkit's side: librosa's mel projection is a BLAS product, and idle OpenBLAS/OpenMP
# workers spin after each call, taking the core the toolkit's next repetition runs on.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import librosa
import numpy as np
import soundfile as sf

path = sys.stdin.readline().strip()
y, sr = sf.read(path, dtype="float32")
print(f"ready librosa {librosa.__version__} numpy {np.__version__}", flush=True)
for line in sys.stdin:
    if line.strip() != "run":
        break
    t0 = time.perf_counter()
    c0 = time.process_time()
    m = np.log(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=160, win_length=320, window="hann",
                                              center=True, pad_mode="constant", power=2.0, n_mels=64) + 1e-20)
    ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - c0) * 1000
    print(f"{ms:.3f} {cpu_ms:.3f} {m.shape[0]} {m.shape[1]}", flush=True)
