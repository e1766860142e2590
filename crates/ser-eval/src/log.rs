use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// One epoch of training; the training log is a JSON-lines file of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub val_macro_f1: Option<f64>,
    pub learning_rate: f64,
    pub seconds: f64,
}

/// Reads a JSON-lines training log (blank lines are skipped); errors name file and line.
pub fn read_training_log(path: &Path) -> Result<Vec<EpochRecord>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|source| EvalError::TrainingLog {
                path: path.to_path_buf(),
                line: index + 1,
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_and_names_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("training_log.jsonl");
        let record = EpochRecord {
            epoch: 1,
            train_loss: 1.5,
            train_accuracy: 0.4,
            val_loss: None,
            val_accuracy: Some(0.5),
            val_macro_f1: Some(0.45),
            learning_rate: 1e-3,
            seconds: 2.0,
        };
        let line = serde_json::to_string(&record).unwrap();
        std::fs::write(&path, format!("{line}\n\n{line}\n")).unwrap();
        assert_eq!(read_training_log(&path).unwrap(), [record.clone(), record]);
        std::fs::write(&path, format!("{line}\n{{\"epoch\": 2}}\n")).unwrap();
        let error = read_training_log(&path).unwrap_err().to_string();
        assert!(error.contains("training_log.jsonl:2"), "{error}");
    }
}
