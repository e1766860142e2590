//! `ser.Model`: a trained model bundle, predicting into the `ser predict` JSON schema.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use ser_audio::Audio;
use ser_data::CorpusSource;
use ser_model::{Classifier, RunConfig, SplitSpec, TrainOptions};
use ser_predict::{EmotionModel, PredictOptions, PredictSettings, Prediction};

use crate::arrays::Array;
use crate::audio::{AudioInput, sample_rate};
use crate::{detach, errors};

/// Python objects from serde values through JSON text, so every field (present and future)
/// reaches Python exactly as `ser predict --format jsonl` prints it.
pub fn json_to_python<'py>(
    py: Python<'py>,
    value: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| PyValueError::new_err(format!("cannot serialise the result: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// The keyword arguments every prediction method takes, named as `ser predict`'s flags.
fn predict_options(
    segment: &str,
    min_segment: Option<f32>,
    max_segment: Option<f32>,
    min_silence: Option<f32>,
    min_speech: Option<f32>,
    uncertain_below: Option<f32>,
) -> PyResult<PredictOptions> {
    PredictSettings {
        segment_mode: segment.parse().map_err(PyValueError::new_err)?,
        min_segment_seconds: min_segment,
        max_segment_seconds: max_segment,
        min_silence_seconds: min_silence,
        min_speech_seconds: min_speech,
        uncertain_below,
        ..PredictSettings::default()
    }
    .options()
    .map_err(errors::audio)
}

/// `corpus` of `Model.train`: one `KIND[=PATH]` or a list of them, as `ser train --corpus`.
#[derive(FromPyObject)]
enum Corpora {
    One(String),
    Many(Vec<String>),
}

/// A trained emotion model. Predictions are dicts in the schema of `ser predict --format
/// jsonl`: file, duration_seconds, speech_seconds, no_speech, too_short, emotion, confidence,
/// uncertain, probabilities (label -> p, in label order), segments and error. Safe to share
/// between threads; work runs without the GIL.
#[pyclass(frozen, module = "ser")]
pub struct Model {
    classifier: Arc<Classifier>,
}

#[pymethods]
impl Model {
    /// The model built into ser (an MLP on utterance statistics, trained on TESS).
    #[staticmethod]
    fn default(py: Python<'_>) -> PyResult<Self> {
        let classifier = py
            .detach(|| Classifier::from_bundle_bytes(ser_predict::DEFAULT_MODEL_BUNDLE))
            .map_err(errors::model)?;
        Ok(Self {
            classifier: Arc::new(classifier),
        })
    }

    /// A model bundle (`.serb`) written by `ser train` or `Model.train`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let classifier = py
            .detach(|| Classifier::load(&path))
            .map_err(errors::model)?;
        Ok(Self {
            classifier: Arc::new(classifier),
        })
    }

    /// Trains a model from raw audio as `ser train` does (features cached, split, training,
    /// one bundle in `out`) and returns it. Arguments mirror `ser train`'s flags.
    #[staticmethod]
    #[pyo3(signature = (out, *, corpus = Corpora::One("tess".to_string()), config = None, architecture = None, split = "random".to_string(), validation = 0.1, epochs = None, batch_size = None, seed = None, resume = false, cache_dir = None, no_cache = false))]
    #[allow(clippy::too_many_arguments)]
    fn train(
        py: Python<'_>,
        out: PathBuf,
        corpus: Corpora,
        config: Option<PathBuf>,
        architecture: Option<String>,
        split: String,
        validation: f64,
        epochs: Option<usize>,
        batch_size: Option<usize>,
        seed: Option<u64>,
        resume: bool,
        cache_dir: Option<PathBuf>,
        no_cache: bool,
    ) -> PyResult<Self> {
        let invalid = |e: String| PyValueError::new_err(e);
        let corpora = match corpus {
            Corpora::One(source) => vec![source],
            Corpora::Many(sources) => sources,
        }
        .iter()
        .map(|source| source.parse::<CorpusSource>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.to_string()))?;
        let split: SplitSpec = split.parse().map_err(|e| invalid(format!("{e}")))?;
        let mut run = match &config {
            Some(path) => RunConfig::load(path).map_err(errors::model)?,
            None => RunConfig::default(),
        };
        if let Some(architecture) = architecture {
            run.model.architecture = architecture.parse().map_err(|e| invalid(format!("{e}")))?;
        }
        if let Some(epochs) = epochs {
            run.training.epochs = epochs;
        }
        if let Some(batch_size) = batch_size {
            run.training.batch_size = batch_size;
        }
        if let Some(seed) = seed {
            run.training.seed = seed;
        }
        let options = TrainOptions {
            corpora,
            run,
            split,
            validation_fraction: validation,
            out_dir: out.clone(),
            resume,
            cache_dir: if no_cache {
                None
            } else {
                Some(cache_dir.unwrap_or_else(ser_data::FeatureCache::default_dir))
            },
        };
        let outcome = py
            .detach(|| ser_model::train(&options, &ser_model::SilentProgress))
            .map_err(errors::model)?;
        let bundle = outcome.bundle_path.ok_or_else(|| {
            errors::ModelError::new_err(format!("training into {} wrote no model", out.display()))
        })?;
        Self::load(py, bundle)
    }

    /// Class names, in the order of every probability.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.classifier.labels().to_vec()
    }

    /// Architecture, feature configuration, labels and training facts, as `ser model info`.
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &self.classifier.info_json())
    }

    /// The feature configuration the model was trained with (for `ser.FeatureExtractor`); of
    /// an ensemble whose models read different features, the first model's.
    #[getter]
    fn feature_config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, self.classifier.feature_config())
    }

    /// Every feature configuration the model reads, each once.
    #[getter]
    fn feature_configs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &self.classifier.feature_configs())
    }

    /// Predicts mono samples `y` at `sr` Hz. Raises on failure.
    #[pyo3(signature = (y, sr, *, name = "<array>".to_string(), segment = "auto".to_string(), min_segment = None, max_segment = None, min_silence = None, min_speech = None, uncertain_below = None))]
    #[allow(clippy::too_many_arguments)]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        y: &Bound<'py, PyAny>,
        sr: f64,
        name: String,
        segment: String,
        min_segment: Option<f32>,
        max_segment: Option<f32>,
        min_silence: Option<f32>,
        min_speech: Option<f32>,
        uncertain_below: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = predict_options(
            &segment,
            min_segment,
            max_segment,
            min_silence,
            min_speech,
            uncertain_below,
        )?;
        let audio = Audio::new(Array::signal(y)?.samples, sample_rate(sr)?);
        let classifier = Arc::clone(&self.classifier);
        let prediction = detach(py, &name, || {
            ser_predict::predict_audio(classifier.as_ref(), &name, &audio, &options)
        })
        .map_err(errors::predict)?;
        json_to_python(py, &prediction)
    }

    /// Predicts one audio file (a path, bytes, or a binary file object). Raises on failure.
    #[pyo3(signature = (path, *, segment = "auto".to_string(), min_segment = None, max_segment = None, min_silence = None, min_speech = None, uncertain_below = None))]
    // One argument per Python keyword argument (those of `ser predict`).
    #[allow(clippy::too_many_arguments)]
    fn predict_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        segment: String,
        min_segment: Option<f32>,
        max_segment: Option<f32>,
        min_silence: Option<f32>,
        min_speech: Option<f32>,
        uncertain_below: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = predict_options(
            &segment,
            min_segment,
            max_segment,
            min_silence,
            min_speech,
            uncertain_below,
        )?;
        let input = AudioInput::from_py(path)?;
        let classifier = Arc::clone(&self.classifier);
        let prediction = detach(py, &input.name(), || match input {
            AudioInput::Path(path) => {
                let decoded = ser_audio::decode_file(&path)?;
                let name = path.display().to_string();
                ser_predict::predict_audio(classifier.as_ref(), &name, &decoded.audio, &options)
            }
            AudioInput::Bytes(bytes, name) => {
                ser_predict::predict_bytes(classifier.as_ref(), &name, bytes, &options)
            }
        })
        .map_err(errors::predict)?;
        json_to_python(py, &prediction)
    }

    /// Predicts files, folders (searched recursively) and glob patterns exactly as
    /// `ser predict --format jsonl` does, in parallel: one dict per recording, in input order;
    /// a broken file is a dict with its `error`, never an exception.
    #[pyo3(signature = (paths, *, segment = "auto".to_string(), min_segment = None, max_segment = None, min_silence = None, min_speech = None, uncertain_below = None, speakers = "recording".to_string()))]
    // One argument per Python keyword argument (those of `ser predict`).
    #[allow(clippy::too_many_arguments)]
    fn predict_files<'py>(
        &self,
        py: Python<'py>,
        paths: Vec<PathBuf>,
        segment: String,
        min_segment: Option<f32>,
        max_segment: Option<f32>,
        min_silence: Option<f32>,
        min_speech: Option<f32>,
        uncertain_below: Option<f32>,
        speakers: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut options = predict_options(
            &segment,
            min_segment,
            max_segment,
            min_silence,
            min_speech,
            uncertain_below,
        )?;
        options.speakers = speakers.parse().map_err(PyValueError::new_err)?;
        let classifier = Arc::clone(&self.classifier);
        let predictions = py.detach(|| {
            let inputs = ser_predict::expand_inputs(&paths);
            let mut predictions: Vec<Prediction> = Vec::with_capacity(inputs.len());
            ser_predict::predict_inputs(classifier.as_ref(), &inputs, &options, |p| {
                predictions.push(p.clone());
                Ok(())
            })
            .map(|_| predictions)
        });
        let predictions = predictions
            .map_err(|e| errors::ModelError::new_err(format!("prediction stopped: {e}")))?;
        json_to_python(py, &predictions)
    }

    /// Predicts in-memory audio files given as `(name, bytes)` pairs, in parallel: one dict
    /// per recording, in order; a broken one is a dict with its `error`. This is what the Ray
    /// job runs on each batch.
    #[pyo3(signature = (recordings, *, segment = "auto".to_string(), min_segment = None, max_segment = None, min_silence = None, min_speech = None, uncertain_below = None))]
    // One argument per Python keyword argument (those of `ser predict`).
    #[allow(clippy::too_many_arguments)]
    fn predict_recordings<'py>(
        &self,
        py: Python<'py>,
        recordings: Vec<(String, Vec<u8>)>,
        segment: String,
        min_segment: Option<f32>,
        max_segment: Option<f32>,
        min_silence: Option<f32>,
        min_speech: Option<f32>,
        uncertain_below: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = predict_options(
            &segment,
            min_segment,
            max_segment,
            min_silence,
            min_speech,
            uncertain_below,
        )?;
        let classifier = Arc::clone(&self.classifier);
        let predictions = py
            .detach(|| ser_predict::predict_recordings(classifier.as_ref(), &recordings, &options));
        json_to_python(py, &predictions)
    }

    fn __repr__(&self) -> String {
        format!("ser.Model(labels={:?})", self.classifier.labels())
    }
}

/// Expands files, folders, globs as `ser predict` does: `(path, None)` per recording found,
/// `(argument, reason)` for an argument that names none.
#[pyfunction]
pub fn expand_inputs(arguments: Vec<PathBuf>) -> Vec<(String, Option<String>)> {
    ser_predict::expand_inputs(&arguments)
        .into_iter()
        .map(|input| match input {
            Ok(input) => (input.name(), None),
            Err(error) => (error.argument, Some(error.reason)),
        })
        .collect()
}

/// A prediction with every field set, probabilities over `labels`: the shape column types
/// are derived from.
#[pyfunction]
pub fn example_record(py: Python<'_>, labels: Vec<String>) -> PyResult<Bound<'_, PyAny>> {
    json_to_python(py, &Prediction::example(&labels))
}

/// The record `ser predict` writes for a recording that failed with `error`.
#[pyfunction]
pub fn failed_record<'py>(
    py: Python<'py>,
    file: String,
    error: String,
) -> PyResult<Bound<'py, PyAny>> {
    json_to_python(py, &Prediction::failed(file, error))
}
