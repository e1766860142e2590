#!/usr/bin/env bash
# Browser test of the web page (the last step of .ci/run).
# Starts `ser serve` on loopback, then headless Chromium (driven by playwright-core through
# tools/browser_test.mjs) uploads a TESS clip on the page and checks the emotion shown: it must
# equal the API's answer for the same file, and the expected emotion if one is given.
#
# Usage: tools/browser_test.sh [AUDIO_FILE [EXPECTED_EMOTION]]
#   default clip: $SER_DATA_DIR/tess/OAF_angry/OAF_back_angry.flac, expected "angry"; then
#   $SER_DATA_DIR/../audio-seeds/silence.wav, expected "no speech"
# Needs:  Debian's chromium (installed with apt-get when missing and running as root; path
#         overridable with $CHROMIUM) and npm (playwright-core goes into ~/.cache/ser-browser-test)
# Model:  as for `ser serve`: $SER_MODEL, else the model built into ser.
# Build:  cargo's profile $SER_PROFILE (default release; .ci/run sets ci, the build it tested).
# Writes a screenshot of the page to ${SCREENSHOT:-target/browser_test.png}.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${SER_DATA_DIR:-../shared/data}"
if [ $# -ge 1 ]; then
  audio="$1"
  expected="${2:-}"
else
  audio="$data/tess/OAF_angry/OAF_back_angry.flac"
  expected="angry"
fi
[ -f "$audio" ] || { echo "no such audio file: $audio" >&2; exit 2; }
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
[ -x "$chromium_bin" ] || { echo "needs Chromium: apt-get install chromium" >&2; exit 2; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/ser-browser-test"
if [ ! -d "$cache/node_modules/playwright-core" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent playwright-core@1.65.1
fi
# ES modules resolve packages next to the script, so run a copy from the cache folder.
cp tools/browser_test.mjs "$cache/"

profile="${SER_PROFILE:-release}"
cargo build --profile "$profile" --quiet --bin ser
target="${CARGO_TARGET_DIR:-target}"
port="${SER_BROWSER_TEST_PORT:-18931}"
"$target/$profile/ser" serve --addr "127.0.0.1:$port" --quiet &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "$server" 2>/dev/null || { echo "ser serve exited early" >&2; exit 1; }
  sleep 0.1
done

screenshot="${SCREENSHOT:-$target/browser_test.png}"
CHROMIUM="$chromium_bin" node "$cache/browser_test.mjs" "http://127.0.0.1:$port" "$audio" \
  "$screenshot" ${expected:+"$expected"}
echo "screenshot: $screenshot"
if [ $# -eq 0 ]; then
  # Two seconds of digital silence: the page must say there is no speech, not an emotion.
  CHROMIUM="$chromium_bin" node "$cache/browser_test.mjs" "http://127.0.0.1:$port" \
    "$data/../audio-seeds/silence.wav" "${screenshot%.png}-silence.png" "no speech"
fi
