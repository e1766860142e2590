#!/usr/bin/env bash
# The Python package's tests (the Python part of .ci/run): a venv of its own in
# target/python-venv, the wheel built by maturin on the workspace's release target dir and
# profile (after `cargo test --release --workspace` only the extension module itself is
# compiled), then pytest on real TESS clips against librosa, the `ser` binary and a local Ray.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
rm -rf target/wheels
"$venv/bin/maturin" build --release --manifest-path python/Cargo.toml --out target/wheels
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/ser-*.whl
echo "wheel: $(ls target/wheels) ($(du -h target/wheels/*.whl | cut -f1))"
# numba (librosa) caches compiled functions; site-packages may not be writable.
export NUMBA_CACHE_DIR="$PWD/target/numba-cache"
# Ray's local test cluster: no usage reporting, no dashboard.
export RAY_USAGE_STATS_ENABLED=0
# From the repository root, so `import ser` is the installed wheel, not python/ser.
"$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider "$@"
