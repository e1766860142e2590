use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// The prediction for one clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    pub path: PathBuf,
    pub truth: String,
    pub predicted: String,
    /// One probability per label, in label order.
    pub probabilities: Vec<f32>,
}

/// Writes one CSV row per clip: `path,truth,predicted,correct,p_<label>...`, so the
/// misclassified clips can be filtered and listened to.
pub fn write_predictions_csv(
    labels: &[String],
    rows: &[PredictionRow],
    path: &Path,
) -> Result<(), EvalError> {
    if let Some(row) = rows.iter().find(|r| r.probabilities.len() != labels.len()) {
        return Err(EvalError::InvalidInput(format!(
            "prediction for {} has {} probabilities for {} labels",
            row.path.display(),
            row.probabilities.len(),
            labels.len()
        )));
    }
    let csv_error = |source| EvalError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    let header = ["path", "truth", "predicted", "correct"]
        .into_iter()
        .map(String::from)
        .chain(labels.iter().map(|label| format!("p_{label}")));
    writer.write_record(header).map_err(csv_error)?;
    for row in rows {
        let fields = [
            row.path.to_string_lossy().into_owned(),
            row.truth.clone(),
            row.predicted.clone(),
            (row.truth == row.predicted).to_string(),
        ]
        .into_iter()
        .chain(row.probabilities.iter().map(|p| format!("{p:.6}")));
        writer.write_record(fields).map_err(csv_error)?;
    }
    writer.flush().map_err(|e| EvalError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_rows_and_rejects_wrong_widths() {
        let labels = vec!["angry".to_string(), "sad".to_string()];
        let row = PredictionRow {
            path: PathBuf::from("clips/a, b.wav"),
            truth: "sad".into(),
            predicted: "angry".into(),
            probabilities: vec![0.75, 0.25],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.csv");
        write_predictions_csv(&labels, std::slice::from_ref(&row), &path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "path,truth,predicted,correct,p_angry,p_sad\n\
             \"clips/a, b.wav\",sad,angry,false,0.750000,0.250000\n"
        );
        let short = PredictionRow {
            probabilities: vec![1.0],
            ..row
        };
        assert!(write_predictions_csv(&labels, &[short], &path).is_err());
    }
}
