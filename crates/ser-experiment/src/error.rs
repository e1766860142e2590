use std::path::PathBuf;

/// Errors of evaluations and experiments, naming the file or setting involved.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{path}: invalid experiment configuration: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the clip's emotion {label:?} is not among the model's labels ({labels})")]
    UnknownLabel {
        path: PathBuf,
        label: String,
        labels: String,
    },
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Data(#[from] ser_data::DataError),
    #[error(transparent)]
    Model(#[from] ser_model::ModelError),
    #[error(transparent)]
    Eval(#[from] ser_eval::EvalError),
}

impl ExperimentError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ExperimentError::Io {
            path: path.into(),
            source,
        }
    }
}
