#!/usr/bin/env bash
# Retrain the model embedded in the `ser` binary (models/default.serb): the MLP of
# models/default.toml (pooled utterance statistics, temperature fitted on 5 out-of-fold
# speaker folds) and the cnn1d of models/default-cnn1d.toml (160 frames, 3 folds), both with
# speaker normalisation and two degraded copies of every clip, trained on all of TESS and the
# 20 RAVDESS actors for a fixed number of epochs; joined into one ensemble bundle (the
# normalised geometric mean of their calibrated probabilities), then the model card
# (models/default-card.toml: the recipe's cross-validated figures and known limits) attached.
# Takes about 50 minutes on 2 cores (the MLP ~6, the cnn1d 46 at load 3-5: 3 calibration
# trainings alongside the model). Rebuild ser afterwards to embed the new bundle.
#
# Usage: tools/train_default_model.sh [RUN_DIR]   (default runs/default-model; the members'
# runs go to RUN_DIR/mlp and RUN_DIR/cnn1d, and a finished member is not trained again)
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/default-model}
# The workspace build (not `-p ser`, whose feature set would rebuild the dependencies).
cargo build --release --workspace --locked
ser=target/release/ser
for member in mlp cnn1d; do
    config=models/default.toml
    [ "$member" = cnn1d ] && config=models/default-cnn1d.toml
    if [ -f "$run/$member/model.serb" ]; then
        echo "$run/$member/model.serb exists: kept"
        continue
    fi
    "$ser" train --config "$config" --corpus tess --corpus ravdess \
        --split random:0 --validation 0 --seed 42 --out "$run/$member"
done
"$ser" model ensemble "$run/mlp/model.serb" "$run/cnn1d/model.serb" --out "$run/model.serb"
"$ser" model card "$run/model.serb" --set models/default-card.toml --out models/default.serb
echo "models/default.serb updated from $run; rebuild ser to embed it"
