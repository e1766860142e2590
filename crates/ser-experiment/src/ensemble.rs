//! The ensemble of an experiment's architectures, scored clip by clip from their runs'
//! test predictions (`ensemble = true` in the experiment file).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ser_eval::report::EvaluationRun;
use ser_eval::{ClassificationReport, PredictionRow};
use serde::Serialize;

use crate::ExperimentError;
use crate::runner::{MeanStd, RunResult, pool_runs};

/// Folder of the ensemble's runs and pooled figures inside the experiment's output folder.
pub const ENSEMBLE_DIR: &str = "ensemble";

/// The ensemble on one split of the protocol.
#[derive(Debug, Clone, Serialize)]
pub struct EnsembleRun {
    /// The split's name, as the members' runs (e.g. `fold 2: ...`).
    pub name: String,
    /// The run's folder, relative to the experiment's output folder.
    pub dir: PathBuf,
    pub report: ClassificationReport,
    /// Expected calibration error of the test predictions.
    pub ece: f64,
    /// The members' training time together.
    pub train_seconds: f64,
    #[serde(skip)]
    pub predictions: Vec<PredictionRow>,
}

/// The ensemble's runs, aggregated as an architecture's are.
#[derive(Debug, Clone, Serialize)]
pub struct EnsembleSummary {
    /// The models' names in the experiment.
    pub members: Vec<String>,
    pub runs: Vec<EnsembleRun>,
    pub accuracy: MeanStd,
    pub macro_f1: MeanStd,
    pub uar: MeanStd,
    pub train_seconds: MeanStd,
    pub ece: MeanStd,
    pub pooled: ClassificationReport,
    pub pooled_calibration: ser_eval::Calibration,
}

impl EnsembleSummary {
    /// e.g. `ensemble (mlp + cnn1d)`.
    pub fn title(&self) -> String {
        title_of(&self.members)
    }
}

fn title_of(members: &[String]) -> String {
    format!("ensemble ({})", members.join(" + "))
}

/// Each clip's probabilities as the normalised geometric mean of the members' (the softmax of
/// their average log-probabilities, as an ensemble of networks averages logits). Every member
/// must have judged the same clips; the first member's order is kept.
pub fn geometric_mean_predictions(
    labels: &[String],
    members: &[&[PredictionRow]],
) -> Result<Vec<PredictionRow>, ExperimentError> {
    let (first, others) = members
        .split_first()
        .ok_or_else(|| ExperimentError::InvalidInput("an ensemble needs members".into()))?;
    let by_path: Vec<HashMap<&Path, &PredictionRow>> = others
        .iter()
        .map(|rows| rows.iter().map(|row| (row.path.as_path(), row)).collect())
        .collect();
    first
        .iter()
        .map(|row| {
            let mut rows = vec![row];
            for (member, rows_by_path) in by_path.iter().enumerate() {
                let other = rows_by_path.get(row.path.as_path()).ok_or_else(|| {
                    ExperimentError::InvalidInput(format!(
                        "{}: judged by the first architecture but not by member {}",
                        row.path.display(),
                        member + 2
                    ))
                })?;
                rows.push(other);
            }
            combine(labels, &rows)
        })
        .collect()
}

fn combine(labels: &[String], rows: &[&PredictionRow]) -> Result<PredictionRow, ExperimentError> {
    let first = rows[0];
    if let Some(row) = rows
        .iter()
        .find(|row| row.probabilities.len() != labels.len() || row.truth != first.truth)
    {
        return Err(ExperimentError::InvalidInput(format!(
            "{}: the ensemble's members disagree on its labels or its truth",
            row.path.display()
        )));
    }
    let members: Vec<&[f32]> = rows
        .iter()
        .map(|row| row.probabilities.as_slice())
        .collect();
    let probabilities = ser_model::geometric_mean(&members);
    let best =
        probabilities.iter().enumerate().fold(
            0,
            |best, (i, &p)| if p > probabilities[best] { i } else { best },
        );
    Ok(PredictionRow {
        path: first.path.clone(),
        truth: first.truth.clone(),
        predicted: labels[best].clone(),
        probabilities,
    })
}

/// Scores the ensemble of `members` on every split they were run on (runs of the same name)
/// and writes each split's evaluation and the pooled figures under [`ENSEMBLE_DIR`].
pub fn summarize_ensemble(
    members: &[String],
    runs: &[RunResult],
    out_dir: &Path,
) -> Result<EnsembleSummary, ExperimentError> {
    let dir = out_dir.join(ENSEMBLE_DIR);
    let splits: Vec<&RunResult> = runs.iter().filter(|run| run.model == members[0]).collect();
    let mut ensemble_runs = Vec::with_capacity(splits.len());
    for split in splits {
        let same_split: Vec<&RunResult> = members
            .iter()
            .map(|member| {
                runs.iter()
                    .find(|run| &run.model == member && run.name == split.name)
                    .ok_or_else(|| {
                        ExperimentError::InvalidInput(format!(
                            "no run of {member} on {} to join the ensemble",
                            split.name
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let labels = &split.report.labels;
        let member_rows: Vec<&[PredictionRow]> = same_split
            .iter()
            .map(|run| run.predictions.as_slice())
            .collect();
        let predictions = geometric_mean_predictions(labels, &member_rows)?;
        let index = |row: &PredictionRow, label: &str| {
            labels.iter().position(|l| l == label).ok_or_else(|| {
                ExperimentError::InvalidInput(format!(
                    "{}: label {label:?} is not one of the model's",
                    row.path.display()
                ))
            })
        };
        let (truth, predicted): (Vec<usize>, Vec<usize>) = predictions
            .iter()
            .map(|row| Ok((index(row, &row.truth)?, index(row, &row.predicted)?)))
            .collect::<Result<Vec<_>, ExperimentError>>()?
            .into_iter()
            .unzip();
        let report = ClassificationReport::from_predictions(labels, &truth, &predicted);
        let slug = split.dir.file_name().map(PathBuf::from).unwrap_or_default();
        let relative_dir = PathBuf::from(ENSEMBLE_DIR).join(slug);
        let title = format!("{}: {}", title_of(members), split.name);
        let written = ser_eval::report::write_evaluation(
            &out_dir.join(&relative_dir),
            &EvaluationRun {
                title: &title,
                description: "Each test clip's probabilities: the normalised geometric mean \
                              of the members' calibrated probabilities.",
                report: &report,
                training_log: None,
                predictions: Some(&predictions),
                timings: &[],
            },
        )?;
        ensemble_runs.push(EnsembleRun {
            name: split.name.clone(),
            dir: relative_dir,
            report,
            ece: written.calibration.map_or(f64::NAN, |c| c.ece),
            train_seconds: same_split.iter().map(|run| run.train_seconds).sum(),
            predictions,
        });
    }
    let (pooled, pooled_calibration) = pool_runs(
        ensemble_runs
            .iter()
            .map(|run| (&run.report, run.predictions.as_slice())),
        &dir,
    )?;
    let of = |metric: fn(&EnsembleRun) -> f64| MeanStd::of(ensemble_runs.iter().map(metric));
    Ok(EnsembleSummary {
        members: members.to_vec(),
        accuracy: of(|run| run.report.accuracy),
        macro_f1: of(|run| run.report.macro_f1),
        uar: of(|run| run.report.uar),
        train_seconds: of(|run| run.train_seconds),
        ece: of(|run| run.ece),
        runs: ensemble_runs,
        pooled,
        pooled_calibration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(path: &str, truth: &str, probabilities: &[f32]) -> PredictionRow {
        PredictionRow {
            path: PathBuf::from(path),
            truth: truth.into(),
            predicted: String::new(),
            probabilities: probabilities.to_vec(),
        }
    }

    fn labels() -> Vec<String> {
        vec!["angry".into(), "sad".into()]
    }

    #[test]
    fn the_ensemble_is_the_normalised_geometric_mean_of_its_members() {
        // sqrt(0.9 * 0.2) = 0.42426, sqrt(0.1 * 0.8) = 0.28284: 0.6 / 0.4 after normalising.
        let a = [
            row("x.wav", "angry", &[0.9, 0.1]),
            row("y.wav", "sad", &[0.5, 0.5]),
        ];
        let b = [
            row("y.wav", "sad", &[0.2, 0.8]),
            row("x.wav", "angry", &[0.2, 0.8]),
        ];
        let ensemble = geometric_mean_predictions(&labels(), &[&a, &b]).unwrap();
        assert_eq!(
            ensemble[0].path,
            PathBuf::from("x.wav"),
            "first member's order"
        );
        assert!((ensemble[0].probabilities[0] - 0.6).abs() < 1e-6);
        assert!((ensemble[0].probabilities[1] - 0.4).abs() < 1e-6);
        assert_eq!(ensemble[0].predicted, "angry");
        // sqrt(0.5 * 0.2) = 0.31623, sqrt(0.5 * 0.8) = 0.63246: 1/3 and 2/3.
        assert!((ensemble[1].probabilities[1] - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(ensemble[1].predicted, "sad");
    }

    #[test]
    fn a_member_certain_of_a_class_does_not_veto_it() {
        let a = [row("x.wav", "angry", &[0.0, 1.0])];
        let b = [row("x.wav", "angry", &[1.0, 0.0])];
        let ensemble = geometric_mean_predictions(&labels(), &[&a, &b]).unwrap();
        assert!((ensemble[0].probabilities[0] - 0.5).abs() < 1e-6);
        assert!(ensemble[0].probabilities.iter().all(|p| p.is_finite()));
    }

    #[test]
    fn members_that_judged_other_clips_are_refused() {
        let a = [row("x.wav", "angry", &[0.9, 0.1])];
        let b = [row("z.wav", "angry", &[0.2, 0.8])];
        let error = geometric_mean_predictions(&labels(), &[&a, &b]).unwrap_err();
        assert!(error.to_string().contains("x.wav"), "{error}");
        let c = [row("x.wav", "sad", &[0.2, 0.8])];
        let error = geometric_mean_predictions(&labels(), &[&a, &c]).unwrap_err();
        assert!(error.to_string().contains("truth"), "{error}");
    }
}
