"""tools/ensemble_predictions.py: the geometric mean of separate experiments' predictions."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "ensemble_predictions.py"
LABELS = ["angry", "sad"]


def write_run(root: Path, run: str, rows):
    folder = root / "mlp" / run
    folder.mkdir(parents=True)
    lines = ["path,truth,predicted,correct," + ",".join(f"p_{label}" for label in LABELS)]
    for path, truth, probabilities in rows:
        predicted = LABELS[max(range(len(LABELS)), key=lambda i: probabilities[i])]
        lines.append(f"{path},{truth},{predicted},{str(predicted == truth).lower()}," + ",".join(map(str, probabilities)))
    (folder / "predictions.csv").write_text("\n".join(lines) + "\n")


def run_script(*folders):
    result = subprocess.run([sys.executable, str(SCRIPT), *map(str, folders)], capture_output=True, text=True)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def test_clips_are_judged_by_the_geometric_mean(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    # Clip x: A is sure of angry, B leans sad: the mean of the logs says angry (0.9*0.4 > 0.1*0.6).
    # Clip y: A's probability 0 of sad counts as 1e-12, below B's 1e-6 of angry: angry wins.
    # Clip z: both say sad, rightly.
    write_run(a, "fold-1", [("x.wav", "angry", [0.9, 0.1]), ("y.wav", "sad", [1.0, 0.0]), ("z.wav", "sad", [0.2, 0.8])])
    write_run(b, "fold-1", [("x.wav", "angry", [0.4, 0.6]), ("y.wav", "sad", [1e-6, 1.0]), ("z.wav", "sad", [0.3, 0.7])])
    result, lines = run_script(a, b)
    assert result.returncode == 0, result.stderr
    run, summary = lines
    assert run["run"] == "fold-1" and run["clips"] == 3
    assert abs(run["accuracy"] - 2 / 3) < 1e-9
    # angry: one of one right; sad: z right, y wrong -> recalls 1 and 0.5.
    assert abs(run["uar"] - 0.75) < 1e-9
    assert summary["runs"] == 1 and abs(summary["accuracy_mean"] - 2 / 3) < 1e-9


def test_one_experiment_is_refused(tmp_path):
    write_run(tmp_path / "a", "fold-1", [("x.wav", "angry", [0.9, 0.1])])
    result, _ = run_script(tmp_path / "a")
    assert result.returncode != 0 and "two or more" in result.stderr
