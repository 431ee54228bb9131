"""The same sweep-based aliasing measure as bench/resample_aliasing.ts, for peers' resamplers.

Run: /opt/refvenv/bin/python bench/resample_aliasing_peer.py
Peers: soxr 'HQ' (librosa 0.11's default res_type 'soxr_hq') and scipy.signal.resample_poly
(Kaiser window, beta 5, its default). Signals, windows and the dB definition match the TS script.
"""
import math
import time

import numpy as np
import scipy.signal
import soxr


def sweep(rate, f0, f1, seconds):
    n = round(rate * seconds)
    t = np.arange(n) / rate
    k = math.log(f1 / f0) / seconds
    return (0.5 * np.sin(2 * math.pi * f0 * (np.exp(k * t) - 1) / k)).astype(np.float32)


def ms(x):
    return float(np.mean(np.asarray(x, dtype=np.float64) ** 2))


def measure(fn, fr, to):
    nyq = min(fr, to) / 2
    ya = fn(sweep(fr, nyq, fr / 2, 4), fr, to)
    yi = fn(sweep(fr, 100, 0.9 * nyq, 4), fr, to)
    edge = 200
    ref = ms(yi[edge:-edge])
    win = round(0.02 * to)
    worst = max(ms(ya[s:s + win]) for s in range(edge, len(ya) - edge - win + 1, win))
    x = sweep(fr, 100, fr / 2, 4)
    best = min(timed(fn, x, fr, to) for _ in range(5))
    return 10 * math.log10(ms(ya[edge:-edge]) / ref), 10 * math.log10(worst / ref), best / 4


def timed(fn, x, fr, to):
    t0 = time.perf_counter()
    fn(x, fr, to)
    return (time.perf_counter() - t0) * 1000


def soxr_hq(x, fr, to):
    return soxr.resample(x, fr, to, quality="HQ")


def poly(x, fr, to):
    g = math.gcd(int(fr), int(to))
    return scipy.signal.resample_poly(x, int(to) // g, int(fr) // g)


print("peer            from -> to Hz    overall alias dB   worst 20 ms dB   ms per s of input")
for name, fn in (("soxr HQ", soxr_hq), ("resample_poly", poly)):
    for fr, to in ((48000, 16000), (44100, 16000), (22050, 16000), (16000, 14400)):
        o, w, t = measure(fn, fr, to)
        print(f"{name:15s} {fr} -> {to:<8d} {o:14.1f} {w:16.1f} {t:16.2f}")
