use std::path::PathBuf;

/// Errors of corpus loading, splitting and feature caching, always naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no audio clips found (expected .wav or .flac files)")]
    NoClips { path: PathBuf },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: feature extraction failed: {source}")]
    Feature {
        path: PathBuf,
        source: ser_features::FeatureError,
    },
    #[error("none of the {count} clips could be used; the first: {first}")]
    NoReadableClips { count: usize, first: String },
    #[error("{path}: {reason}")]
    InvalidFile { path: PathBuf, reason: String },
    #[error("invalid split: {0}")]
    InvalidSplit(String),
    #[error("unknown corpus '{0}' (expected tess, ravdess, crema-d, savee, emodb or manifest)")]
    UnknownCorpus(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
