use std::path::PathBuf;

/// Errors of evaluation output, always naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: invalid training log record: {source}")]
    TrainingLog {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: cannot draw plot: {message}")]
    Plot { path: PathBuf, message: String },
    #[error("{0}")]
    InvalidInput(String),
}

impl EvalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.into(),
            source,
        }
    }
}
