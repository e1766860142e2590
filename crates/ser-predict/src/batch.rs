//! Many recordings: parallel over files, results in input order, bounded memory.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use ser_model::VoiceProfile;

use crate::{
    EmotionModel, Input, InputError, PredictError, PredictOptions, Prediction, SpeakerGrouping,
};

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
///
/// With [`PredictOptions::speakers`] grouping files (and a model that normalises speakers),
/// a first pass reads every file to learn each group's voice; the second predicts.
pub fn predict_inputs(
    model: &dyn EmotionModel,
    inputs: &[Result<Input, InputError>],
    options: &PredictOptions,
    mut emit: impl FnMut(&Prediction) -> io::Result<()>,
) -> io::Result<BatchSummary> {
    let voices = group_voices(model, inputs, options);
    let voice_of = |input: &Input| match input {
        Input::File(path) => voices.get(&speaker_key(path, options.speakers)),
        Input::Stdin => None,
    };
    let window = rayon::current_num_threads().max(1) * 2;
    let mut summary = BatchSummary::default();
    for chunk in inputs.chunks(window) {
        let results: Vec<Prediction> = chunk
            .par_iter()
            .map(|input| match input {
                // A panic inside a decoder or DSP library fails this input only.
                Ok(input) => ser_audio::isolate(Path::new(&input.name()), || {
                    predict_input(model, input, options, voice_of(input))
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

/// The files of one speaker group share this key.
fn speaker_key(path: &Path, grouping: SpeakerGrouping) -> PathBuf {
    match grouping {
        SpeakerGrouping::Recording => path.to_path_buf(),
        SpeakerGrouping::Folder => path.parent().map(Path::to_path_buf).unwrap_or_default(),
        SpeakerGrouping::All => PathBuf::new(),
    }
}

/// The voice of every speaker group of files, learnt from all of the group's recordings that
/// can be read (the others fail in the prediction pass, as they would alone). Empty when
/// every recording is its own speaker or the model does not normalise speakers.
fn group_voices(
    model: &dyn EmotionModel,
    inputs: &[Result<Input, InputError>],
    options: &PredictOptions,
) -> HashMap<PathBuf, VoiceProfile> {
    let mut voices = HashMap::new();
    if options.speakers == SpeakerGrouping::Recording || !model.normalizes_speakers() {
        return voices;
    }
    let files: Vec<&Path> = inputs
        .iter()
        .filter_map(|input| match input {
            Ok(Input::File(path)) => Some(path.as_path()),
            _ => None,
        })
        .collect();
    let profiles: Vec<Option<VoiceProfile>> = files
        .par_iter()
        .map(|&path| {
            ser_audio::isolate(path, || {
                let decoded = ser_audio::decode_file(path)?;
                crate::voice_profile(model, &path.display().to_string(), &decoded.audio, options)
            })
            .ok()
            .flatten()
        })
        .collect();
    for (path, profile) in files.iter().zip(profiles) {
        if let Some(profile) = profile {
            voices
                .entry(speaker_key(path, options.speakers))
                .or_insert_with(VoiceProfile::default)
                .merge(&profile);
        }
    }
    voices
}

fn predict_input(
    model: &dyn EmotionModel,
    input: &Input,
    options: &PredictOptions,
    voice: Option<&VoiceProfile>,
) -> Result<Prediction, PredictError> {
    let name = input.name();
    match input {
        Input::File(path) => {
            let decoded = ser_audio::decode_file(path)?;
            crate::predict_audio_in_voice(model, &name, &decoded.audio, options, voice)
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
