//! Per-epoch training checkpoint: enough to continue after a crash, losing at most the epoch
//! in flight. Layout: `b"SERC"`, version (u32 LE), header length (u64 LE), JSON header, then
//! the model, optimiser and best-model byte sections whose lengths the header gives.

use std::path::Path;

use ser_features::FeatureConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ModelError;
use crate::bundle::{PREAMBLE_LEN, header_end, write_atomically};
use crate::config::TrainConfig;
use crate::fit::EpochRecord;

const CHECKPOINT_MAGIC: &[u8; 4] = b"SERC";
/// Version 2: the run identity holds the features, training options and data digest.
const CHECKPOINT_VERSION: u32 = 2;

/// What identifies a run: a checkpoint is only resumed into the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunIdentity {
    pub model: crate::config::ModelConfig,
    pub features: FeatureConfig,
    /// The training options but those a resumed run may change ([`resumable_options`]).
    pub training: TrainConfig,
    pub seed: u64,
    pub labels: Vec<String>,
    /// SHA-256 of the network inputs, labels, speakers and corpora of the training examples
    /// ([`training_data_digest`]): another split, corpus, copy draw or feature count differs,
    /// even one of the same size.
    pub training_data: [u8; 32],
}

impl RunIdentity {
    /// What differs between the run that wrote a checkpoint and this one, if anything.
    pub(crate) fn difference(&self, run: &RunIdentity) -> Option<String> {
        let differing: Vec<&str> = [
            ("the model", self.model != run.model),
            ("the features", self.features != run.features),
            ("the training options", self.training != run.training),
            ("the seed", self.seed != run.seed),
            ("the labels", self.labels != run.labels),
            ("the training data", self.training_data != run.training_data),
        ]
        .into_iter()
        .filter_map(|(what, differs)| differs.then_some(what))
        .collect();
        (!differing.is_empty()).then(|| differing.join(", "))
    }
}

/// `training` with the options a resumed run may change set to their defaults: more
/// `epochs` (training on), `patience`, `average_epochs` (checked against the checkpoint's
/// kept model on its own) and `calibration_folds` (fitted after training).
pub(crate) fn resumable_options(training: &TrainConfig) -> TrainConfig {
    let defaults = TrainConfig::default();
    TrainConfig {
        epochs: defaults.epochs,
        patience: defaults.patience,
        average_epochs: defaults.average_epochs,
        calibration_folds: defaults.calibration_folds,
        ..training.clone()
    }
}

/// SHA-256 over the training examples as the network sees them and what each is.
pub(crate) fn training_data_digest(
    inputs: &[f32],
    labels: &[usize],
    speakers: &[usize],
    corpora: &[usize],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update((inputs.len() as u64).to_le_bytes());
    let mut bytes = Vec::with_capacity(4 * 16_384);
    for chunk in inputs.chunks(16_384) {
        bytes.clear();
        bytes.extend(chunk.iter().flat_map(|value| value.to_le_bytes()));
        hasher.update(&bytes);
    }
    for group in [labels, speakers, corpora] {
        hasher.update((group.len() as u64).to_le_bytes());
        for &index in group {
            hasher.update((index as u64).to_le_bytes());
        }
    }
    hasher.finalize().into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CheckpointState {
    pub identity: RunIdentity,
    /// Epochs completed.
    pub epochs_done: usize,
    pub history: Vec<EpochRecord>,
    pub best_epoch: usize,
    pub best_score: f32,
    /// With weight averaging, the first epoch (0-based) of the mean kept as the best model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaged_from: Option<usize>,
    model_len: usize,
    optimizer_len: usize,
    best_len: usize,
}

pub(crate) struct Checkpoint {
    pub state: CheckpointState,
    pub model: Vec<u8>,
    pub optimizer: Vec<u8>,
    pub best_model: Vec<u8>,
}

impl Checkpoint {
    pub(crate) fn new(
        identity: RunIdentity,
        epochs_done: usize,
        history: Vec<EpochRecord>,
        best: (usize, f32),
        averaged_from: Option<usize>,
        sections: [Vec<u8>; 3],
    ) -> Self {
        let [model, optimizer, best_model] = sections;
        Self {
            state: CheckpointState {
                identity,
                epochs_done,
                history,
                best_epoch: best.0,
                best_score: best.1,
                averaged_from,
                model_len: model.len(),
                optimizer_len: optimizer.len(),
                best_len: best_model.len(),
            },
            model,
            optimizer,
            best_model,
        }
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), ModelError> {
        let header =
            serde_json::to_vec(&self.state).map_err(|error| ModelError::CheckpointMismatch {
                path: path.to_path_buf(),
                reason: format!("cannot encode: {error}"),
            })?;
        let mut bytes = Vec::with_capacity(
            PREAMBLE_LEN
                + header.len()
                + self.model.len()
                + self.optimizer.len()
                + self.best_model.len(),
        );
        bytes.extend_from_slice(CHECKPOINT_MAGIC);
        bytes.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&header);
        for section in [&self.model, &self.optimizer, &self.best_model] {
            bytes.extend_from_slice(section);
        }
        write_atomically(path, &bytes)
    }

    pub(crate) fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: &str| ModelError::CheckpointMismatch {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        if bytes.len() < PREAMBLE_LEN || &bytes[..4] != CHECKPOINT_MAGIC {
            return Err(bad("not a ser checkpoint"));
        }
        if bytes[4..8] != CHECKPOINT_VERSION.to_le_bytes() {
            return Err(bad("written by another checkpoint format version"));
        }
        let header_end = header_end(&bytes).ok_or_else(|| bad("truncated header"))?;
        let state: CheckpointState = serde_json::from_slice(&bytes[PREAMBLE_LEN..header_end])
            .map_err(|error| bad(&format!("bad header: {error}")))?;
        let mut rest = &bytes[header_end..];
        let mut take = |len: usize| -> Result<Vec<u8>, ModelError> {
            if rest.len() < len {
                return Err(bad("truncated sections"));
            }
            let (section, tail) = rest.split_at(len);
            rest = tail;
            Ok(section.to_vec())
        };
        let model = take(state.model_len)?;
        let optimizer = take(state.optimizer_len)?;
        let best_model = take(state.best_len)?;
        Ok(Self {
            state,
            model,
            optimizer,
            best_model,
        })
    }
}
