/// Errors of feature extraction: bad parameters or bad audio, always with the reason.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error(transparent)]
    Audio(#[from] ser_audio::AudioError),
    #[error("invalid feature parameter: {0}")]
    InvalidParameter(String),
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        #[source]
        source: Box<FeatureError>,
    },
}

/// `value > 0` that is false for NaN, for parameter checks.
pub(crate) fn is_positive(value: f64) -> bool {
    value > 0.0
}

impl FeatureError {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        FeatureError::InvalidParameter(reason.into())
    }
}
