#!/usr/bin/env python3
"""The librosa side of `ser bench features`: librosa.load(sr=22050) + librosa.feature.mfcc(n_mfcc=40)
over every TESS clip, one process (librosa has no built-in parallelism across files).

Prints seconds, files/s and x real time; with --compare also runs `ser bench features` and
prints the speed-up.

Usage:
  NUMBA_CACHE_DIR=/tmp/numba python3 tools/bench_librosa.py [--data-dir ../shared/data] [--limit N]
  python3 tools/bench_librosa.py --compare target/release/ser
  python3 tools/bench_librosa.py --seconds-only   # just the number, for --librosa-seconds
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import librosa


def main():
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=os.environ.get("SER_DATA_DIR", str(repo.parent / "shared" / "data")))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--sr", type=int, default=22050)
    parser.add_argument("--n-mfcc", type=int, default=40)
    parser.add_argument("--seconds-only", action="store_true")
    parser.add_argument("--compare", metavar="SER_BINARY", help="run `SER_BINARY bench features` too")
    args = parser.parse_args()

    files = sorted(p for p in (Path(args.data_dir) / "tess").rglob("*") if p.suffix.lower() in {".flac", ".wav"})
    if args.limit:
        files = files[: args.limit]
    if not files:
        sys.exit(f"no audio files under {args.data_dir}/tess")
    # Warm up numba/resampy caches so the timing measures steady-state work.
    y, sr = librosa.load(files[0], sr=args.sr)
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=args.n_mfcc)

    audio_seconds = 0.0
    start = time.perf_counter()
    for path in files:
        y, sr = librosa.load(path, sr=args.sr)
        librosa.feature.mfcc(y=y, sr=sr, n_mfcc=args.n_mfcc)
        audio_seconds += len(y) / sr
    seconds = time.perf_counter() - start

    if args.seconds_only:
        print(f"{seconds:.3f}")
        return
    print(f"librosa {librosa.__version__}: {len(files)} files, {audio_seconds:.1f} s of audio")
    print(f"  load(sr={args.sr}) + mfcc(n_mfcc={args.n_mfcc}): {seconds:.2f} s")
    print(f"  {len(files) / seconds:.0f} files/s, {audio_seconds / seconds:.0f}x real time")
    if args.compare:
        command = [args.compare, "bench", "features", "--librosa-seconds", f"{seconds:.3f}",
                   "--sr", str(args.sr), "--n-mfcc", str(args.n_mfcc)]
        if args.limit:
            command += ["--limit", str(args.limit)]
        subprocess.run(command, check=True, env={**os.environ, "SER_DATA_DIR": args.data_dir})


if __name__ == "__main__":
    main()
