use ser_audio::AudioError;

use crate::ModelFailure;

/// Why one recording could not be predicted. Messages name the recording.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{file}: cannot read standard input: {source}")]
    Stdin {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: model failed: {source}")]
    Model {
        file: String,
        #[source]
        source: ModelFailure,
    },
    #[error("{file}: model returned {got} probabilities for {expected} labels")]
    ModelOutput {
        file: String,
        expected: usize,
        got: usize,
    },
}
