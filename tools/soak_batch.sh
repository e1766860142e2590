#!/usr/bin/env bash
# The 10 000-file batch of issue 12: real clips (hard links to TESS and RAVDESS clips) mixed
# with broken copies (../shared/tools/mutate_audio.py, named .wav) in one folder tree, through
# one `ser predict` call. Checks that every file gets exactly one row (a prediction or an
# error naming it) and prints the peak resident memory and the time taken.
# usage: tools/soak_batch.sh [FILES]   (default 10000; SER_BIN, SER_DATA_DIR as elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-10000}
data=${SER_DATA_DIR:-../shared/data}
ser=${SER_BIN:-target/release/ser}
work=$(mktemp -d "${TMPDIR:-/tmp}/ser-soak-batch.XXXXXX")
trap 'rm -rf "$work"' EXIT
broken=$((total / 5))
real=$((total - broken))
mkdir -p "$work/real" "$work/broken"
mapfile -t clips < <(find "$data/tess" "$data/ravdess" -name '*.flac' | sort)
for ((i = 0; i < real; i++)); do
    clip=${clips[i % ${#clips[@]}]}
    ln "$clip" "$work/real/$i.flac" 2>/dev/null || cp "$clip" "$work/real/$i.flac"
done
python3 ../shared/tools/mutate_audio.py "$work/broken-raw" "$broken"
for file in "$work"/broken-raw/*.dat; do
    mv "$file" "$work/broken/$(basename "${file%.dat}").wav"
done
status=0
/usr/bin/time -f '%M %e' -o "$work/time.txt" "$ser" predict --quiet --format jsonl \
    "$work/real" "$work/broken" > "$work/out.jsonl" || status=$?
read -r peak_kib seconds < <(tail -n 1 "$work/time.txt")
rows=$(wc -l < "$work/out.jsonl")
failed=$(grep -c '"error":"' "$work/out.jsonl" || true)
distinct=$(python3 -c 'import json,sys; print(len({json.loads(l)["file"] for l in open(sys.argv[1])}))' "$work/out.jsonl")
echo "files: $total ($real real, $broken broken); rows: $rows ($distinct distinct files, $failed errors); exit status $status"
echo "peak resident memory: $((peak_kib / 1024)) MiB; wall time: ${seconds} s ($(python3 -c "print(round($total / max($seconds, 0.001)))") files/s); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$rows" -ne "$total" ] || [ "$distinct" -ne "$total" ]; then
    echo "FAILED: not every file is accounted for exactly once" >&2
    exit 1
fi
