/// Errors of feature extraction: bad parameters or bad audio, always with the reason.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error(transparent)]
    Audio(#[from] ser_audio::AudioError),
    #[error("invalid feature parameter: {0}")]
    InvalidParameter(String),
}
