use std::path::PathBuf;

/// Every way reading or processing audio can fail. Variants carry the file name (or the
/// name given to an in-memory buffer) and the reason, so a user can act on the message.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: is a directory, not an audio file")]
    IsDirectory { path: PathBuf },
    #[error("{path}: file is empty (0 bytes)")]
    EmptyFile { path: PathBuf },
    #[error("{path}: decoded to zero samples")]
    NoSamples { path: PathBuf },
    #[error("{path}: unsupported audio: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error("{path}: malformed audio: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path}: invalid samples: {reason}")]
    InvalidSamples { path: PathBuf, reason: String },
    #[error("{path}: unusable sample rate {sample_rate} Hz")]
    InvalidSampleRate { path: PathBuf, sample_rate: u32 },
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("resampling failed: {0}")]
    Resample(String),
    /// A panic inside a decoder or DSP library, caught by [`crate::isolate`].
    #[error(
        "{path}: internal error while processing the audio (a bug in ser or a library it \
         uses; please report it with this file): {message}"
    )]
    Internal { path: PathBuf, message: String },
}
