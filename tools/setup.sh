#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for ser: Rust components, then build and install `ser`.
#
# The installed binary is stripped (about 25 MB instead of 220 MB of debug line tables); its
# line tables go to ~/.cargo/bin/.debug/ser.debug, which Rust's panic backtraces find through
# the binary's .gnu_debuglink, so a crash report still names files and lines.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
    echo "Rust is missing: install it from https://rustup.rs, then run this again" >&2
    exit 1
fi
rustup component add rustfmt clippy 2>/dev/null || true
# In the workspace's target folder, so .ci/run and development reuse the build.
cargo build --release --locked -p ser
bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
objcopy --only-keep-debug target/release/ser "$staging/ser.debug"
objcopy --strip-all --add-gnu-debuglink="$staging/ser.debug" target/release/ser "$staging/ser"
install -d "$bin_dir/.debug"
install -m 644 "$staging/ser.debug" "$bin_dir/.debug/ser.debug"
install -m 755 "$staging/ser" "$bin_dir/ser"
echo "installed: $bin_dir/ser ($(du -h "$bin_dir/ser" | cut -f1); line tables in $bin_dir/.debug/ser.debug)"
echo "Python package: pip install ./python   (see README, \"Python and notebooks\")"
