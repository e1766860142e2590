#!/usr/bin/env python3
"""Golden numbers for ser-audio's tests, computed once with soundfile + librosa.

Writes crates/ser-audio/tests/fixtures/{decode,trim,resample}.json. Run from the repository
root (SER_DATA_DIR overrides the data folder, default ../shared/data):

    python3 tools/make_audio_fixtures.py

sine440.mp3/.ogg  0.5 s stereo 440 Hz tone for the MP3 and Ogg/Vorbis decoders
decode.json    per clip: rate, channels, frames, container, and checksums of the samples
               (sha256 of the int16 values, sum and sum of squares of float samples)
trim.json      librosa.effects.trim start/end indices for a few clips and thresholds
resample.json  librosa.load(sr=...) (soxr_hq) output length and excerpts, for the
               resampler parity test
"""

import glob
import hashlib
import json
import os

import librosa
import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("SER_DATA_DIR", os.path.join(ROOT, "..", "shared", "data"))
OUT = os.path.join(ROOT, "crates", "ser-audio", "tests", "fixtures")


def rel(path):
    return os.path.relpath(path, DATA)


def container_of(path):
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    raise ValueError(f"unknown container: {path}")


def decode_facts(path):
    info = sf.info(path)
    y, sr = sf.read(path, dtype="float32", always_2d=True)
    mono = y.mean(axis=1, dtype=np.float32)
    int16 = np.clip(np.round(mono.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")
    return {
        "path": rel(path),
        "container": container_of(path),
        "sample_rate": sr,
        "channels": info.channels,
        "frames": int(y.shape[0]),
        "sha256_int16": hashlib.sha256(int16.tobytes()).hexdigest(),
        "sum": float(mono.astype(np.float64).sum()),
        "sum_sq": float((mono.astype(np.float64) ** 2).sum()),
    }


def main():
    wavs = sorted(glob.glob(os.path.join(DATA, "tess-wav-sample", "*", "*.wav")))
    flacs = sorted(glob.glob(os.path.join(DATA, "tess", "*", "*.flac")))
    assert len(wavs) == 18 and len(flacs) == 2800, (len(wavs), len(flacs))
    # Every 280th FLAC clip, plus the one 96 kHz clip.
    flac_sample = flacs[::280]
    food = [f for f in flacs if f.endswith("OAF_food_fear.flac")]
    flac_sample += [f for f in food if f not in flac_sample]
    decode = [decode_facts(p) for p in wavs + flac_sample]

    trim = []
    trim_clips = [flacs[i] for i in (0, 700, 1400, 2100, 2799)]
    for path in trim_clips:
        y, sr = librosa.load(path, sr=None)
        for top_db, frame_length, hop_length in ((60, 2048, 512), (30, 2048, 512), (20, 1024, 256)):
            _, (start, end) = librosa.effects.trim(
                y, top_db=top_db, frame_length=frame_length, hop_length=hop_length
            )
            trim.append({
                "path": rel(path), "top_db": top_db, "frame_length": frame_length,
                "hop_length": hop_length, "start": int(start), "end": int(end),
            })

    resample = []
    for path in (flacs[0], wavs[10]):
        native, native_sr = librosa.load(path, sr=None)
        for target in (22050, 16000):
            y, _ = librosa.load(path, sr=target)  # res_type soxr_hq, librosa's default
            n = len(y)
            windows = []
            for start in (0, n // 2 - 150, n - 300):
                windows.append({"start": int(start), "samples": [float(v) for v in y[start:start + 300]]})
            resample.append({
                "path": rel(path), "native_rate": native_sr, "native_frames": len(native),
                "target_rate": target, "frames": n,
                "rms": float(np.sqrt(np.mean(y.astype(np.float64) ** 2))),
                "windows": windows,
            })

    os.makedirs(OUT, exist_ok=True)
    # Tiny synthetic clips (0.5 s, 440 Hz, stereo 44.1 kHz) for the lossy codecs TESS lacks.
    t = np.arange(22050) / 44100.0
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    stereo = np.stack([tone, tone], axis=1).astype(np.float32)
    sf.write(os.path.join(OUT, "sine440.mp3"), stereo, 44100, format="MP3")
    sf.write(os.path.join(OUT, "sine440.ogg"), stereo, 44100, format="OGG", subtype="VORBIS")
    for name in ("sine440.mp3", "sine440.ogg"):
        print(f"wrote {name} ({sf.info(os.path.join(OUT, name)).frames} frames per soundfile)")
    for name, value in (("decode", decode), ("trim", trim), ("resample", resample)):
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(value, f, indent=1)
            f.write("\n")
        print(f"wrote {name}.json ({len(value)} entries)")


if __name__ == "__main__":
    main()
