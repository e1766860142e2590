//! Many recordings: parallel over files, results in input order, bounded memory.

use std::io::{self, Read};
use std::path::Path;

use rayon::prelude::*;

use crate::{EmotionModel, Input, InputError, PredictError, PredictOptions, Prediction};

/// Counts of one batch run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub succeeded: usize,
    pub failed: usize,
}

/// Predicts every input on rayon's pool and calls `emit` with each result in input order.
/// Inputs are taken a window at a time (two per worker thread), so only that many recordings
/// are decoded in memory at once, whatever the number of files. A broken input becomes a
/// [`Prediction`] with `error` set and the batch goes on; only an error from `emit` (e.g. a
/// closed stdout) stops it.
pub fn predict_inputs(
    model: &dyn EmotionModel,
    inputs: &[Result<Input, InputError>],
    options: &PredictOptions,
    mut emit: impl FnMut(&Prediction) -> io::Result<()>,
) -> io::Result<BatchSummary> {
    let window = rayon::current_num_threads().max(1) * 2;
    let mut summary = BatchSummary::default();
    for chunk in inputs.chunks(window) {
        let results: Vec<Prediction> = chunk
            .par_iter()
            .map(|input| match input {
                // A panic inside a decoder or DSP library fails this input only.
                Ok(input) => ser_audio::isolate(Path::new(&input.name()), || {
                    predict_input(model, input, options)
                })
                .unwrap_or_else(|e| Prediction::failed(input.name(), e.to_string())),
                Err(e) => Prediction::failed(e.argument.clone(), e.reason.clone()),
            })
            .collect();
        for prediction in &results {
            if prediction.error.is_some() {
                summary.failed += 1;
            } else {
                summary.succeeded += 1;
            }
            emit(prediction)?;
        }
    }
    Ok(summary)
}

fn predict_input(
    model: &dyn EmotionModel,
    input: &Input,
    options: &PredictOptions,
) -> Result<Prediction, PredictError> {
    let name = input.name();
    let decoded = match input {
        Input::File(path) => ser_audio::decode_file(path)?,
        Input::Stdin => {
            let mut bytes = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|source| PredictError::Stdin {
                    file: name.clone(),
                    source,
                })?;
            ser_audio::decode_bytes(bytes, &name)?
        }
    };
    crate::predict_audio(model, &name, &decoded.audio, options)
}
