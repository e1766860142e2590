//! `ser.load`, like `librosa.load`.

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};
use ser_audio::{LoadOptions, Source};

use crate::arrays::{is_float64, to_numpy};
use crate::{detach, errors};

/// Where audio comes from in Python: a path, or the bytes of a file.
pub enum AudioInput {
    Path(PathBuf),
    Bytes(Vec<u8>, String),
}

impl AudioInput {
    /// A path (`str` or `os.PathLike`), `bytes`-like data, or a binary file object (read
    /// whole; its `name`, if any, labels errors).
    pub fn from_py(object: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(bytes) = object.cast::<PyBytes>() {
            return Ok(Self::Bytes(bytes.as_bytes().to_vec(), "<bytes>".into()));
        }
        if object.is_instance_of::<PyByteArray>() || object.is_instance_of::<PyMemoryView>() {
            let bytes: Vec<u8> = object
                .py()
                .import("builtins")?
                .getattr("bytes")?
                .call1((object,))?
                .extract()?;
            return Ok(Self::Bytes(bytes, "<bytes>".into()));
        }
        if let Ok(path) = object.extract::<PathBuf>() {
            return Ok(Self::Path(path));
        }
        if object.hasattr("read")? {
            let data = object.call_method0("read")?;
            let bytes: Vec<u8> = data.extract().map_err(|_| {
                PyTypeError::new_err("the file object must be opened in binary mode ('rb')")
            })?;
            let name = object
                .getattr("name")
                .and_then(|name| name.str().map(|s| s.to_string()))
                .unwrap_or_else(|_| "<file>".into());
            return Ok(Self::Bytes(bytes, name));
        }
        Err(PyTypeError::new_err(format!(
            "expected a path, bytes or a binary file object, got {}",
            object.get_type().name()?
        )))
    }

    /// The name errors give this input: the path, or the file object's name.
    pub fn name(&self) -> String {
        match self {
            Self::Path(path) => path.display().to_string(),
            Self::Bytes(_, name) => name.clone(),
        }
    }

    pub fn source(&self) -> Source<'_> {
        match self {
            Self::Path(path) => Source::File(path),
            Self::Bytes(bytes, name) => Source::Bytes(bytes, name),
        }
    }
}

/// A sample rate argument: a positive whole number of Hz (`float` accepted, as librosa's
/// `sr` is typed `float`).
pub fn sample_rate(sr: f64) -> PyResult<u32> {
    if sr.is_finite() && sr >= 1.0 && sr.fract() == 0.0 && sr <= f64::from(u32::MAX) {
        Ok(sr as u32)
    } else {
        Err(PyValueError::new_err(format!(
            "sr must be a positive whole number of Hz, got {sr}"
        )))
    }
}

/// Load an audio file as floating-point samples, like `librosa.load`.
#[pyfunction]
#[pyo3(signature = (path, *, sr = Some(22050.0), mono = true, offset = 0.0, duration = None, dtype = None, res_type = "soxr_hq"))]
#[allow(clippy::too_many_arguments)]
pub fn load<'py>(
    py: Python<'py>,
    path: &Bound<'py, PyAny>,
    sr: Option<f64>,
    mono: bool,
    offset: f64,
    duration: Option<f64>,
    dtype: Option<&Bound<'py, PyAny>>,
    res_type: &str,
) -> PyResult<(Bound<'py, PyAny>, u32)> {
    // One resampler serves every res_type: a long windowed sinc close to soxr_hq.
    let _ = res_type;
    let wide = dtype.map(is_float64).transpose()?.unwrap_or(false);
    let options = LoadOptions {
        sample_rate: sr.map(sample_rate).transpose()?,
        mono,
        offset_seconds: offset,
        duration_seconds: duration,
    };
    let input = AudioInput::from_py(path)?;
    let loaded = detach(py, &input.name(), || {
        ser_audio::load_channels(input.source(), &options)
    })
    .map_err(errors::audio)?;
    let frames = loaded.channels.first().map_or(0, Vec::len);
    let count = loaded.channels.len();
    let values: Vec<f64> = loaded
        .channels
        .into_iter()
        .flatten()
        .map(f64::from)
        .collect();
    let shape: Vec<usize> = if count == 1 {
        vec![frames]
    } else {
        vec![count, frames]
    };
    Ok((to_numpy(py, values, &shape, wide)?, loaded.sample_rate))
}
