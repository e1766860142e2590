//! Report generation on a tiny run: every artefact is written and linked.

use std::path::PathBuf;

use ser_eval::report::{EvaluationRun, MarkdownReport, RunMetrics, write_evaluation};
use ser_eval::{ClassificationReport, EpochRecord, PredictionRow};

fn labels() -> Vec<String> {
    ser_data::Emotion::ALL
        .iter()
        .map(|e| e.as_str().to_string())
        .collect()
}

fn tiny_log() -> Vec<EpochRecord> {
    (1..=6)
        .map(|epoch| {
            let progress = epoch as f64 / 6.0;
            EpochRecord {
                epoch,
                train_loss: 1.9 - 1.5 * progress,
                train_accuracy: 0.2 + 0.75 * progress,
                val_loss: Some(1.95 - 1.2 * progress),
                val_accuracy: Some(0.15 + 0.7 * progress),
                val_macro_f1: (epoch > 1).then_some(0.1 + 0.7 * progress),
                learning_rate: 1e-3,
                seconds: 1.5,
            }
        })
        .collect()
}

#[test]
fn tiny_run_writes_metrics_plots_predictions_and_markdown() {
    let labels = labels();
    // Three clips per emotion; every third clip of an odd emotion goes to the next one.
    let truth: Vec<usize> = (0..21).map(|i| i / 3).collect();
    let predicted: Vec<usize> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if t % 2 == 1 && i % 3 == 0 {
                (t + 1) % 7
            } else {
                t
            }
        })
        .collect();
    let report = ClassificationReport::from_predictions(&labels, &truth, &predicted);
    let rows: Vec<PredictionRow> = truth
        .iter()
        .zip(&predicted)
        .enumerate()
        .map(|(i, (&t, &p))| PredictionRow {
            path: PathBuf::from(format!("clips/{i}.wav")),
            truth: labels[t].clone(),
            predicted: labels[p].clone(),
            probabilities: (0..7).map(|c| if c == p { 0.7 } else { 0.05 }).collect(),
        })
        .collect();
    let log = tiny_log();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eval");
    let timings = [("training".to_string(), 9.0)];
    let written = write_evaluation(
        &out,
        &EvaluationRun {
            title: "TESS, CNN | seed 1",
            description: "stratified split 80/20",
            report: &report,
            training_log: Some(&log),
            predictions: Some(&rows),
            timings: &timings,
        },
    )
    .unwrap();

    for file in [
        "metrics.json",
        "confusion_matrix.png",
        "confusion_matrix.svg",
        "training_curves.png",
        "training_curves.svg",
        "reliability.png",
        "reliability.svg",
        "predictions.csv",
        "report.md",
    ] {
        let size = std::fs::metadata(out.join(file)).unwrap().len();
        assert!(size > 100, "{file} has {size} bytes");
    }
    let png = std::fs::read(out.join("confusion_matrix.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(out.join("confusion_matrix.svg")).unwrap();
    assert!(svg.contains("pleasant surprise") && svg.contains("67%"));

    // Every clip has confidence 0.7 (bin 10 of 15) and 18 of 21 are right: ECE |18/21 - 0.7|,
    // NLL -(18 ln 0.7 + 3 ln 0.05) / 21, Brier (18 (0.09 + 6 * 0.0025) + 3 (0.49 + 0.9025
    // + 5 * 0.0025)) / 21.
    let calibration = written.calibration.clone().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
    assert!(close(calibration.ece, 18.0 / 21.0 - 0.7), "{calibration:?}");
    let nll = -(18.0 * 0.7f32.ln() as f64 + 3.0 * 0.05f32.ln() as f64) / 21.0;
    assert!(close(calibration.nll, nll), "{calibration:?}");
    let brier = (18.0 * (0.09 + 6.0 * 0.0025) + 3.0 * (0.49 + 0.9025 + 5.0 * 0.0025)) / 21.0;
    assert!(close(calibration.brier, brier), "{calibration:?}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert!(close(metrics["ece"].as_f64().unwrap(), calibration.ece));
    assert!(close(metrics["nll"].as_f64().unwrap(), calibration.nll));
    assert!(close(metrics["brier"].as_f64().unwrap(), calibration.brier));
    assert_eq!(metrics["reliability_bins"][10]["count"], 21);
    // The file still reads back as the classification report.
    assert_eq!(
        ClassificationReport::load_json(&out.join("metrics.json")).unwrap(),
        report
    );
    let svg = std::fs::read_to_string(out.join("reliability.svg")).unwrap();
    assert!(svg.contains("ECE 0.157") && svg.contains("\n21\n"), "{svg}");

    let markdown = std::fs::read_to_string(&written.report_path).unwrap();
    assert!(markdown.starts_with("# TESS, CNN | seed 1\n"), "{markdown}");
    assert!(markdown.contains("| 21 | 0.857 | "), "{markdown}");
    assert!(markdown.contains("| fear | 0.750 | 1.000 | 0.857 | 3 |"));
    assert!(markdown.contains("![confusion matrix](confusion_matrix.png)"));
    assert!(markdown.contains("![training curves](training_curves.png)"));
    assert!(
        markdown.contains("| ECE (15 bins) | NLL | Brier |"),
        "{markdown}"
    );
    assert!(markdown.contains(&format!(
        "| {:.3} | {:.3} | {:.3} |",
        calibration.ece, calibration.nll, calibration.brier
    )));
    let confusion_at = markdown.find("![confusion matrix]").unwrap();
    let reliability_at = markdown
        .find("![reliability diagram](reliability.png)")
        .unwrap();
    let curves_at = markdown.find("![training curves]").unwrap();
    assert!(confusion_at < reliability_at && reliability_at < curves_at);
    assert!(markdown.contains("3 of 21 clips misclassified"));
    assert!(markdown.contains("| training | 9.0 |"));
    let csv = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert_eq!(csv.lines().count(), 22);
    assert!(
        csv.lines()
            .nth(4)
            .unwrap()
            .starts_with("clips/3.wav,disgust,fear,false,")
    );
}

#[test]
fn runs_table_ends_with_mean_and_std() {
    let mut markdown = MarkdownReport::new("Folds");
    markdown.runs(
        &["accuracy", "macro-F1"],
        &[
            RunMetrics {
                name: "fold 1".into(),
                values: vec![0.9, 0.8],
            },
            RunMetrics {
                name: "fold 2".into(),
                values: vec![0.7, 0.6],
            },
        ],
    );
    let text = markdown.render();
    assert_eq!(
        text,
        "# Folds\n\n\
         | run | accuracy | macro-F1 |\n\
         | --- | --- | --- |\n\
         | fold 1 | 0.900 | 0.800 |\n\
         | fold 2 | 0.700 | 0.600 |\n\
         | mean ± std | 0.800 ± 0.141 | 0.700 ± 0.141 |\n"
    );
}

#[test]
fn empty_inputs_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    assert!(ser_eval::plot_training_curves(&[], &dir.path().join("curves")).is_err());
    let empty = ClassificationReport::from_predictions(&[], &[], &[]);
    assert!(ser_eval::plot_confusion_matrix(&empty, &dir.path().join("cm")).is_err());
}

/// Renders the pictures of the tiny run into `$SER_PLOT_PREVIEW_DIR` for a look by eye.
#[test]
fn preview_plots_when_asked() {
    let Some(dir) = std::env::var_os("SER_PLOT_PREVIEW_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let labels = labels();
    let truth: Vec<usize> = (0..700).map(|i| i / 100).collect();
    let predicted: Vec<usize> = (0..700)
        .map(|i| {
            if i % 7 == 0 {
                (i / 100 + 3) % 7
            } else {
                i / 100
            }
        })
        .collect();
    let report = ClassificationReport::from_predictions(&labels, &truth, &predicted);
    ser_eval::plot_confusion_matrix(&report, &dir.join("confusion_matrix")).unwrap();
    // Over-confident: every clip at 0.9-1.0, 6 in 7 right.
    let probabilities: Vec<Vec<f32>> = predicted
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let top = 0.9 + 0.1 * (i % 10) as f32 / 10.0;
            (0..7)
                .map(|c| if c == p { top } else { (1.0 - top) / 6.0 })
                .collect()
        })
        .collect();
    let calibration = ser_eval::Calibration::from_probabilities(&probabilities, &truth).unwrap();
    ser_eval::plot_reliability_diagram(&calibration, &dir.join("reliability")).unwrap();
    ser_eval::plot_training_curves(&tiny_log(), &dir.join("training_curves")).unwrap();
}
