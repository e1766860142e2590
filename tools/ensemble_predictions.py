#!/usr/bin/env python3
"""Scores the ensemble of models trained by separate `ser experiment` runs of one protocol.

Each argument is an experiment's output folder (`--out` of `ser experiment`) or one
architecture's folder in it; the runs (`<run>/predictions.csv`) are matched by run folder
name and the clips by path. Every clip's probabilities are the normalised geometric mean of
the models' (a probability of exactly 0 counts as 1e-12), as `ser model ensemble` and
`ensemble = true` combine them, so members may differ in features or recipe, which one
experiment file cannot express. Prints one JSON object per run (accuracy, macro-F1, UAR) and a
summary with their mean and sample standard deviation and the ECE pooled over all runs' clips
(15 equal-width bins, as ser-eval).

  python3 tools/ensemble_predictions.py runs/ravdess-actors runs/ravdess-actors-speech
Needs: numpy
"""
import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

FLOOR = 1e-12


def runs_of(folder: Path):
    """{run name: predictions.csv} of an experiment folder or one architecture's folder."""
    files = sorted(folder.glob("*/predictions.csv")) or sorted(folder.glob("*/*/predictions.csv"))
    runs = {}
    for path in files:
        if path.parent.parent.name == "ensemble":
            continue
        name = path.parent.name
        if name in runs:
            sys.exit(f"{folder}: run {name} appears twice (more than one architecture?): name the architecture's folder")
        runs[name] = path
    return runs


def read(path: Path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        sys.exit(f"{path}: no predictions")
    labels = [column[2:] for column in rows[0] if column.startswith("p_")]
    return labels, {row["path"]: (row["truth"], np.array([float(row[f"p_{label}"]) for label in labels])) for row in rows}


def scores(truth, predicted, n_classes):
    accuracy = float(np.mean(truth == predicted))
    f1s, recalls = [], []
    for label in range(n_classes):
        in_truth, in_predicted = truth == label, predicted == label
        if not in_truth.any() and not in_predicted.any():
            continue
        hits = np.sum(in_truth & in_predicted)
        precision = hits / in_predicted.sum() if in_predicted.any() else 0.0
        recall = hits / in_truth.sum() if in_truth.any() else 0.0
        f1s.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
        if in_truth.any():
            recalls.append(recall)
    return {"accuracy": accuracy, "macro_f1": float(np.mean(f1s)), "uar": float(np.mean(recalls))}


def expected_calibration_error(confidence, correct, bins=15):
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="+", type=Path, help="experiment output folders, two or more")
    args = parser.parse_args()
    if len(args.experiments) < 2:
        sys.exit("an ensemble needs two or more experiments")
    members = [runs_of(folder) for folder in args.experiments]
    names = sorted(set.intersection(*(set(runs) for runs in members)))
    if not names:
        sys.exit("the experiments share no run")
    results, confidences, corrects = [], [], []
    for name in names:
        tables = [read(runs[name]) for runs in members]
        labels = tables[0][0]
        if any(table[0] != labels for table in tables):
            sys.exit(f"run {name}: the models' labels differ")
        clips = sorted(set.intersection(*(set(table[1]) for table in tables)))
        if len(clips) != len(tables[0][1]):
            print(f"run {name}: {len(clips)} of {len(tables[0][1])} clips in every model", file=sys.stderr)
        log_mean = np.mean([np.log(np.maximum(np.array([table[1][clip][1] for clip in clips]), FLOOR)) for table in tables], axis=0)
        probabilities = np.exp(log_mean - log_mean.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        truth = np.array([labels.index(tables[0][1][clip][0]) for clip in clips])
        predicted = probabilities.argmax(axis=1)
        result = {"run": name, "clips": len(clips), **scores(truth, predicted, len(labels))}
        results.append(result)
        confidences.append(probabilities.max(axis=1))
        corrects.append(predicted == truth)
        print(json.dumps(result), flush=True)
    summary = {"summary": [str(folder) for folder in args.experiments], "runs": len(results)}
    for metric in ("accuracy", "macro_f1", "uar"):
        values = np.array([result[metric] for result in results])
        summary[f"{metric}_mean"] = float(values.mean())
        summary[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    summary["pooled_ece"] = expected_calibration_error(np.concatenate(confidences), np.concatenate(corrects))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
