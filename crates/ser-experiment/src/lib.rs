//! Evaluation of trained models and end-to-end experiment protocols for ser.
//!
//! - [`evaluate_clips`]: a model's metrics and per-clip predictions on labelled clips
//!   (`ser eval`).
//! - [`ExperimentConfig`] (TOML) and [`run_experiment`]: random splits over seeds,
//!   speaker-independent, k-fold and cross-corpus protocols; every run is trained with
//!   `ser-model`, evaluated on its test part and written out (split, training log, model,
//!   metrics JSON, predictions CSV, confusion matrix and training curves as PNG/SVG), then
//!   aggregated into a Markdown report with mean ± std over runs (`ser experiment`).

mod config;
mod ensemble;
mod error;
mod evaluate;
mod runner;

pub use config::{ExperimentConfig, ModelRecipe, Protocol};
pub use ensemble::{ENSEMBLE_DIR, EnsembleRun, EnsembleSummary, geometric_mean_predictions};
pub use error::ExperimentError;
pub use evaluate::{Evaluation, TestSpeakers, evaluate_clips};
pub use runner::{
    ExperimentOptions, ExperimentSummary, MeanStd, ModelSummary, REPORT_FILE, RUN_CONFIG_FILE,
    RunResult, SUMMARY_FILE, run_experiment,
};
