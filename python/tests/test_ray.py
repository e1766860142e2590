"""`python -m ser.ray` on a local Ray cluster (2 CPUs): 100 TESS clips and a broken file give
Parquet rows equal to `ser predict --format jsonl`, and features equal to ser.FeatureExtractor."""

import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

import ser
import ser.ray


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tess_clips, broken_files):
    """100 clips across speakers and emotions, and a file that is not audio."""
    return [str(p.resolve()) for p in tess_clips[::28][:100]] + [str(broken_files["text"].resolve())]


def parquet_rows(folder):
    """Rows as JSON-like dicts: the probabilities struct (all null) of a row without an
    emotion (failed, no speech, too short) is {} again, as in JSON."""
    rows = pq.read_table(folder).to_pylist()
    for row in [*rows, *(segment for row in rows for segment in row["segments"])]:
        if row["emotion"] is None:
            row["probabilities"] = {}
    return rows


def test_predictions_equal_the_cli(local_ray, inputs, ser_bin, tmp_path):
    out = tmp_path / "results.parquet"
    rows = ser.ray.predict(inputs + [str(tmp_path / "missing.wav")], str(out), num_workers=2)
    assert rows == len(inputs) + 1
    cli = subprocess.run(
        [str(ser_bin), "predict", "--quiet", "--format", "jsonl", *inputs, str(tmp_path / "missing.wav")],
        capture_output=True,
        text=True,
    )
    expected = [json.loads(line) for line in cli.stdout.splitlines()]
    assert len(expected) == len(inputs) + 1
    # Ray writes blocks as they finish: the rows are the CLI's, not necessarily in its order.
    by_file = lambda row: row["file"]
    assert sorted(parquet_rows(out), key=by_file) == sorted(expected, key=by_file)
    errors = [row for row in expected if row["error"]]
    assert [row["file"] for row in errors] == [inputs[-1], str(tmp_path / "missing.wav")]


def test_features_equal_the_extractor(local_ray, inputs, tmp_path):
    out = tmp_path / "features.parquet"
    assert ser.ray.features(inputs[:20] + inputs[-1:], str(out), num_workers=2, pool=["mean", "std"]) == 21
    table = pq.read_table(out)
    rows = table.to_pylist()
    extractor = ser.FeatureExtractor(pool=["mean", "std"])
    assert json.loads(table.schema.metadata[b"ser.feature_names"]) == extractor.names
    for row, path in zip(rows[:20], inputs[:20]):
        assert row["file"] == path and row["error"] is None
        np.testing.assert_array_equal(np.array(row["features"], dtype=np.float32), extractor.extract_file(path))
    assert rows[-1]["features"] is None and rows[-1]["error"].startswith(inputs[-1])


def test_command_line_runs_a_job(inputs, tmp_path):
    out = tmp_path / "cli.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "ser.ray", "predict", *inputs[:4], "--out", str(out), "--num-workers", "1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "4 rows written" in done.stderr
    assert [row["file"] for row in parquet_rows(out)] == inputs[:4]
