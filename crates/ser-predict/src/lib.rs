//! Prediction for ser: from command-line inputs (files, folders, globs, stdin) or raw bytes to
//! one [`Prediction`] per recording, with speech segments for long recordings, written as a
//! table, JSON lines or CSV.
//!
//! The model is anything implementing [`EmotionModel`]; `ser_model::Classifier` does. Nothing
//! here knows about HTTP: `ser-serve` and the `ser predict` command both build on this crate.

mod batch;
mod error;
mod input;
mod model;
mod output;
mod predict;
mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use batch::{BatchSummary, predict_bytes, predict_inputs, predict_recordings};
pub use error::PredictError;
pub use input::{AUDIO_EXTENSIONS, Input, InputError, expand_inputs};
pub use model::{DEFAULT_MODEL_BUNDLE, EmotionModel, MODEL_ENV, ModelFailure, load_model};
pub use output::{OutputFormat, PredictionWriter};
pub use predict::{
    DEFAULT_UNCERTAIN_BELOW, PredictOptions, PredictSettings, SegmentMode, SpeakerGrouping,
    predict_audio, predict_audio_in_voice, voice_profile,
};
pub use schema::{Prediction, Probabilities, SegmentPrediction};
