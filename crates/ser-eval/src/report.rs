//! Markdown reports: headings, text, tables (including runs as mean ± std), image links and
//! timings, plus [`write_evaluation`], which writes every artefact of one evaluated run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{
    CALIBRATION_BINS, Calibration, ClassificationReport, EpochRecord, EvalError, PredictionRow,
    mean_std, plot_confusion_matrix, plot_reliability_diagram, plot_training_curves,
    write_predictions_csv,
};

/// A Markdown document built block by block.
#[derive(Debug, Clone, Default)]
pub struct MarkdownReport {
    blocks: Vec<String>,
}

/// One run (a seed, a fold, a model) with one value per metric column.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMetrics {
    pub name: String,
    pub values: Vec<f64>,
}

impl MarkdownReport {
    /// A document starting with a level-1 title.
    pub fn new(title: &str) -> Self {
        MarkdownReport {
            blocks: vec![format!("# {}", single_line(title))],
        }
    }

    /// A level-2 section heading.
    pub fn section(&mut self, heading: &str) -> &mut Self {
        self.push(format!("## {}", single_line(heading)))
    }

    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        self.push(text.trim().to_string())
    }

    /// A table; cells are escaped so `|` and line breaks cannot break the layout.
    pub fn table<S: AsRef<str>>(&mut self, headers: &[S], rows: &[Vec<String>]) -> &mut Self {
        let mut table = table_row(headers);
        table.push('\n');
        table.push_str(&table_row(&vec!["---"; headers.len()]));
        for row in rows {
            table.push('\n');
            table.push_str(&table_row(row));
        }
        self.push(table)
    }

    /// An embedded picture; `relative_path` is relative to the report file.
    pub fn image(&mut self, alt: &str, relative_path: &str) -> &mut Self {
        self.push(format!(
            "![{}]({})",
            single_line(alt),
            relative_path.replace(' ', "%20")
        ))
    }

    /// Summary metrics, the per-class table and the confusion matrix of one evaluation.
    pub fn classification(&mut self, report: &ClassificationReport) -> &mut Self {
        let summary = vec![vec![
            report.total().to_string(),
            format!("{:.3}", report.accuracy),
            format!("{:.3}", report.macro_f1),
            format!("{:.3}", report.weighted_f1),
            format!("{:.3}", report.uar),
        ]];
        self.table(
            &["clips", "accuracy", "macro-F1", "weighted-F1", "UAR"],
            &summary,
        );
        let per_class: Vec<Vec<String>> = report
            .per_class
            .iter()
            .map(|m| {
                vec![
                    m.label.clone(),
                    format!("{:.3}", m.precision),
                    format!("{:.3}", m.recall),
                    format!("{:.3}", m.f1),
                    m.support.to_string(),
                ]
            })
            .collect();
        self.table(
            &["class", "precision", "recall", "F1", "support"],
            &per_class,
        );
        let headers: Vec<String> = std::iter::once("true \\ predicted".to_string())
            .chain(report.labels.iter().cloned())
            .collect();
        let rows: Vec<Vec<String>> = report
            .labels
            .iter()
            .zip(&report.confusion)
            .map(|(label, row)| {
                std::iter::once(label.clone())
                    .chain(row.iter().map(u64::to_string))
                    .collect()
            })
            .collect();
        self.table(&headers, &rows)
    }

    /// One row per run and a last row with mean ± sample standard deviation per column.
    pub fn runs<S: AsRef<str>>(&mut self, metric_names: &[S], runs: &[RunMetrics]) -> &mut Self {
        let headers: Vec<&str> = std::iter::once("run")
            .chain(metric_names.iter().map(AsRef::as_ref))
            .collect();
        let mut rows: Vec<Vec<String>> = runs
            .iter()
            .map(|run| {
                std::iter::once(run.name.clone())
                    .chain(run.values.iter().map(|v| format!("{v:.3}")))
                    .collect()
            })
            .collect();
        let summary = std::iter::once("mean ± std".to_string()).chain((0..metric_names.len()).map(
            |column| {
                let values: Vec<f64> = runs
                    .iter()
                    .filter_map(|run| run.values.get(column).copied())
                    .collect();
                let (mean, std) = mean_std(&values);
                format!("{mean:.3} ± {std:.3}")
            },
        ));
        rows.push(summary.collect());
        self.table(&headers, &rows)
    }

    /// A table of durations, e.g. feature extraction, training, evaluation.
    pub fn timings(&mut self, timings: &[(String, f64)]) -> &mut Self {
        let rows: Vec<Vec<String>> = timings
            .iter()
            .map(|(stage, seconds)| vec![stage.clone(), format!("{seconds:.1}")])
            .collect();
        self.table(&["stage", "seconds"], &rows)
    }

    pub fn render(&self) -> String {
        let mut out = self.blocks.join("\n\n");
        out.push('\n');
        out
    }

    pub fn save(&self, path: &Path) -> Result<(), EvalError> {
        std::fs::write(path, self.render()).map_err(|e| EvalError::io(path, e))
    }

    fn push(&mut self, block: String) -> &mut Self {
        self.blocks.push(block);
        self
    }
}

fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn table_row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut row = String::from("|");
    for cell in cells {
        let _ = write!(row, " {} |", single_line(cell.as_ref()).replace('|', "\\|"));
    }
    row
}

/// Everything known about one evaluated run.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationRun<'a> {
    pub title: &'a str,
    /// Free text: model, corpus, split description.
    pub description: &'a str,
    pub report: &'a ClassificationReport,
    pub training_log: Option<&'a [EpochRecord]>,
    pub predictions: Option<&'a [PredictionRow]>,
    /// (stage, seconds)
    pub timings: &'a [(String, f64)],
}

/// File names [`write_evaluation`] uses inside the output folder.
pub const METRICS_FILE: &str = "metrics.json";
pub const CONFUSION_PLOT: &str = "confusion_matrix";
pub const RELIABILITY_PLOT: &str = "reliability";
pub const CURVES_PLOT: &str = "training_curves";
pub const PREDICTIONS_FILE: &str = "predictions.csv";
pub const REPORT_FILE: &str = "report.md";

/// What [`write_evaluation`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenEvaluation {
    pub report_path: PathBuf,
    /// Calibration of the predictions' probabilities (`None` without predictions).
    pub calibration: Option<Calibration>,
}

/// Writes into `out_dir`: `metrics.json` (with `ece`, `nll`, `brier` from the predictions'
/// probabilities), `confusion_matrix.{png,svg}`, `reliability.{png,svg}` and
/// `predictions.csv` (with predictions), `training_curves.{png,svg}` (with a non-empty log),
/// and `report.md` linking them.
pub fn write_evaluation(
    out_dir: &Path,
    run: &EvaluationRun<'_>,
) -> Result<WrittenEvaluation, EvalError> {
    std::fs::create_dir_all(out_dir).map_err(|e| EvalError::io(out_dir, e))?;
    let predictions = run.predictions.filter(|rows| !rows.is_empty());
    let calibration = predictions
        .map(|rows| calibration_of(&run.report.labels, rows))
        .transpose()?;
    run.report
        .save_json_with_calibration(&out_dir.join(METRICS_FILE), calibration.as_ref())?;
    plot_confusion_matrix(run.report, &out_dir.join(CONFUSION_PLOT))?;

    let mut markdown = MarkdownReport::new(run.title);
    if !run.description.trim().is_empty() {
        markdown.paragraph(run.description);
    }
    markdown.section("Metrics").classification(run.report);
    markdown
        .section("Confusion matrix")
        .image("confusion matrix", &format!("{CONFUSION_PLOT}.png"));
    if let Some(calibration) = &calibration {
        plot_reliability_diagram(calibration, &out_dir.join(RELIABILITY_PLOT))?;
        markdown
            .section("Calibration")
            .paragraph(
                "How far the probabilities can be read as probabilities: expected calibration \
                 error over equal-width confidence bins (0 is perfect), mean negative \
                 log-likelihood of the true class in nats, multi-class Brier score (sum over \
                 classes, 0 to 2).",
            )
            .table(
                &[
                    format!("ECE ({CALIBRATION_BINS} bins)"),
                    "NLL".to_string(),
                    "Brier".to_string(),
                ],
                &[vec![
                    format!("{:.3}", calibration.ece),
                    format!("{:.3}", calibration.nll),
                    format!("{:.3}", calibration.brier),
                ]],
            )
            .image("reliability diagram", &format!("{RELIABILITY_PLOT}.png"));
    }
    if let Some(log) = run.training_log.filter(|log| !log.is_empty()) {
        plot_training_curves(log, &out_dir.join(CURVES_PLOT))?;
        markdown
            .section("Training curves")
            .image("training curves", &format!("{CURVES_PLOT}.png"));
    }
    if let Some(rows) = predictions {
        write_predictions_csv(&run.report.labels, rows, &out_dir.join(PREDICTIONS_FILE))?;
        let wrong = rows.iter().filter(|r| r.truth != r.predicted).count();
        markdown.section("Predictions").paragraph(&format!(
            "{wrong} of {} clips misclassified; every clip with its probabilities is in \
             [{PREDICTIONS_FILE}]({PREDICTIONS_FILE}).",
            rows.len()
        ));
    }
    if !run.timings.is_empty() {
        markdown.section("Timing").timings(run.timings);
    }
    let report_path = out_dir.join(REPORT_FILE);
    markdown.save(&report_path)?;
    Ok(WrittenEvaluation {
        report_path,
        calibration,
    })
}

/// Calibration of the prediction rows, whose true labels must be among `labels`.
fn calibration_of(labels: &[String], rows: &[PredictionRow]) -> Result<Calibration, EvalError> {
    let truth = rows
        .iter()
        .map(|row| {
            labels.iter().position(|l| *l == row.truth).ok_or_else(|| {
                EvalError::InvalidInput(format!(
                    "{}: true label {} is not one of the model's labels",
                    row.path.display(),
                    row.truth
                ))
            })
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let probabilities: Vec<&[f32]> = rows.iter().map(|r| r.probabilities.as_slice()).collect();
    Calibration::from_probabilities(&probabilities, &truth)
}
