#!/usr/bin/env python3
"""Benchmarks of the Python package, printed next to their references.

1. MFCC from Python over TESS: `ser.load(sr=22050)` + `ser.feature.mfcc(n_mfcc=40)` (one
   thread, then two threads: the GIL is released) vs `librosa.load` + `librosa.feature.mfcc`.
2. Ray batch prediction (`ser.ray.predict`, a local Ray with 2 CPUs) with 1 and 2 workers vs
   `ser predict --format jsonl` on the same files: the engine's overhead.

Run in the test venv (tools/python_test.sh makes it) from the repository root:
  NUMBA_CACHE_DIR=/tmp/numba target/python-venv/bin/python tools/bench_python.py [--files N]
The machine is shared: the load average is printed with each figure.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_average() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def timed(label, count, work, reference=None):
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    rate = count / seconds
    ratio = f", {rate / reference:.2f}x the reference" if reference else ""
    print(f"{label:<58} {seconds:7.2f} s  {rate:7.0f} files/s{ratio}  ({load_average()})", flush=True)
    return rate


def bench_mfcc(clips):
    import librosa

    import ser

    def with_librosa():
        for clip in clips:
            y, sr = librosa.load(clip, sr=22050)
            librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40)

    def with_ser(clip):
        y, sr = ser.load(clip, sr=22050)
        ser.feature.mfcc(y=y, sr=sr, n_mfcc=40)

    def ser_threads(threads):
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(with_ser, clips))

    print(f"MFCC over {len(clips)} TESS clips (load at 22050 Hz + 40 MFCC), from Python:")
    librosa.feature.mfcc(y=librosa.load(clips[0])[0])  # numba compiles outside the timing
    reference = timed("librosa 0.11, 1 process", len(clips), with_librosa)
    timed("ser.load + ser.feature.mfcc, 1 thread", len(clips), lambda: ser_threads(1), reference)
    timed("ser.load + ser.feature.mfcc, 2 threads", len(clips), lambda: ser_threads(2), reference)


def bench_ray(clips, ser_bin):
    import ray

    import ser.ray

    print(f"\nBatch prediction of {len(clips)} TESS clips into one result per file:")
    reference = timed(
        "ser predict --format jsonl (2 threads)",
        len(clips),
        lambda: subprocess.run([ser_bin, "predict", "--quiet", "--format", "jsonl", *clips], check=True, stdout=subprocess.DEVNULL),
    )
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    print(f"(ray.init of a local 2-CPU Ray: {time.perf_counter() - started:.1f} s, not counted below)")
    with tempfile.TemporaryDirectory() as out:
        for workers in (1, 2):
            timed(
                f"python -m ser.ray predict, {workers} worker(s), to Parquet",
                len(clips),
                lambda: ser.ray.predict(clips, f"{out}/w{workers}.parquet", num_workers=workers),
                reference,
            )
    ray.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SER_DATA_DIR", REPO.parent / "shared" / "data"))
    parser.add_argument("--files", type=int, default=2800, help="TESS clips for the MFCC benchmark")
    parser.add_argument("--ray-files", type=int, default=1000, help="TESS clips for the Ray benchmark")
    parser.add_argument("--ser", default=str(REPO / "target" / "release" / "ser"))
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    clips = sorted(str(p) for p in (Path(args.data) / "tess").rglob("*.flac"))
    if not clips:
        sys.exit(f"no TESS clips under {args.data}")
    step = max(1, len(clips) // args.files)
    bench_mfcc(clips[::step][: args.files])
    if not args.skip_ray:
        step = max(1, len(clips) // args.ray_files)
        bench_ray(clips[::step][: args.ray_files], args.ser)


if __name__ == "__main__":
    main()
