//! The crates' errors as Python exceptions, with the crates' messages.

use std::io::ErrorKind;

use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError, PyValueError,
};
use pyo3::{PyErr, create_exception};
use ser_audio::AudioError as CrateAudioError;
use ser_features::FeatureError;
use ser_model::ModelError as CrateModelError;
use ser_predict::PredictError;

create_exception!(
    ser,
    AudioError,
    pyo3::exceptions::PyValueError,
    "Audio that cannot be decoded or used: empty, truncated, unsupported, NaN samples, \
     unusable sample rate. The message names the file and the reason."
);
create_exception!(
    ser,
    ModelError,
    pyo3::exceptions::PyValueError,
    "A model bundle that cannot be loaded or a model that fails to predict or train."
);

/// An I/O failure as the matching `OSError` subclass.
fn io_error(kind: ErrorKind, message: String) -> PyErr {
    match kind {
        ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

pub fn audio(error: CrateAudioError) -> PyErr {
    let message = error.to_string();
    match error {
        CrateAudioError::Io { source, .. } => io_error(source.kind(), message),
        CrateAudioError::IsDirectory { .. } => PyIsADirectoryError::new_err(message),
        CrateAudioError::InvalidParameter(_) => PyValueError::new_err(message),
        _ => AudioError::new_err(message),
    }
}

pub fn feature(error: FeatureError) -> PyErr {
    match error {
        FeatureError::Audio(error) => audio(error),
        FeatureError::InvalidParameter(_) => PyValueError::new_err(error.to_string()),
        // Keeps the file name in the message, and the kind of the cause.
        FeatureError::File { ref source, .. } => {
            let message = error.to_string();
            match source.as_ref() {
                FeatureError::Audio(CrateAudioError::Io { source, .. }) => {
                    io_error(source.kind(), message)
                }
                FeatureError::Audio(_) => AudioError::new_err(message),
                _ => PyValueError::new_err(message),
            }
        }
    }
}

pub fn model(error: CrateModelError) -> PyErr {
    let message = error.to_string();
    match error {
        CrateModelError::Io { source, .. } => io_error(source.kind(), message),
        CrateModelError::Features(error) => feature(error),
        CrateModelError::Config(_) => PyValueError::new_err(message),
        _ => ModelError::new_err(message),
    }
}

pub fn predict(error: PredictError) -> PyErr {
    match error {
        PredictError::Audio(error) => audio(error),
        other => ModelError::new_err(other.to_string()),
    }
}

/// A parameter value ser does not implement (librosa accepts it).
pub fn unsupported(function: &str, parameter: &str, supported: &str) -> PyErr {
    pyo3::exceptions::PyNotImplementedError::new_err(format!(
        "{function}: ser supports {parameter}={supported} only"
    ))
}
