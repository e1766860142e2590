//! Classification metrics with scikit-learn's conventions.
//!
//! - A class never predicted has precision 0, a class never present has recall 0, and F1 is
//!   0 when precision and recall are both 0 (sklearn's `zero_division=0`).
//! - Macro-F1 averages over the classes that occur in the truth *or* the predictions
//!   (sklearn's default label set), so predicting an absent class still costs; classes
//!   that never occur at all are left out instead of counting as 0.
//! - UAR (unweighted average recall, sklearn's `balanced_accuracy_score`) averages recall
//!   over the classes present in the truth: recall is undefined without support.
//! - Weighted-F1 weights each class' F1 by its support.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Calibration, EvalError, ReliabilityBin};

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of clips whose true label is this class.
    pub support: u64,
}

/// Every metric of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    pub labels: Vec<String>,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub weighted_f1: f64,
    pub uar: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[truth][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
}

impl ClassificationReport {
    /// Metrics of `predicted` against `truth`, both label indices into `labels`.
    ///
    /// # Panics
    /// If the two slices differ in length or an index is not below `labels.len()`: both are
    /// programming errors of the caller, not properties of the data.
    pub fn from_predictions(labels: &[String], truth: &[usize], predicted: &[usize]) -> Self {
        assert_eq!(
            truth.len(),
            predicted.len(),
            "truth and predictions differ in length"
        );
        let n_classes = labels.len();
        let mut confusion = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            assert!(
                t < n_classes && p < n_classes,
                "label index out of range: truth {t}, predicted {p}, {n_classes} labels"
            );
            confusion[t][p] += 1;
        }
        Self::from_confusion(labels, confusion)
    }

    fn from_confusion(labels: &[String], confusion: Vec<Vec<u64>>) -> Self {
        let n_classes = labels.len();
        let support: Vec<u64> = confusion.iter().map(|row| row.iter().sum()).collect();
        let predicted_count: Vec<u64> = (0..n_classes)
            .map(|p| confusion.iter().map(|row| row[p]).sum())
            .collect();
        let total: u64 = support.iter().sum();
        let correct: u64 = (0..n_classes).map(|c| confusion[c][c]).sum();
        let per_class: Vec<ClassMetrics> = (0..n_classes)
            .map(|c| {
                let true_positives = confusion[c][c];
                let precision = ratio(true_positives, predicted_count[c]);
                let recall = ratio(true_positives, support[c]);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    label: labels[c].clone(),
                    precision,
                    recall,
                    f1,
                    support: support[c],
                }
            })
            .collect();
        let occurring = (0..n_classes).filter(|&c| support[c] > 0 || predicted_count[c] > 0);
        let macro_f1 = mean(occurring.map(|c| per_class[c].f1));
        let uar = mean(per_class.iter().filter(|m| m.support > 0).map(|m| m.recall));
        let weighted_f1 = if total > 0 {
            per_class
                .iter()
                .map(|m| m.f1 * m.support as f64)
                .sum::<f64>()
                / total as f64
        } else {
            0.0
        };
        ClassificationReport {
            labels: labels.to_vec(),
            accuracy: ratio(correct, total),
            macro_f1,
            weighted_f1,
            uar,
            per_class,
            confusion,
        }
    }

    /// Number of evaluated clips.
    pub fn total(&self) -> u64 {
        self.per_class.iter().map(|m| m.support).sum()
    }

    /// The confusion matrix with every row divided by its support (rows without support
    /// stay 0): entry `[t][p]` is the share of class `t` predicted as `p`.
    pub fn normalized_confusion(&self) -> Vec<Vec<f64>> {
        self.confusion
            .iter()
            .map(|row| {
                let support: u64 = row.iter().sum();
                row.iter().map(|&count| ratio(count, support)).collect()
            })
            .collect()
    }

    /// Per-class metrics, the averages and the confusion matrix as aligned plain text.
    pub fn to_table(&self) -> String {
        let width = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .chain(["weighted-F1".len()])
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  precision  recall     f1  support",
            "class"
        );
        for m in &self.per_class {
            let _ = writeln!(
                out,
                "{:<width$}  {:>9.3}  {:>6.3}  {:>5.3}  {:>7}",
                m.label, m.precision, m.recall, m.f1, m.support
            );
        }
        out.push('\n');
        for (name, value) in [
            ("accuracy", self.accuracy),
            ("macro-F1", self.macro_f1),
            ("weighted-F1", self.weighted_f1),
            ("UAR", self.uar),
        ] {
            let _ = writeln!(out, "{name:<width$}  {value:>9.3}");
        }
        let _ = writeln!(
            out,
            "\nconfusion matrix (rows: true class, columns: predicted, in label order)"
        );
        let cell = self
            .confusion
            .iter()
            .flatten()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(3);
        for (label, row) in self.labels.iter().zip(&self.confusion) {
            let _ = write!(out, "{label:<width$} ");
            for count in row {
                let _ = write!(out, " {count:>cell$}");
            }
            out.push('\n');
        }
        out
    }

    /// Writes the report as pretty JSON, with the row-normalised confusion matrix added as
    /// `confusion_normalized`.
    pub fn save_json(&self, path: &Path) -> Result<(), EvalError> {
        self.save_json_with_calibration(path, None)
    }

    /// As [`ClassificationReport::save_json`], plus `ece`, `nll`, `brier` and
    /// `reliability_bins` when `calibration` is given.
    pub fn save_json_with_calibration(
        &self,
        path: &Path,
        calibration: Option<&Calibration>,
    ) -> Result<(), EvalError> {
        #[derive(Serialize)]
        struct MetricsFile<'a> {
            #[serde(flatten)]
            report: &'a ClassificationReport,
            confusion_normalized: Vec<Vec<f64>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            ece: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            nll: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            brier: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            reliability_bins: Option<&'a [ReliabilityBin]>,
        }
        let json = serde_json::to_string_pretty(&MetricsFile {
            report: self,
            confusion_normalized: self.normalized_confusion(),
            ece: calibration.map(|c| c.ece),
            nll: calibration.map(|c| c.nll),
            brier: calibration.map(|c| c.brier),
            reliability_bins: calibration.map(|c| c.bins.as_slice()),
        })
        .map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        std::fs::write(path, json).map_err(|e| EvalError::io(path, e))
    }

    /// Reads a report written by [`ClassificationReport::save_json`].
    pub fn load_json(path: &Path) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        serde_json::from_str(&text).map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Mean and sample standard deviation (n - 1 in the denominator, as for a handful of runs
/// or folds). One value has standard deviation 0; no values give (NaN, NaN).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    match values.len() {
        0 => (f64::NAN, f64::NAN),
        1 => (values[0], 0.0),
        n => {
            let mean = values.iter().sum::<f64>() / n as f64;
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (mean, (squares / (n - 1) as f64).sqrt())
        }
    }
}

/// `numerator / denominator`, or 0 when the denominator is 0.
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Mean of the values, or 0 when there are none.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Four classes: `c` is present but never predicted, `d` is predicted but never present.
    ///
    /// truth     a a a b b c c
    /// predicted a a b b d a b
    /// confusion (rows truth a b c d): a: [2 1 0 0], b: [0 1 0 1], c: [1 1 0 0], d: 0
    #[test]
    fn hand_computed_example_with_absent_and_unpredicted_classes() {
        let report = ClassificationReport::from_predictions(
            &labels(&["a", "b", "c", "d"]),
            &[0, 0, 0, 1, 1, 2, 2],
            &[0, 0, 1, 1, 3, 0, 1],
        );
        assert_eq!(
            report.confusion,
            [[2, 1, 0, 0], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 0, 0]]
        );
        let [a, b, c, d] = &report.per_class[..] else {
            panic!()
        };
        // a: tp 2, predicted 3, support 3.
        assert!(close(a.precision, 2.0 / 3.0) && close(a.recall, 2.0 / 3.0));
        assert!(close(a.f1, 2.0 / 3.0));
        // b: tp 1, predicted 3, support 2 -> p 1/3, r 1/2, f1 = 2/5.
        assert!(close(b.precision, 1.0 / 3.0) && close(b.recall, 0.5));
        assert!(close(b.f1, 0.4));
        // c: never predicted -> precision 0 (zero_division=0), recall 0, f1 0.
        assert_eq!((c.precision, c.recall, c.f1, c.support), (0.0, 0.0, 0.0, 2));
        // d: predicted once, never present.
        assert_eq!((d.precision, d.recall, d.f1, d.support), (0.0, 0.0, 0.0, 0));
        assert!(close(report.accuracy, 3.0 / 7.0));
        // Macro over a, b, c, d (d was predicted): (2/3 + 2/5 + 0 + 0) / 4.
        assert!(close(report.macro_f1, (2.0 / 3.0 + 0.4) / 4.0));
        // UAR over the present classes a, b, c: (2/3 + 1/2 + 0) / 3.
        assert!(close(report.uar, (2.0 / 3.0 + 0.5) / 3.0));
        // Weighted by support 3, 2, 2, 0.
        assert!(close(
            report.weighted_f1,
            (3.0 * 2.0 / 3.0 + 2.0 * 0.4) / 7.0
        ));
        assert_eq!(report.total(), 7);
    }

    #[test]
    fn classes_that_never_occur_are_left_out_of_the_averages() {
        let report = ClassificationReport::from_predictions(
            &labels(&["a", "b", "unused"]),
            &[0, 0, 1, 1],
            &[0, 1, 1, 1],
        );
        // a: p 1, r 1/2, f1 2/3; b: p 2/3, r 1, f1 4/5.
        assert!(close(report.macro_f1, (2.0 / 3.0 + 0.8) / 2.0));
        assert!(close(report.uar, 0.75));
        assert_eq!(report.per_class[2].f1, 0.0);
    }

    #[test]
    fn perfect_and_empty_predictions() {
        let names = labels(&["x", "y"]);
        let perfect = ClassificationReport::from_predictions(&names, &[0, 1, 1], &[0, 1, 1]);
        assert_eq!(
            (
                perfect.accuracy,
                perfect.macro_f1,
                perfect.weighted_f1,
                perfect.uar
            ),
            (1.0, 1.0, 1.0, 1.0)
        );
        let empty = ClassificationReport::from_predictions(&names, &[], &[]);
        assert_eq!((empty.accuracy, empty.macro_f1, empty.uar), (0.0, 0.0, 0.0));
        assert_eq!(empty.normalized_confusion(), [[0.0, 0.0], [0.0, 0.0]]);
    }

    #[test]
    fn normalized_confusion_rows_sum_to_one_or_zero() {
        let report = ClassificationReport::from_predictions(
            &labels(&["a", "b", "c"]),
            &[0, 0, 0, 0, 1],
            &[0, 0, 0, 2, 1],
        );
        assert_eq!(
            report.normalized_confusion(),
            [[0.75, 0.0, 0.25], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
        );
    }

    #[test]
    fn table_lists_every_class_and_average() {
        let report = ClassificationReport::from_predictions(
            &labels(&["angry", "pleasant_surprise"]),
            &[0, 1, 1],
            &[0, 1, 0],
        );
        let table = report.to_table();
        assert!(
            table.contains("pleasant_surprise      1.000   0.500  0.667        2"),
            "{table}"
        );
        assert!(table.contains("accuracy               0.667"), "{table}");
        assert!(table.contains("UAR                    0.750"), "{table}");
        assert!(table.contains("angry                1   0"), "{table}");
    }

    #[test]
    fn json_round_trips_and_carries_the_normalized_matrix() {
        let report =
            ClassificationReport::from_predictions(&labels(&["a", "b"]), &[0, 1, 1], &[0, 0, 1]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        report.save_json(&path).unwrap();
        assert_eq!(ClassificationReport::load_json(&path).unwrap(), report);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["confusion_normalized"][1][0], 0.5);
    }

    #[test]
    fn mean_std_uses_the_sample_deviation() {
        let (mean, std) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert!(close(mean, 5.0));
        assert!(close(std, (32.0f64 / 7.0).sqrt()));
        assert_eq!(mean_std(&[0.5]), (0.5, 0.0));
        let (mean, std) = mean_std(&[]);
        assert!(mean.is_nan() && std.is_nan());
    }
}
