#!/usr/bin/env python3
"""Golden fixtures for ser-features, produced ONCE with librosa 0.11 (tests never run Python).

For each of a few TESS clips this writes
  crates/ser-features/tests/fixtures/<clip>.i16   the clip's samples, raw int16 little-endian
  crates/ser-features/tests/fixtures/<clip>.json  librosa outputs for every feature, default and
                                                  non-default parameters
librosa runs on exactly the samples the Rust test feeds (int16 / 32768 at the native rate, as
float64), so the parity tests measure feature code, not decoders or resamplers.
Large matrices keep a subset of rows/columns (always first and last) plus the full shape.

(numba may crash writing its cache into site-packages: NUMBA_CACHE_DIR=/tmp/numba helps)
Usage: NUMBA_CACHE_DIR=/tmp/numba python3 tools/make_feature_fixtures.py [--data-dir ../shared/data]
"""

import argparse
import json
import os
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

CLIPS = [
    "OAF_angry/OAF_back_angry.flac",
    "OAF_happy/OAF_bite_happy.flac",
    "YAF_sad/YAF_chain_sad.flac",
    "YAF_fear/YAF_kite_fear.flac",
    "OAF_neutral/OAF_youth_neutral.flac",
]
MAX_COLUMNS = 24
MAX_ROWS = 48
PITCH_RANGE = {"fmin": 65.40639132514966, "fmax": 2093.004522404789}  # C2..C7


def pick(count, limit):
    """Evenly spaced indices that always include the first and the last."""
    if count <= limit:
        return list(range(count))
    return sorted({int(round(i * (count - 1) / (limit - 1))) for i in range(limit)})


def case(feature, params, matrix, all_rows=False):
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    rows = list(range(matrix.shape[0])) if all_rows else pick(matrix.shape[0], MAX_ROWS)
    columns = pick(matrix.shape[1], MAX_COLUMNS)
    values = matrix[np.ix_(rows, columns)]
    return {
        "feature": feature,
        "params": params,
        "shape": list(matrix.shape),
        "rows": rows,
        "columns": columns,
        "values": [[float(f"{v:.10g}") for v in row] for row in values],
    }


def full(feature, params, vector):
    vector = np.asarray(vector, dtype=np.float64)
    return {
        "feature": feature,
        "params": params,
        "shape": [1, int(vector.shape[-1])],
        "values": [float(f"{v:.10g}") if np.isfinite(v) else None for v in vector],
    }


def features_of(y, sr):
    cases = []
    stft_variants = [
        {},
        {"n_fft": 1024, "hop_length": 256, "win_length": 800, "window": "hamming", "center": False},
    ]
    for p in stft_variants:
        S = np.abs(librosa.stft(y, **p))
        cases.append(case("stft_magnitude", p, S))

    mel_variants = [
        {},
        {"n_fft": 1024, "hop_length": 256, "n_mels": 40, "fmin": 50.0, "fmax": 8000.0,
         "htk": True, "norm": None, "power": 1.0},
        {"n_mels": 64, "norm": 1.0, "window": "blackman"},
    ]
    for p in mel_variants:
        cases.append(case("melspectrogram", p, librosa.feature.melspectrogram(y=y, sr=sr, **p)))

    mel = librosa.feature.melspectrogram(y=y, sr=sr)
    cases.append(case("power_to_db", {}, librosa.power_to_db(mel)))
    cases.append(case("power_to_db", {"ref": "max", "amin": 1e-5, "top_db": None},
                      librosa.power_to_db(mel, ref=np.max, amin=1e-5, top_db=None)))
    cases.append(case("power_to_db", {"ref": 0.5, "top_db": 40.0},
                      librosa.power_to_db(mel, ref=0.5, top_db=40.0)))

    mfcc_variants = [
        {},
        {"n_mfcc": 40, "lifter": 22.0, "n_mels": 64, "hop_length": 256},
        {"n_mfcc": 13, "htk": True, "fmin": 20.0, "fmax": 7600.0, "n_mels": 40},
    ]
    for p in mfcc_variants:
        cases.append(case("mfcc", p, librosa.feature.mfcc(y=y, sr=sr, **p), all_rows=True))

    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    for p in [{}, {"order": 2}, {"width": 5}, {"width": 7, "order": 2}]:
        cases.append(case("delta_mfcc", p, librosa.feature.delta(mfcc, **p), all_rows=True))

    for p in [{}, {"frame_length": 1024, "hop_length": 256, "center": False}]:
        cases.append(case("rms", p, librosa.feature.rms(y=y, **p)))
        cases.append(case("zero_crossing_rate", p, librosa.feature.zero_crossing_rate(y, **p)))

    for p in [{}, {"n_fft": 1024, "hop_length": 256}]:
        cases.append(case("spectral_centroid", p, librosa.feature.spectral_centroid(y=y, sr=sr, **p)))
    for p in [{}, {"p": 1.0, "norm": False}]:
        cases.append(case("spectral_bandwidth", p, librosa.feature.spectral_bandwidth(y=y, sr=sr, **p)))
    for p in [{}, {"roll_percent": 0.5}]:
        cases.append(case("spectral_rolloff", p, librosa.feature.spectral_rolloff(y=y, sr=sr, **p)))
    for p in [{}, {"power": 1.0, "amin": 1e-6}]:
        cases.append(case("spectral_flatness", p, librosa.feature.spectral_flatness(y=y, **p)))
    for p in [{}, {"n_bands": 4, "fmin": 300.0, "quantile": 0.05}, {"linear": True}]:
        cases.append(case("spectral_contrast", p, librosa.feature.spectral_contrast(y=y, sr=sr, **p),
                          all_rows=True))
    S_power = np.abs(librosa.stft(y)) ** 2
    tuning = librosa.estimate_tuning(S=S_power, sr=sr, bins_per_octave=12)
    cases.append({"feature": "estimate_tuning", "params": {}, "value": float(tuning)})
    for p in [{}, {"tuning": 0.0, "n_chroma": 24, "norm": 2.0}]:
        cases.append(case("chroma_stft", p, librosa.feature.chroma_stft(y=y, sr=sr, **p), all_rows=True))

    yin_variants = [
        dict(PITCH_RANGE),
        {"fmin": 80.0, "fmax": 600.0, "frame_length": 1024, "hop_length": 256, "trough_threshold": 0.2},
    ]
    for p in yin_variants:
        cases.append(full("yin", p, librosa.yin(y, sr=sr, **p)))
    pyin_variants = [
        dict(PITCH_RANGE),
        {"fmin": 80.0, "fmax": 600.0, "frame_length": 1024, "hop_length": 256,
         "beta_parameters": [1.0, 18.0], "resolution": 0.2, "switch_prob": 0.05},
    ]
    for p in pyin_variants:
        kwargs = dict(p)
        if "beta_parameters" in kwargs:
            kwargs["beta_parameters"] = tuple(kwargs["beta_parameters"])
        f0, voiced, prob = librosa.pyin(y, sr=sr, **kwargs)
        cases.append(full("pyin_f0", p, f0))
        cases.append(full("pyin_voiced", p, voiced.astype(np.float64)))
        cases.append(full("pyin_voiced_prob", p, prob))
    return cases


def main():
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=os.environ.get("SER_DATA_DIR", str(repo.parent / "shared" / "data")))
    args = parser.parse_args()
    out_dir = repo / "crates" / "ser-features" / "tests" / "fixtures"
    out_dir.mkdir(parents=True, exist_ok=True)
    for clip in CLIPS:
        pcm, sr = sf.read(Path(args.data_dir) / "tess" / clip, dtype="int16")
        name = Path(clip).stem
        pcm.astype("<i2").tofile(out_dir / f"{name}.i16")
        y = pcm.astype(np.float64) / 32768.0
        cases = features_of(y, sr)
        # End to end at 22050 Hz through librosa's own resampler (soxr_hq): the Rust side
        # resamples with ser-audio, so this case measures resampler differences too.
        y22, sr22 = librosa.load(Path(args.data_dir) / "tess" / clip, sr=22050)
        cases.append(case("mfcc_22050", {"n_mfcc": 40}, librosa.feature.mfcc(y=y22.astype(np.float64), sr=sr22, n_mfcc=40),
                          all_rows=True))
        doc = {"clip": clip, "librosa": librosa.__version__, "sr": sr, "n_samples": len(pcm), "cases": cases}
        (out_dir / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")))
        print(f"{name}: {len(pcm)} samples at {sr} Hz, {len(doc['cases'])} cases")


if __name__ == "__main__":
    main()
