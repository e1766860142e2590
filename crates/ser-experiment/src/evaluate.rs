//! Evaluating a trained model on labelled clips: metrics and one prediction row per clip.

use ser_data::{Clip, FeatureCache, SkippedClip};
use ser_eval::{ClassificationReport, PredictionRow};
use ser_features::FeatureMatrix;
use ser_model::Classifier;

use crate::ExperimentError;

/// Which test clips a model with speaker normalisation hears together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestSpeakers {
    /// All clips of a test speaker together (their labels are never read), as a user who
    /// gives one speaker's recordings at once, or `ser eval` on a corpus.
    #[default]
    Together,
    /// Each clip alone, as `ser predict` judges one short recording by itself.
    Alone,
}

/// Metrics and per-clip predictions of one evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub report: ClassificationReport,
    pub predictions: Vec<PredictionRow>,
    /// Class indices into the model's labels, in clip order.
    pub truth: Vec<usize>,
    pub predicted: Vec<usize>,
    /// Clips left out because their files cannot be used; the rest are evaluated.
    pub skipped: Vec<SkippedClip>,
}

/// Predicts every clip (features through `cache` when given) and scores the predictions;
/// clips whose files cannot be used are left out and listed in [`Evaluation::skipped`].
/// `on_progress` is called once per extracted clip, from worker threads.
pub fn evaluate_clips(
    classifier: &Classifier,
    clips: &[Clip],
    test_speakers: TestSpeakers,
    cache: Option<&FeatureCache>,
    on_progress: &(dyn Fn() + Sync),
) -> Result<Evaluation, ExperimentError> {
    if clips.is_empty() {
        return Err(ExperimentError::InvalidInput(
            "nothing to evaluate: no clips".into(),
        ));
    }
    let labels = classifier.labels();
    let class_of = |clip: &Clip| {
        let label = clip.emotion.as_str();
        labels
            .iter()
            .position(|known| known == label)
            .ok_or_else(|| ExperimentError::UnknownLabel {
                path: clip.path.clone(),
                label: label.to_string(),
                labels: labels.join(", "),
            })
    };
    // Labels are checked before the long extraction.
    for clip in clips {
        class_of(clip)?;
    }
    let extracted = extract_every_set(classifier, clips, cache, on_progress)?;
    let clips = &extracted.clips;
    let truth = clips
        .iter()
        .map(class_of)
        .collect::<Result<Vec<usize>, _>>()?;
    let features = &extracted.features;
    let speakers = match test_speakers {
        TestSpeakers::Together => {
            ser_model::group_indices(clips.iter().map(|clip| clip.speaker.as_str()))
        }
        TestSpeakers::Alone => (0..clips.len()).collect(),
    };
    let probabilities =
        classifier.predict_features(&features.iter().collect::<Vec<_>>(), &speakers)?;
    let predicted: Vec<usize> = probabilities.iter().map(|p| arg_max(p)).collect();
    let predictions = clips
        .iter()
        .zip(&truth)
        .zip(&predicted)
        .zip(probabilities)
        .map(|(((clip, &t), &p), probabilities)| PredictionRow {
            path: clip.path.clone(),
            truth: labels[t].clone(),
            predicted: labels[p].clone(),
            probabilities,
        })
        .collect();
    Ok(Evaluation {
        report: ClassificationReport::from_predictions(labels, &truth, &predicted),
        predictions,
        truth,
        predicted,
        skipped: extracted.skipped,
    })
}

/// The clips that every feature configuration of the classifier could analyse, with a matrix
/// per configuration each ([`ser_model::ClipFeatures`]).
struct ExtractedSets {
    clips: Vec<Clip>,
    features: Vec<Vec<FeatureMatrix>>,
    skipped: Vec<SkippedClip>,
}

/// Extracts every clip once per feature configuration of `classifier` (through `cache` when
/// given); a clip that one configuration cannot analyse is left out of all of them.
fn extract_every_set(
    classifier: &Classifier,
    clips: &[Clip],
    cache: Option<&FeatureCache>,
    on_progress: &(dyn Fn() + Sync),
) -> Result<ExtractedSets, ExperimentError> {
    let mut sets = ExtractedSets {
        clips: clips.to_vec(),
        features: vec![Vec::new(); clips.len()],
        skipped: Vec::new(),
    };
    for config in classifier.feature_configs() {
        let extracted = ser_data::extract_features_with(
            &sets.clips,
            config,
            cache,
            on_progress,
            |config, path| config.extract_file(path),
        )?;
        // The extracted clips are those of `sets.clips` in order, minus the skipped ones.
        let mut matrices = extracted.clips.iter().zip(extracted.matrices).peekable();
        let mut kept = ExtractedSets {
            clips: Vec::with_capacity(extracted.clips.len()),
            features: Vec::with_capacity(extracted.clips.len()),
            skipped: sets.skipped,
        };
        for (clip, mut clip_features) in sets.clips.into_iter().zip(sets.features) {
            if let Some((_, matrix)) = matrices.next_if(|(next, _)| next.path == clip.path) {
                clip_features.push(matrix);
                kept.clips.push(clip);
                kept.features.push(clip_features);
            }
        }
        kept.skipped.extend(extracted.skipped);
        sets = kept;
    }
    Ok(sets)
}

/// Index of the largest value (the first one on ties; 0 for an empty slice).
fn arg_max(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (index, &value)| {
            if value > best.1 { (index, value) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::arg_max;

    #[test]
    fn arg_max_takes_the_first_maximum() {
        assert_eq!(arg_max(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(arg_max(&[0.5, 0.5]), 0);
        assert_eq!(arg_max(&[]), 0);
    }
}
