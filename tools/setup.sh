#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for ser: Rust components, then build and install `ser`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
    echo "Rust is missing: install it from https://rustup.rs, then run this again" >&2
    exit 1
fi
rustup component add rustfmt clippy 2>/dev/null || true
cargo install --locked --path crates/ser
echo "installed: $(command -v ser || echo "$HOME/.cargo/bin/ser")"
