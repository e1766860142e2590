#!/usr/bin/env python3
"""The field's classical baseline: openSMILE eGeMAPS v02 functionals + SVM.

Every clip becomes the 88 eGeMAPS v02 functionals of openSMILE (`opensmile` from PyPI, which
ships SMILExtract); scikit-learn's SVC(C=10) (RBF kernel) classifies them after
standardisation, either with the training part's mean and spread (`global`) or every speaker
with their own (`speaker`: needs a speaker's clips together, no labels). The protocols are
those of ser's experiment files, on the same folds:

  multi-corpus     RAVDESS actor folds (01,02,11,12 / ... / 09,10,19,20), TESS + the 16
                   other actors in training (experiments/multi-corpus.toml)
  ravdess-actors   the same folds, RAVDESS only (experiments/ravdess-actors.toml)
  tess-to-ravdess  train TESS, test RAVDESS (experiments/cross-corpus.toml)
  ravdess-to-tess  train RAVDESS, test TESS (experiments/cross-corpus-ravdess-tess.toml)
  tess-speaker     train OAF + RAVDESS -> test YAF and the reverse
                   (experiments/multi-corpus-tess-speaker.toml)

Prints one JSON object per run and one summary line per protocol and standardisation;
`--out FILE` also writes them as JSON lines. Features are cached in --cache (default
~/.cache/ser/egemaps) keyed by the clip's path, size and modification time.
Needs: pip install opensmile scikit-learn numpy soundfile
"""
import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keras_baseline import RAVDESS_FOLDS, metrics, ravdess_clips, tess_clips  # noqa: E402

PROTOCOLS = ["multi-corpus", "ravdess-actors", "tess-to-ravdess", "ravdess-to-tess", "tess-speaker"]


def egemaps(paths, cache: Path) -> np.ndarray:
    """88 eGeMAPS v02 functionals per clip, from the cache where it has them."""
    import opensmile
    import soundfile

    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for done, path in enumerate(paths, 1):
        if done % 500 == 0:
            print(f"eGeMAPS: {done} of {len(paths)} clips", file=sys.stderr, flush=True)
        stat = os.stat(path)
        key = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
        cached = cache / f"{key}.npy"
        if cached.exists():
            rows.append(np.load(cached))
            continue
        try:
            # soundfile reads FLAC, which openSMILE's own reader does not.
            signal, rate = soundfile.read(path, dtype="float32", always_2d=True)
            row = smile.process_signal(signal.mean(axis=1), rate).to_numpy(dtype=np.float64)[0]
        except Exception as error:  # one unreadable clip is left out, not the whole run
            print(f"{path}: {error} (left out)", file=sys.stderr, flush=True)
            rows.append(None)
            continue
        np.save(cached, row)
        rows.append(row)
    return rows


def standardise(features, speakers, train_idx, test_idx, how):
    if how == "global":
        mean = features[train_idx].mean(axis=0)
        std = features[train_idx].std(axis=0) + 1e-9
        return (features[train_idx] - mean) / std, (features[test_idx] - mean) / std
    out = np.empty_like(features)
    for speaker in np.unique(speakers):
        rows = speakers == speaker
        out[rows] = (features[rows] - features[rows].mean(axis=0)) / (features[rows].std(axis=0) + 1e-9)
    return out[train_idx], out[test_idx]


def runs_of(protocol, corpus, speakers):
    """(name, train indices, test indices) of every run of a protocol."""
    tess, ravdess = corpus == "tess", corpus == "ravdess"
    if protocol in ("multi-corpus", "ravdess-actors"):
        pool = tess | ravdess if protocol == "multi-corpus" else ravdess
        for fold, actors in enumerate(RAVDESS_FOLDS):
            test = np.isin(speakers, [f"Actor_{actor:02d}" for actor in actors])
            yield f"fold_{fold + 1}", np.where(pool & ~test)[0], np.where(test)[0]
    elif protocol == "tess-to-ravdess":
        yield "tess_to_ravdess", np.where(tess)[0], np.where(ravdess)[0]
    elif protocol == "ravdess-to-tess":
        yield "ravdess_to_tess", np.where(ravdess)[0], np.where(tess)[0]
    else:
        for test_speaker in ("YAF", "OAF"):
            test = speakers == test_speaker
            yield f"test_{test_speaker}", np.where(~test)[0], np.where(test)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = os.environ.get("SER_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--tess", default=str(Path(default_data) / "tess"))
    parser.add_argument("--ravdess", default=str(Path(default_data) / "ravdess"))
    parser.add_argument("--protocol", choices=PROTOCOLS + ["all"], default="all")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "ser" / "egemaps"))
    parser.add_argument("--out", help="also write the JSON lines here")
    args = parser.parse_args()

    from sklearn.svm import SVC

    clips = [(*clip, "tess") for clip in tess_clips(Path(args.tess))]
    clips += [(*clip, "ravdess") for clip in ravdess_clips(Path(args.ravdess))]
    if not any(corpus == "tess" for *_, corpus in clips) or not any(corpus == "ravdess" for *_, corpus in clips):
        sys.exit(f"needs TESS under {args.tess} and RAVDESS under {args.ravdess}")
    start = time.time()
    rows = egemaps([path for path, *_ in clips], Path(args.cache))
    clips = [clip for clip, row in zip(clips, rows) if row is not None]
    features = np.array([row for row in rows if row is not None])
    labels = np.array([label for _, _, label, _ in clips])
    speakers = np.array([speaker for _, speaker, _, _ in clips])
    corpus = np.array([corpus for *_, corpus in clips])
    lines = [{"feature_seconds": round(time.time() - start, 1), "clips": len(clips), "features": features.shape[1]}]
    print(json.dumps(lines[0]), flush=True)

    for protocol in PROTOCOLS if args.protocol == "all" else [args.protocol]:
        for how in ("global", "speaker"):
            accuracies = []
            for name, train_idx, test_idx in runs_of(protocol, corpus, speakers):
                x_train, x_test = standardise(features, speakers, train_idx, test_idx, how)
                predicted = SVC(C=10).fit(x_train, labels[train_idx]).predict(x_test)
                result = {"protocol": protocol, "standardised": how, "run": name,
                          **metrics(labels[test_idx], predicted)}
                accuracies.append(result["accuracy"])
                lines.append(result)
                print(json.dumps(result), flush=True)
            summary = {"summary": protocol, "standardised": how, "runs": len(accuracies),
                       "accuracy_mean": float(np.mean(accuracies)),
                       "accuracy_std": float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else 0.0}
            lines.append(summary)
            print(json.dumps(summary), flush=True)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(line) + "\n" for line in lines))


if __name__ == "__main__":
    main()
