"""Shared fixtures: real TESS clips from ../shared/data (or $SER_DATA_DIR), the `ser` binary
built by `cargo test --release` (or $SER_BIN: tools/python_test.sh sets it to its profile's build), and broken files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    folder = Path(os.environ.get("SER_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (folder / "tess").is_dir():
        pytest.fail(f"TESS test data not found at {folder} (set SER_DATA_DIR)")
    return folder


@pytest.fixture(scope="session")
def tess() -> Path:
    return data_dir() / "tess"


@pytest.fixture(scope="session")
def tess_clips(tess: Path) -> list[Path]:
    """Every TESS clip, sorted (2800 FLAC files)."""
    return sorted(tess.rglob("*.flac"))


@pytest.fixture(scope="session")
def parity_clips(tess: Path) -> list[Path]:
    """The clips of crates/ser-features/tests/parity.rs, plus a clip per remaining emotion."""
    names = [
        "OAF_angry/OAF_back_angry.flac",
        "OAF_happy/OAF_bite_happy.flac",
        "YAF_sad/YAF_chain_sad.flac",
        "YAF_fear/YAF_kite_fear.flac",
        "OAF_neutral/OAF_youth_neutral.flac",
        "YAF_disgust/YAF_back_disgust.flac",
        "OAF_Pleasant_surprise/OAF_back_ps.flac",
    ]
    return [tess / name for name in names]


@pytest.fixture(scope="session")
def ser_bin() -> Path:
    binary = Path(os.environ.get("SER_BIN", REPO / "target" / "release" / "ser"))
    if not binary.exists():
        pytest.fail(f"the ser binary is missing at {binary}: run cargo build --release -p ser (or set SER_BIN)")
    return binary


@pytest.fixture(scope="session")
def broken_files(tmp_path_factory) -> dict[str, Path]:
    """Files no decoder can use, by what is wrong with them."""
    folder = tmp_path_factory.mktemp("broken")
    wav = (data_dir() / "tess-wav-sample").rglob("*.wav").__next__().read_bytes()
    files = {
        "empty": b"",
        "truncated_header": wav[:20],
        "text": b"this is not audio at all\n" * 10,
    }
    paths = {}
    for name, content in files.items():
        path = folder / f"{name}.wav"
        path.write_bytes(content)
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def mutated_files(tmp_path_factory) -> list[Path]:
    """Deterministically broken copies of real clips (../shared/tools/mutate_audio.py)."""
    folder = tmp_path_factory.mktemp("mutated")
    tool = data_dir().parent / "tools" / "mutate_audio.py"
    subprocess.run([sys.executable, str(tool), str(folder), "24"], check=True)
    return sorted(folder.iterdir())
