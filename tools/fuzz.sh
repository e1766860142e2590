#!/usr/bin/env bash
# Coverage-guided fuzzing of ser's input boundaries with cargo fuzz (libFuzzer).
#
# usage: tools/fuzz.sh [TARGET...] [--minutes N] [--keep-going] [--seeds-only]
#   TARGET      one or more of: decode predict_path features bundle checkpoint feature_cache
#               manifest_csv experiment_toml http_upload whisper_weights (default: all, in that
#               order)
#   --minutes N fuzzing time per target (default 10); --seconds N for a quick smoke run
#   --keep-going  go on fuzzing after a crash (libFuzzer -fork=1 -ignore_crashes=1: one child
#               process at a time, every crash still saved), to fuzz past a known one
#   --seeds-only  build the seed corpora and stop
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Seed corpora are
# built here, never committed (the corpora's licences forbid redistributing clips): real clips
# of every format from ../shared/audio-seeds and ../shared/data (SER_SHARED_DIR overrides),
# mutated copies from ../shared/tools/mutate_audio.py, and the experiment files, model bundle
# and a freshly trained tiny checkpoint for the parser targets. Inputs the fuzzers find go to
# fuzz/corpus/<target>, crashes to fuzz/artifacts/<target>, logs to fuzz/logs/<target>.log.
#
# Each target runs as one in-process libFuzzer (no -jobs, no -fork unless --keep-going: one
# fuzzing process at a time), niced, with RAYON_NUM_THREADS=1, -timeout=2 (a hang is > 2 s per input) and
# -rss_limit_mb=1024 (an out-of-memory is > 1 GiB). Reproduce a crash with
#   cd fuzz && cargo +nightly fuzz run -s none TARGET artifacts/TARGET/crash-...
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SER_SHARED_DIR:-$root/../shared}
fuzz=$root/fuzz
all_targets=(decode predict_path features bundle checkpoint feature_cache manifest_csv
    experiment_toml http_upload whisper_weights)

minutes=10
seconds=
seeds_only=false
keep_going=()
targets=()
while (($#)); do
    case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --seeds-only) seeds_only=true; shift ;;
    --keep-going) keep_going=(-fork=1 -ignore_crashes=1); shift ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
seconds=${seconds:-$((minutes * 60))}
for target in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "unknown target: $target" >&2; exit 2; }
done

build() {
    (cd "$fuzz" && nice -n 10 cargo +nightly fuzz build -s none "$@")
}

seeds=$fuzz/corpus/seeds
audio_seeds() {
    local out=$seeds/audio
    [[ -d $out ]] && return
    mkdir -p "$out"
    # Every format users send: 16/24-bit, float, µ-law and stereo WAV, MP3, OGG, silence,
    # a 100-sample clip, FLAC (TESS 24414 Hz, RAVDESS 48 kHz), AIFF behind a .wav name,
    # a 96 kHz WAV; plus the inputs that once crashed a dependency.
    cp "$shared"/audio-seeds/*.{wav,mp3,ogg} "$out"/
    cp "$shared"/data/tess/OAF_angry/OAF_back_angry.flac "$out"/
    cp "$shared"/data/tess/YAF_sad/YAF_back_sad.flac "$out"/
    cp "$shared"/data/ravdess/Actor_01/03-01-05-02-01-01-01.flac "$out"/
    cp "$shared"/data/ravdess/Actor_02/03-01-01-01-01-01-02.flac "$out"/
    cp "$shared"/data/tess-wav-sample/YAF_angry/YAF_germ_angry.wav "$out"/aiff-YAF_germ_angry.wav
    cp "$shared"/data/tess-wav-sample/OAF_Fear/OAF_food_fear.wav "$out"/96k-OAF_food_fear.wav
    cp "$root"/crates/ser-audio/tests/fixtures/*.{mp3,ogg} "$out"/
    cp "$root"/crates/ser-audio/tests/fixtures/crashes/*.{wav,aiff} "$out"/
    # Broken copies: byte flips, truncations, header stomps, insertions.
    python3 "$shared"/tools/mutate_audio.py "$out"/mutated 200 >/dev/null
    mv "$out"/mutated/* "$out"/ && rmdir "$out"/mutated
}

seed_corpus() { # target -> the folder of its seeds
    local target=$1 out=$seeds/$1
    case $target in
    decode | predict_path) audio_seeds; echo "$seeds/audio"; return ;;
    esac
    if [[ ! -d $out ]]; then
        mkdir -p "$out"
        case $target in
        features) head -c 4096 /dev/urandom >"$out"/random ;;
        bundle | checkpoint)
            mkdir -p "$seeds/model"
            if [[ ! -f $seeds/model/tiny.serc ]]; then
                build checkpoint >/dev/null
                SER_FUZZ_WRITE_SEEDS=$seeds/model RAYON_NUM_THREADS=1 \
                    "$fuzz"/target/x86_64-unknown-linux-gnu/release/checkpoint -runs=0 >/dev/null 2>&1
            fi
            if [[ $target == bundle ]]; then
                cp "$seeds"/model/tiny.serb "$root"/models/default.serb "$out"/
            else
                cp "$seeds"/model/tiny.serc "$out"/
            fi
            ;;
        feature_cache)
            python3 - "$out" <<'EOF'
import struct, sys
out = sys.argv[1]
def entry(rows, cols, values=None, magic=b"SERFEAT1"):
    values = values if values is not None else [float(i % 7) - 3 for i in range(rows * cols)]
    return magic + struct.pack("<II", rows, cols) + struct.pack(f"<{len(values)}f", *values)
seeds = {"good": entry(40, 10), "empty": entry(40, 0), "other-shape": entry(13, 20),
         "short": entry(40, 10)[:-3], "old-magic": entry(40, 10, magic=b"SERFEAT0"),
         "nan": entry(40, 2, [float("nan")] * 80), "huge-dims": entry(0xFFFFFFFF, 2, [])}
for name, data in seeds.items():
    open(f"{out}/{name}", "wb").write(data)
EOF
            ;;
        manifest_csv)
            printf 'path,label,speaker,extra\nclips/a.wav,Angry,spk1,x\n/abs/b.flac,calm,,y\nc.wav,boredom,spk2,z\n' >"$out"/extra-columns.csv
            printf 'path,label,speaker,text\n"a, b.wav",happy,s1,"say ""hi"""\nd.wav,ps,s2,\n' >"$out"/quoted.csv
            printf '\xef\xbb\xbfpath;label\na.wav;sad\n' >"$out"/bom-semicolon.csv
            printf 'path,emotion\na.wav,angry\n' >"$out"/no-label.csv
            printf 'label,path\nneutral,x.wav\nfear\n' >"$out"/short-row.csv
            ;;
        experiment_toml)
            cp "$root"/experiments/*.toml "$out"/
            cp "$root"/models/default.toml "$root"/models/default-card.toml "$out"/
            cp "$root"/crates/ser-model/configs/*.toml "$out"/ 2>/dev/null || true
            ;;
        whisper_weights)
            # The repository's encoder cut short at a few places: its header, its first tensors.
            for size in 200 4096 300000; do
                head -c $size "$root"/models/whisper-base-encoder.bin >"$out"/encoder-$size
            done
            ;;
        http_upload)
            audio_seeds
            local i=0 file
            # byte 0: mode (0 raw, 1 multipart around the payload, 2 payload as multipart
            # body); byte 1: flags (see fuzz_targets/http_upload.rs).
            for file in "$seeds"/audio/*.{wav,mp3,ogg,flac}; do
                printf "\\x$(printf %02x $((i % 2)))\\x$(printf %02x $((i * 7 % 64)))" >"$out/$i"
                head -c 200000 "$file" >>"$out/$i"
                i=$((i + 1))
            done
            {
                printf '\x02\x00'
                printf -- '--fuzzBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name="file"; filename="t.wav"\r\n\r\n'
                cat "$shared"/audio-seeds/tiny.wav
                printf -- '\r\n--fuzzBoundary7MA4YWxkTrZu0gW--\r\n'
            } >"$out"/multipart-by-hand
            ;;
        esac
    fi
    echo "$out"
}

build
mkdir -p "$fuzz"/logs
for target in "${targets[@]}"; do
    corpus_seeds=$(seed_corpus "$target")
    $seeds_only && continue
    mkdir -p "$fuzz/corpus/$target" "$fuzz/artifacts/$target"
    echo "== $target: $seconds s, seeds $corpus_seeds, log fuzz/logs/$target.log ($(date -u +%H:%M:%S) UTC)"
    status=0
    (cd "$fuzz" && RAYON_NUM_THREADS=1 nice -n 10 cargo +nightly fuzz run -s none "$target" \
        "corpus/$target" "$corpus_seeds" -- \
        -max_total_time=$seconds -timeout=2 -rss_limit_mb=1024 \
        -print_final_stats=1 "${keep_going[@]}") >"$fuzz/logs/$target.log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$fuzz/logs/$target.log" || true
    if ((status != 0)); then
        echo "   $target FAILED (exit $status); see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        grep -E '^(==[0-9]+== ERROR|SUMMARY|thread .* panicked)' "$fuzz/logs/$target.log" | head -5 || true
    fi
done
