use std::path::PathBuf;

/// Errors of model building, training, bundles and inference, always with the reason.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a ser model bundle ({reason})")]
    NotABundle { path: PathBuf, reason: String },
    #[error(
        "model bundle format version {found} is not supported (this ser reads version {expected}); retrain the model or use a matching ser version"
    )]
    BundleVersion { found: u32, expected: u32 },
    #[error("corrupt model bundle: {0}")]
    CorruptBundle(String),
    #[error("checkpoint {path} does not match this run: {reason}")]
    CheckpointMismatch { path: PathBuf, reason: String },
    #[error("input has {found} features per frame, the model expects {expected}")]
    InputShape { found: usize, expected: usize },
    #[error(transparent)]
    Features(#[from] ser_features::FeatureError),
    #[error(transparent)]
    Data(#[from] ser_data::DataError),
    #[error("training data problem: {0}")]
    Training(String),
}
