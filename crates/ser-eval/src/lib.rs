//! Metrics, confusion matrices, plots and reports for ser.
//!
//! - [`ClassificationReport`]: accuracy, per-class precision/recall/F1/support, macro-F1,
//!   weighted-F1, UAR and the confusion matrix, as a text table or JSON.
//! - [`Calibration`]: expected calibration error, negative log-likelihood, Brier score and
//!   the reliability bins of predicted probabilities.
//! - [`plot_confusion_matrix`], [`plot_reliability_diagram`] and [`plot_training_curves`]:
//!   PNG and SVG pictures.
//! - [`write_predictions_csv`]: one row per clip, to listen to the errors.
//! - [`report`]: a Markdown report of a run (tables and pictures).
//!
//! Nothing here depends on the deep-learning framework.

mod calibration;
mod error;
mod log;
mod metrics;
mod plot;
mod predictions;
pub mod report;

pub use calibration::{
    CALIBRATION_BINS, Calibration, ReliabilityBin, brier_score, expected_calibration_error,
    negative_log_likelihood, reliability_bins,
};
pub use error::EvalError;
pub use log::{EpochRecord, read_training_log};
pub use metrics::{ClassMetrics, ClassificationReport, mean_std};
pub use plot::{plot_confusion_matrix, plot_reliability_diagram, plot_training_curves};
pub use predictions::{PredictionRow, write_predictions_csv};
