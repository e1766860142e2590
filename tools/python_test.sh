#!/usr/bin/env bash
# The Python package's tests (the Python part of .ci/run): a venv of its own in
# target/python-venv, the wheel built by maturin on the workspace's target dir in cargo's
# profile $SER_PROFILE (default release; .ci/run sets ci: after its `cargo test` only pyo3 and
# the extension module are compiled), then pytest on real TESS clips against librosa, the `ser`
# binary of that profile ($SER_BIN overrides it) and a local Ray.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
profile="${SER_PROFILE:-release}"
if [ -z "${SER_BIN:-}" ]; then
    cargo build --profile "$profile" --quiet --locked --bin ser
    SER_BIN=$(realpath "${CARGO_TARGET_DIR:-target}/$profile/ser")
fi
export SER_BIN
rm -rf target/wheels
"$venv/bin/maturin" build --profile "$profile" --manifest-path python/Cargo.toml --out target/wheels
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/ser-*.whl
echo "wheel: $(ls target/wheels) ($(du -h target/wheels/*.whl | cut -f1))"
# numba (librosa) caches compiled functions; site-packages may not be writable.
export NUMBA_CACHE_DIR="$PWD/target/numba-cache"
# Ray's local test cluster: no usage reporting, no dashboard.
export RAY_USAGE_STATS_ENABLED=0
# From the repository root, so `import ser` is the installed wheel, not python/ser.
"$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider "$@"
