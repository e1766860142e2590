#!/usr/bin/env bash
# Retrain the model embedded in the `ser` binary (models/default.serb) from models/default.toml
# (MLP on pooled utterance statistics, speaker normalisation, two degraded copies of every
# clip, temperature fitted on 5 out-of-fold speaker folds) on all of TESS and the 20 RAVDESS
# actors, a fixed number of epochs, then attach the model card (models/default-card.toml: the
# recipe's cross-validated figures and known limits).
# Takes about 6 minutes on 2 cores (5 calibration trainings, two at a time, then the model). Rebuild ser afterwards to embed the new bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/default-model}
# The workspace build (not `-p ser`, whose feature set would rebuild the dependencies).
cargo build --release --workspace --locked
ser=target/release/ser
"$ser" train --config models/default.toml --corpus tess --corpus ravdess \
    --split random:0 --validation 0 --seed 42 --out "$run"
"$ser" model card "$run/model.serb" --set models/default-card.toml --out models/default.serb
echo "models/default.serb updated from $run; rebuild ser to embed it"
