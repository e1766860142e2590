#!/usr/bin/env bash
# Retrain the model embedded in the `ser` binary (models/default.serb) from models/default.toml
# (MLP on pooled utterance statistics) on all 2800 TESS clips, a fixed number of epochs.
# Takes about a minute on 2 cores. Rebuild ser afterwards to embed the new bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/default-model}
cargo run --release -p ser -- train --config models/default.toml --corpus tess --split random:0 --validation 0 --seed 42 --out "$run"
cp "$run/model.serb" models/default.serb
echo "models/default.serb updated from $run; rebuild ser to embed it"
