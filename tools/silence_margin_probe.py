#!/usr/bin/env python3
"""How much a model's answers depend on the silence around a recording.

Writes every clip three times into a scratch folder: as it is, with SECONDS of near-silence
(white noise at -65 dBFS) before it, and with the same after it; runs `ser predict` (each clip
alone, as by default) on each version and prints, per version, the accuracy (TESS and RAVDESS
file names carry the emotion) and the share of clips whose emotion is the same as for the clip
as it is. A model whose features include the silence at the edges (statistics over every
frame) changes its mind on many clips; users' recordings start and stop anywhere.

  python3 tools/silence_margin_probe.py --model runs/x/model.serb --every 10 ../shared/data/tess
Needs: numpy, soundfile; the ser binary (SER_BIN, default target/release/ser).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

RAVDESS = {1: "neutral", 2: "neutral", 3: "happy", 4: "sad", 5: "angry", 6: "fear",
           7: "disgust", 8: "pleasant_surprise"}
TESS = {"ps": "pleasant_surprise", "pleasant_surprise": "pleasant_surprise"}


def emotion_of(path: Path):
    """The emotion a TESS or RAVDESS file name gives, or None."""
    parts = path.stem.split("-")
    if len(parts) == 7 and all(p.isdigit() for p in parts):
        return RAVDESS.get(int(parts[2]))
    word = path.stem.split("_")[-1].lower()
    return TESS.get(word, word if word in RAVDESS.values() else None)


def predict(ser: str, model, folder: Path):
    command = [ser, "predict", str(folder), "--format", "jsonl", "-q"]
    if model:
        command += ["--model", model]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 and not result.stdout:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    answers = {}
    for line in result.stdout.splitlines():
        row = json.loads(line)
        answers[Path(row["file"]).name] = row["emotion"]
    return answers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="folders of clips (searched recursively)")
    parser.add_argument("--model", help="bundle to probe (default: the embedded model)")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--every", type=int, default=1, help="take every N-th clip")
    args = parser.parse_args()
    ser = os.environ.get("SER_BIN", "target/release/ser")
    clips = sorted(p for folder in args.folders for p in folder.rglob("*")
                   if p.suffix.lower() in (".wav", ".flac"))
    clips = clips[:: args.every]
    if not clips:
        sys.exit(f"no .wav or .flac files under {', '.join(map(str, args.folders))}")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as scratch:
        versions = {name: Path(scratch, name) for name in ("as-is", "before", "after")}
        for folder in versions.values():
            folder.mkdir()
        truth = {}
        for index, clip in enumerate(clips):
            try:
                samples, rate = sf.read(clip, dtype="float32", always_2d=True)
            except Exception as error:  # one unreadable clip is left out, not the whole probe
                print(f"warning: {clip} left out: {error}", file=sys.stderr)
                continue
            samples = samples.mean(axis=1)
            silence = (rng.standard_normal(int(args.seconds * rate)) * 10 ** (-65 / 20)).astype("float32")
            name = f"{index:05d}-{clip.stem}.wav"
            truth[name] = emotion_of(clip)
            sf.write(versions["as-is"] / name, samples, rate)
            sf.write(versions["before"] / name, np.concatenate([silence, samples]), rate)
            sf.write(versions["after"] / name, np.concatenate([samples, silence]), rate)
        answers = {name: predict(ser, args.model, folder) for name, folder in versions.items()}
    reference = answers["as-is"]
    for name, given in answers.items():
        labelled = [clip for clip in given if truth.get(clip)]
        accuracy = np.mean([given[c] == truth[c] for c in labelled]) if labelled else float("nan")
        same = np.mean([given[c] == reference.get(c) for c in given])
        print(json.dumps({"version": name, "clips": len(given), "accuracy": round(float(accuracy), 4),
                          "same_as_as_is": round(float(same), 4)}))


if __name__ == "__main__":
    main()
