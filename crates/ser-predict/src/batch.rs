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

/// Predicts in-memory recordings, each a (name, file bytes) pair, on rayon's pool; results in
/// input order, a broken recording (a panic inside included) as a [`Prediction`] with `error`
/// set, as in [`predict_inputs`].
pub fn predict_recordings(
    model: &dyn EmotionModel,
    recordings: &[(String, Vec<u8>)],
    options: &PredictOptions,
) -> Vec<Prediction> {
    recordings
        .par_iter()
        .map(|(name, bytes)| {
            ser_audio::isolate(Path::new(name), || {
                predict_bytes(model, name, bytes.clone(), options)
            })
            .unwrap_or_else(|e| Prediction::failed(name.clone(), e.to_string()))
        })
        .collect()
}

/// Predicts one in-memory audio file (any format the decoder reads) named `name`.
pub fn predict_bytes(
    model: &dyn EmotionModel,
    name: &str,
    bytes: Vec<u8>,
    options: &PredictOptions,
) -> Result<Prediction, PredictError> {
    let decoded = ser_audio::decode_bytes(bytes, name)?;
    crate::predict_audio(model, name, &decoded.audio, options)
}

fn predict_input(
    model: &dyn EmotionModel,
    input: &Input,
    options: &PredictOptions,
) -> Result<Prediction, PredictError> {
    let name = input.name();
    match input {
        Input::File(path) => {
            let decoded = ser_audio::decode_file(path)?;
            crate::predict_audio(model, &name, &decoded.audio, options)
        }
        Input::Stdin => {
            let mut bytes = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|source| PredictError::Stdin {
                    file: name.clone(),
                    source,
                })?;
            predict_bytes(model, &name, bytes, options)
        }
    }
}
