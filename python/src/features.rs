//! `ser.FeatureExtractor`: a whole `FeatureConfig` extraction (as `ser features` and model
//! bundles describe it), optionally pooled into one vector per recording.

use std::path::Path;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::prelude::*;
use ser_audio::Audio;
use ser_features::{FeatureConfig, FeatureMatrix, Statistic};

use crate::arrays::{Array, to_numpy};
use crate::audio::{AudioInput, sample_rate};
use crate::model::json_to_python;
use crate::{detach, errors};

/// Extracts the frame features of a `FeatureConfig` (the JSON of `ser features --config`, or
/// a model's `feature_config`): a float32 array of shape (n_features, n_frames), or with
/// `pool` (e.g. `["mean", "std", "p50"]`) one vector of n_features x len(pool) values.
#[pyclass(frozen, module = "ser")]
pub struct FeatureExtractor {
    config: FeatureConfig,
    pool: Vec<Statistic>,
}

impl FeatureExtractor {
    fn output<'py>(&self, py: Python<'py>, matrix: FeatureMatrix) -> PyResult<Bound<'py, PyAny>> {
        let (values, shape) = if self.pool.is_empty() {
            let shape = vec![matrix.n_features, matrix.n_frames];
            (matrix.data, shape)
        } else {
            let pooled = ser_features::pool_statistics(&matrix, &self.pool);
            let shape = vec![pooled.len()];
            (pooled, shape)
        };
        to_numpy(
            py,
            values.into_iter().map(f64::from).collect(),
            &shape,
            false,
        )
    }
}

#[pymethods]
impl FeatureExtractor {
    #[new]
    #[pyo3(signature = (config = None, *, pool = None))]
    fn new(config: Option<&Bound<'_, PyAny>>, pool: Option<Vec<String>>) -> PyResult<Self> {
        let config = match config {
            None => FeatureConfig::default(),
            Some(config) => {
                let text: String = match config.extract::<String>() {
                    Ok(text) => text,
                    Err(_) => config
                        .py()
                        .import("json")?
                        .call_method1("dumps", (config,))?
                        .extract()?,
                };
                serde_json::from_str(&text).map_err(|e| {
                    PyValueError::new_err(format!("invalid feature configuration: {e}"))
                })?
            }
        };
        let pool = pool
            .unwrap_or_default()
            .iter()
            .map(|label| label.parse::<Statistic>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyValueError::new_err(format!("pool: {e}")))?;
        Ok(Self { config, pool })
    }

    /// Row names ("mfcc_0", ...) or, when pooled, column names ("mfcc_0_mean", ...).
    #[getter]
    fn names(&self) -> Vec<String> {
        let names = self.config.feature_names();
        if self.pool.is_empty() {
            names
        } else {
            ser_features::pooled_names(&names, &self.pool)
        }
    }

    /// The whole configuration as a dict.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &self.config)
    }

    /// Features of mono samples `y` at `sr` Hz (preprocessed as the configuration says).
    fn extract<'py>(
        &self,
        py: Python<'py>,
        y: &Bound<'py, PyAny>,
        sr: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let audio = Audio::new(Array::signal(y)?.samples, sample_rate(sr)?);
        let matrix =
            detach(py, "<array>", || self.config.extract(&audio)).map_err(errors::feature)?;
        self.output(py, matrix)
    }

    /// Features of an audio file: a path, bytes, or a binary file object.
    fn extract_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = AudioInput::from_py(path)?;
        let matrix = detach(py, &input.name(), || match input {
            AudioInput::Path(path) => self.config.extract_file(&path),
            AudioInput::Bytes(bytes, name) => self.config.extract_bytes(bytes, &name),
        })
        .map_err(errors::feature)?;
        self.output(py, matrix)
    }

    /// Features of in-memory audio files given as `(name, bytes)` pairs, in parallel: per
    /// recording `(features, None)`, or `(None, error)` when it cannot be decoded.
    #[allow(clippy::type_complexity)]
    fn extract_recordings<'py>(
        &self,
        py: Python<'py>,
        recordings: Vec<(String, Vec<u8>)>,
    ) -> PyResult<Vec<(Option<Bound<'py, PyAny>>, Option<String>)>> {
        let results: Vec<Result<FeatureMatrix, String>> = py.detach(|| {
            recordings
                .into_par_iter()
                .map(|(name, bytes)| {
                    ser_audio::isolate(Path::new(&name), || self.config.extract_bytes(bytes, &name))
                        .map_err(|e| e.to_string())
                })
                .collect()
        });
        results
            .into_iter()
            .map(|result| match result {
                Ok(matrix) => Ok((Some(self.output(py, matrix)?), None)),
                Err(error) => Ok((None, Some(error))),
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!("ser.FeatureExtractor({:?})", self.config.describe())
    }
}
