#!/usr/bin/env bash
# Retrain the model embedded in the `ser` binary (models/default.serb): an ensemble of three linear
# classifiers on the hidden states of Whisper base's encoder (models/whisper-base-encoder.bin),
# each with speaker normalisation and its temperature fitted on 5 out-of-fold speaker folds,
# trained on all of TESS and the 20 RAVDESS actors for a fixed number of epochs:
#   whisper-1-block   models/whisper-1-block.toml: the encoder after 1 of its 6 blocks;
#   whisper           models/whisper.toml: after 2 blocks;
#   whisper-3-blocks  models/whisper-3-blocks.toml: after 3 blocks.
# Joined into one ensemble bundle (the normalised geometric mean of their calibrated
# probabilities; the encoder runs once per clip for all three), then the model card
# (models/default-card.toml: the recipe's cross-validated figures and known limits) attached.
# The bundle carries the encoder cut to the blocks each model reads. Takes about 6 minutes on
# 2 cores from an empty feature cache (the encoder's features of the 3994 clips at the three
# depths, then 6 short trainings a model), under 3 with the features cached. Rebuild ser
# afterwards to embed the new bundle. Run from anywhere: it works in the repository's root,
# where the recipes find the encoder.
#
# Usage: tools/train_default_model.sh [RUN_DIR]   (default runs/default-model; the members'
# runs go to RUN_DIR/<member>, and a finished member is not trained again)
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/default-model}
# The workspace build (not `-p ser`, whose feature set would rebuild the dependencies).
cargo build --release --workspace --locked
ser=target/release/ser
declare -A recipes=(
    [whisper-1-block]=models/whisper-1-block.toml
    [whisper]=models/whisper.toml
    [whisper-3-blocks]=models/whisper-3-blocks.toml
)
members=(whisper-1-block whisper whisper-3-blocks)
for member in "${members[@]}"; do
    config=${recipes[$member]}
    if [ -f "$run/$member/model.serb" ]; then
        echo "$run/$member/model.serb exists: kept"
        continue
    fi
    "$ser" train --config "$config" --corpus tess --corpus ravdess \
        --split random:0 --validation 0 --seed 42 --out "$run/$member"
done
"$ser" model ensemble "$run"/{whisper-1-block,whisper,whisper-3-blocks}/model.serb --out "$run/model.serb"
"$ser" model card "$run/model.serb" --set models/default-card.toml --out models/default.serb
echo "models/default.serb updated from $run; rebuild ser to embed it"
