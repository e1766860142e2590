"""Batch jobs on Ray: emotion predictions or features of many recordings into Parquet.

    python -m ser.ray predict INPUT... --out results.parquet [--address auto] [--num-workers N]
    python -m ser.ray features INPUT... --out features.parquet [--config f.json] [--pool mean,std]

INPUT is a file, a folder (searched recursively for audio files, as ``ser predict`` does), a
glob pattern, a URI Ray can read (``s3://bucket/calls/``, ``gs://...``), or ``@list.txt``
naming one of those per line. Audio bytes are read with ``ray.data.read_binary_files`` and
handled by a pool of actors that each load the model once. The output (a folder of Parquet
files) has one row per recording: for ``predict`` the fields of ``ser predict --format
jsonl`` (segments nested in ``segments``), for ``features`` the file, the feature matrix (or
pooled vector) and the frame count, with the feature names in the schema metadata. A file
that cannot be read or decoded becomes a row with its ``error``; the job goes on.

On a cluster, start Ray on every node (``ray start --head`` / ``ray start --address=...``),
install ``ser`` on every node, and pass ``--address auto`` (or the head's address) with
inputs every node can read: a shared file system or object-store URIs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence

import numpy as np

import ser
from ser import _ser

#: Recordings per model call: enough to keep a worker busy, small enough to bound memory.
BATCH_SIZE = 32


def expand(arguments: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Ray-readable paths/URIs and (input, reason) pairs for inputs that name nothing.

    Local inputs expand exactly as ``ser predict`` expands them (to absolute paths, which is
    how Ray names local files); URIs go to Ray unchanged.
    """
    paths: list[str] = []
    missing: list[tuple[str, str]] = []
    for argument in arguments:
        if argument.startswith("@"):
            with open(argument[1:], encoding="utf-8") as listing:
                lines = [line.strip() for line in listing]
            more_paths, more_missing = expand([line for line in lines if line])
            paths += more_paths
            missing += more_missing
        elif "://" in argument:
            paths.append(argument)
        else:
            for path, error in _ser.expand_inputs([argument]):
                if error is None:
                    paths.append(os.path.abspath(path))
                else:
                    missing.append((path, error))
    return paths, missing


def _arrow_type(value: Any, pa: Any) -> Any:
    """The Arrow type of one JSON value; ``None`` where the value says nothing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.string()
    if isinstance(value, dict):
        return pa.struct([(key, _arrow_type(item, pa) or pa.string()) for key, item in value.items()])
    if isinstance(value, list):
        item_types = [_arrow_type(item, pa) for item in value]
        known = [t for t in item_types if t is not None]
        return pa.list_(known[0] if known else pa.string())
    return pa.string()


def record_schema(examples: Sequence[dict[str, Any]]) -> Any:
    """An Arrow schema for records shaped like ``examples``: each field takes the type of its
    first non-null example value (a field null in every example is stored as text). Built
    from real records, so fields added to the Rust schema appear without a change here."""
    import pyarrow as pa

    fields: dict[str, Any] = {}
    for example in examples:
        for key, value in example.items():
            if fields.get(key) is None:
                fields[key] = _arrow_type(value, pa)
    return pa.schema([(key, kind or pa.string()) for key, kind in fields.items()])


def to_table(records: list[dict[str, Any]], schema: Any) -> Any:
    """Records as an Arrow table of ``schema``; text fields take any value as JSON."""
    import pyarrow as pa

    text_fields = {f.name for f in schema if pa.types.is_string(f.type)}
    rows = [
        {
            key: json.dumps(value) if key in text_fields and value is not None and not isinstance(value, str) else value
            for key, value in record.items()
        }
        for record in records
    ]
    return pa.Table.from_pylist(rows, schema=schema)


class _Worker:
    """Shared set-up of the actors: the rayon pool sized to the CPUs Ray gives the actor."""

    def __init__(self, threads: int) -> None:
        # Set before ser first runs rayon in this process: its pool reads it once.
        os.environ.setdefault("RAYON_NUM_THREADS", str(threads))


class Predictor(_Worker):
    """Loads the model once per actor; predicts a batch of (path, bytes) rows."""

    def __init__(self, model: Optional[str], options: dict[str, Any], schema: Any, threads: int) -> None:
        super().__init__(threads)
        self.model = ser.Model.load(model) if model else ser.Model.default()
        self.options = options
        self.schema = schema

    def __call__(self, batch: dict[str, np.ndarray]) -> Any:
        recordings = [(str(path), bytes(data)) for path, data in zip(batch["path"], batch["bytes"])]
        records = self.model.predict_recordings(recordings, **self.options)
        return to_table(records, self.schema)


class Extractor(_Worker):
    """Builds the feature extractor once per actor; extracts a batch of (path, bytes) rows."""

    def __init__(self, config: Optional[str], pool: list[str], threads: int) -> None:
        super().__init__(threads)
        self.extractor = ser.FeatureExtractor(config, pool=pool)
        self.pooled = bool(pool)

    def __call__(self, batch: dict[str, np.ndarray]) -> Any:
        import pyarrow as pa

        recordings = [(str(path), bytes(data)) for path, data in zip(batch["path"], batch["bytes"])]
        results = self.extractor.extract_recordings(recordings)
        return pa.Table.from_pylist(
            [feature_row(name, features, error, self.pooled) for (name, _), (features, error) in zip(recordings, results)],
            schema=feature_schema(self.pooled),
        )


def feature_schema(pooled: bool) -> Any:
    import pyarrow as pa

    values = pa.list_(pa.float32()) if pooled else pa.list_(pa.list_(pa.float32()))
    return pa.schema([("file", pa.string()), ("n_frames", pa.int64()), ("features", values), ("error", pa.string())])


def feature_row(name: str, features: Optional[np.ndarray], error: Optional[str], pooled: bool) -> dict[str, Any]:
    if features is None:
        return {"file": name, "n_frames": None, "features": None, "error": error}
    return {
        "file": name,
        "n_frames": None if pooled else int(features.shape[1]),
        "features": features.tolist(),
        "error": None,
    }


def _init_ray(address: Optional[str]) -> Any:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, logging_level="WARNING")
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    return ray


def _read(ray: Any, paths: list[str]) -> Any:
    # Reading bytes needs no CPU of its own: with one, the read tasks would wait for the CPUs
    # the actors hold, and the job would stall (likewise the writes, in _write).
    return ray.data.read_binary_files(paths, include_paths=True, num_cpus=0) if paths else None


def _workers(ray: Any, requested: Optional[int]) -> tuple[int, int]:
    """(actors, threads per actor): by default one single-threaded actor per CPU."""
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    workers = requested or cpus
    return workers, max(1, cpus // workers)


def predict(
    inputs: Sequence[str],
    out: str,
    *,
    address: Optional[str] = None,
    num_workers: Optional[int] = None,
    model: Optional[str] = None,
    segment: str = "auto",
    min_segment: Optional[float] = None,
    max_segment: Optional[float] = None,
    min_silence: Optional[float] = None,
    min_speech: Optional[float] = None,
    uncertain_below: Optional[float] = None,
) -> int:
    """Predicts every recording of ``inputs`` into Parquet at ``out``; returns the row count."""
    ray = _init_ray(address)
    options = {
        "segment": segment,
        "min_segment": min_segment,
        "max_segment": max_segment,
        "min_silence": min_silence,
        "min_speech": min_speech,
        "uncertain_below": uncertain_below,
    }
    # A broken model or bad options fail here, before any work is spread out.
    local_model = ser.Model.load(model) if model else ser.Model.default()
    local_model.predict_files([], **options)
    schema = record_schema([_ser.example_record(local_model.labels), _ser.failed_record("example", "error")])
    paths, missing = expand(inputs)
    workers, threads = _workers(ray, num_workers)
    parts = []
    dataset = _read(ray, paths)
    if dataset is not None:
        parts.append(
            dataset.map_batches(
                Predictor,
                fn_constructor_kwargs={"model": model, "options": options, "schema": schema, "threads": threads},
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=threads,
                batch_size=BATCH_SIZE,
                batch_format="numpy",
            )
        )
    if missing:
        failed = [_ser.failed_record(name, reason) for name, reason in missing]
        parts.append(ray.data.from_arrow(to_table(failed, schema)))
    return _write(parts, out)


def features(
    inputs: Sequence[str],
    out: str,
    *,
    address: Optional[str] = None,
    num_workers: Optional[int] = None,
    config: Optional[str] = None,
    pool: Sequence[str] = (),
) -> int:
    """Extracts features of every recording of ``inputs`` into Parquet at ``out``."""
    ray = _init_ray(address)
    extractor = ser.FeatureExtractor(config, pool=list(pool))  # bad configs fail here
    paths, missing = expand(inputs)
    workers, threads = _workers(ray, num_workers)
    parts = []
    dataset = _read(ray, paths)
    if dataset is not None:
        parts.append(
            dataset.map_batches(
                Extractor,
                fn_constructor_kwargs={"config": config, "pool": list(pool), "threads": threads},
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=threads,
                batch_size=BATCH_SIZE,
                batch_format="numpy",
            )
        )
    if missing:
        import pyarrow as pa

        rows = [feature_row(name, None, reason, bool(pool)) for name, reason in missing]
        parts.append(ray.data.from_arrow(pa.Table.from_pylist(rows, schema=feature_schema(bool(pool)))))
    metadata = {"ser.feature_names": json.dumps(extractor.names), "ser.feature_config": json.dumps(extractor.config)}
    return _write(parts, out, metadata)


def _write(parts: list[Any], out: str, metadata: Optional[dict[str, str]] = None) -> int:
    """Writes the union of ``parts`` as Parquet into the folder ``out``; returns its rows."""
    import pyarrow.parquet as pq

    dataset = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    if metadata:
        dataset = dataset.map_batches(
            lambda table: table.replace_schema_metadata(metadata), batch_format="pyarrow", batch_size=None
        )
    dataset.write_parquet(out, ray_remote_args={"num_cpus": 0})
    return sum(pq.read_metadata(path).num_rows for path in _parquet_files(out))


def _parquet_files(folder: str) -> list[str]:
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".parquet"))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ser.ray", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders, globs, URIs or @list.txt")
    common.add_argument("--out", required=True, help="output Parquet folder")
    common.add_argument("--address", help="Ray cluster address (auto: the running cluster); default: a local Ray")
    common.add_argument("--num-workers", type=int, help="actors (default: one per CPU of the cluster)")
    run = commands.add_parser("predict", parents=[common], help="emotion per recording")
    run.add_argument("--model", help="model bundle (default: $SER_MODEL, else the built-in model)")
    run.add_argument("--segment", choices=["auto", "always", "never"], default="auto")
    run.add_argument("--min-segment", type=float)
    run.add_argument("--max-segment", type=float)
    run.add_argument("--min-silence", type=float)
    run.add_argument("--min-speech", type=float)
    run.add_argument("--uncertain-below", type=float)
    extract = commands.add_parser("features", parents=[common], help="features per recording")
    extract.add_argument("--config", help="FeatureConfig JSON file (as `ser features --config`)")
    extract.add_argument("--pool", default="", help="pool over time, e.g. mean,std,p50")
    args = parser.parse_args(argv)
    try:
        if args.command == "predict":
            rows = predict(
                args.inputs,
                args.out,
                address=args.address,
                num_workers=args.num_workers,
                model=args.model or os.environ.get("SER_MODEL"),
                segment=args.segment,
                min_segment=args.min_segment,
                max_segment=args.max_segment,
                min_silence=args.min_silence,
                min_speech=args.min_speech,
                uncertain_below=args.uncertain_below,
            )
        else:
            config = None
            if args.config:
                with open(args.config, encoding="utf-8") as file:
                    config = file.read()
            pool = [label for label in args.pool.split(",") if label]
            rows = features(args.inputs, args.out, address=args.address, num_workers=args.num_workers, config=config, pool=pool)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{rows} rows written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
