#!/usr/bin/env python3
"""Baseline to beat: the widely copied Kaggle-style TESS recipe.

librosa.load(duration=3, offset=0.5) -> mean of 40 MFCCs over time -> Keras LSTM(256) on a
(40, 1) sequence -> Dense(128) -> Dense(64) -> softmax(7); Adam, 50 epochs, batch 64.

Runs on the same protocols as `ser experiment`:
  --protocol speaker   train OAF -> test YAF and train YAF -> test OAF
  --protocol random    stratified 80/20 over --seeds seeds (sklearn, same fractions as ser)
  --split FILE         a split.json written by `ser train`/`ser experiment` (train/test paths)
  --protocol ravdess-actors
                       the RAVDESS actor folds of experiments/multi-corpus.toml: TESS + the
                       16 other actors in training, 4 held-out actors tested, 5 folds
Prints one JSON object per run (accuracy, macro_f1, uar, seconds) and a summary line.
Needs: pip install librosa tensorflow-cpu scikit-learn
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad"]
TOKEN = {"angry": 0, "disgust": 1, "fear": 2, "happy": 3, "neutral": 4, "ps": 5, "sad": 6}


def tess_clips(root: Path):
    clips = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in (".wav", ".flac"):
            continue
        token = path.stem.rsplit("_", 1)[-1].lower()
        speaker = "OAF" if path.stem.upper().startswith("OA") else "YAF"
        clips.append((str(path), speaker, TOKEN[token]))
    return clips


# RAVDESS emotion codes as ser maps them (calm -> neutral, surprised -> pleasant_surprise).
RAVDESS = {"01": 4, "02": 4, "03": 3, "04": 6, "05": 0, "06": 2, "07": 1, "08": 5}
RAVDESS_FOLDS = [[1, 2, 11, 12], [3, 4, 13, 14], [5, 6, 15, 16], [7, 8, 17, 18], [9, 10, 19, 20]]


def ravdess_clips(root: Path):
    clips = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in (".wav", ".flac"):
            continue
        parts = path.stem.split("-")
        clips.append((str(path), f"Actor_{parts[6]}", RAVDESS[parts[2]]))
    return clips


def mean_mfcc(path: str) -> np.ndarray:
    import librosa

    y, sr = librosa.load(path, duration=3, offset=0.5)
    return np.mean(librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40).T, axis=0)


def build_model():
    from tensorflow import keras

    model = keras.Sequential(
        [
            keras.layers.Input(shape=(40, 1)),
            keras.layers.LSTM(256),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(len(EMOTIONS), activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def metrics(truth, predicted):
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "uar": float(recall_score(truth, predicted, average="macro")),
    }


def run(name, features, labels, train_idx, test_idx, epochs, seed):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    start = time.time()
    model = build_model()
    x = features[:, :, None]
    model.fit(x[train_idx], labels[train_idx], epochs=epochs, batch_size=64, verbose=0,
              validation_split=0.2)
    predicted = np.argmax(model.predict(x[test_idx], verbose=0), axis=1)
    result = {"run": name, **metrics(labels[test_idx], predicted),
              "train_seconds": round(time.time() - start, 1)}
    print(json.dumps(result), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = os.environ.get("SER_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--tess", default=str(Path(default_data) / "tess"))
    parser.add_argument("--ravdess", default=str(Path(default_data) / "ravdess"))
    parser.add_argument("--protocol", choices=["speaker", "random", "ravdess-actors"], default="speaker")
    parser.add_argument("--split", help="split.json from a ser run (overrides --protocol)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()

    clips = tess_clips(Path(args.tess))
    if len(clips) == 0:
        sys.exit(f"no TESS clips under {args.tess}")
    if args.protocol == "ravdess-actors":
        clips += ravdess_clips(Path(args.ravdess))
    start = time.time()
    features = np.array([mean_mfcc(path) for path, _, _ in clips], dtype=np.float32)
    labels = np.array([label for _, _, label in clips])
    speakers = np.array([speaker for _, speaker, _ in clips])
    print(json.dumps({"feature_seconds": round(time.time() - start, 1), "clips": len(clips)}), flush=True)

    results = []
    if args.split:
        split = json.loads(Path(args.split).read_text())
        index = {Path(path).name: i for i, (path, _, _) in enumerate(clips)}
        train_idx = np.array([index[Path(p).name] for p in split["train"]])
        test_idx = np.array([index[Path(p).name] for p in split["test"]])
        results.append(run(args.split, features, labels, train_idx, test_idx, args.epochs, 0))
    elif args.protocol == "ravdess-actors":
        for fold, actors in enumerate(RAVDESS_FOLDS):
            test = np.isin(speakers, [f"Actor_{actor:02d}" for actor in actors])
            train_idx, test_idx = np.where(~test)[0], np.where(test)[0]
            results.append(run(f"fold_{fold + 1}", features, labels, train_idx, test_idx, args.epochs, 0))
    elif args.protocol == "speaker":
        for test_speaker in ("YAF", "OAF"):
            train_idx = np.where(speakers != test_speaker)[0]
            test_idx = np.where(speakers == test_speaker)[0]
            results.append(run(f"test_{test_speaker}", features, labels, train_idx, test_idx, args.epochs, 0))
    else:
        from sklearn.model_selection import train_test_split

        for seed in range(args.seeds):
            train_idx, test_idx = train_test_split(np.arange(len(clips)), test_size=0.2,
                                                   stratify=labels, random_state=seed)
            results.append(run(f"seed_{seed}", features, labels, train_idx, test_idx, args.epochs, seed))
    accuracies = np.array([r["accuracy"] for r in results])
    print(json.dumps({"summary": args.split or args.protocol, "accuracy_mean": float(accuracies.mean()),
                      "accuracy_std": float(accuracies.std()), "runs": len(results)}))


if __name__ == "__main__":
    main()
