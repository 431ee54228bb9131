"""Peer for bench/flac_vs_soundfile.ts: libsndfile (through soundfile) decoding a FLAC file.

Protocol (stdin/stdout, one line each): the path of a FLAC file once, then "run" per repetition;
each answer is the wall-clock and process CPU milliseconds of soundfile.read(path, dtype="float32")
(file read included) and the number of samples decoded.
"""
import sys
import time

import soundfile as sf

path = sys.stdin.readline().strip()
print(f"ready soundfile {sf.__version__} libsndfile {sf.__libsndfile_version__}", flush=True)
for line in sys.stdin:
    if line.strip() != "run":
        break
    t0 = time.perf_counter()
    c0 = time.process_time()
    y, sr = sf.read(path, dtype="float32")
    print(f"{(time.perf_counter() - t0) * 1000:.3f} {(time.process_time() - c0) * 1000:.3f} {len(y)}", flush=True)
