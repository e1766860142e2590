//! Speaker normalisation: a network trained on speaker-centred input recognises a new voice
//! far from every training voice once that voice's clips are given together.

mod common;

use ser_features::{FeatureConfig, FeatureMatrix};
use ser_model::{Classifier, FitSetup, LabelledFeatures, SilentProgress, TrainConfig, fit};

const CLASSES: usize = 3;
const FEATURES: usize = 4;

/// A voice: what the speaker's habit adds to each feature.
type Voice = [f32; FEATURES];

/// Clip `index` of a speaker with `voice`: class c raises feature c by 3, plus deterministic
/// noise.
fn clip(class: usize, voice: &Voice, index: usize) -> FeatureMatrix {
    let values = (0..FEATURES * 6)
        .map(|cell| {
            let feature = cell / 6;
            let noise = (((cell * 7 + index * 13) % 11) as f32 / 11.0 - 0.5) * 0.8;
            voice[feature] + noise + if feature == class { 3.0 } else { 0.0 }
        })
        .collect();
    FeatureMatrix::new(FEATURES, 6, values)
}

/// The training speakers' voices.
const TRAINING_VOICES: [Voice; 5] = [
    [0.0, 0.0, 0.0, 0.0],
    [1.0, -1.0, 0.5, 0.0],
    [-1.0, 0.5, 1.0, 1.0],
    [0.5, 1.0, -1.0, -1.0],
    [-0.5, -0.5, -0.5, 0.0],
];

/// `clips` clips per class of each speaker.
fn speakers(voices: &[Voice], clips: usize) -> LabelledFeatures {
    let mut data = LabelledFeatures::default();
    for (speaker, voice) in voices.iter().enumerate() {
        for index in 0..clips * CLASSES {
            let class = index % CLASSES;
            data.matrices.push(clip(class, voice, index));
            data.labels.push(class);
            data.speakers.push(speaker);
            data.corpora.push(0);
        }
    }
    data
}

fn setup(speaker_normalization: bool) -> FitSetup {
    setup_with(speaker_normalization, false)
}

fn setup_with(speaker_normalization: bool, scale: bool) -> FitSetup {
    FitSetup {
        model: common::small_mlp(speaker_normalization, scale),
        features: FeatureConfig::default(),
        training: TrainConfig {
            epochs: 60,
            batch_size: 16,
            learning_rate: 0.01,
            patience: 0,
            seed: 3,
            ..TrainConfig::default()
        },
        labels: (0..CLASSES).map(|class| format!("class{class}")).collect(),
        corpus: "synthetic".into(),
        split: "none".into(),
        run_dir: None,
        resume: false,
        calibration: None,
        training_data: None,
    }
}

fn accuracy(classifier: &Classifier, data: &LabelledFeatures, speakers: &[usize]) -> f64 {
    let matrices: Vec<&FeatureMatrix> = data.matrices.iter().collect();
    let probabilities = classifier.predict_features(&matrices, speakers).unwrap();
    let correct = probabilities
        .iter()
        .zip(&data.labels)
        .filter(|(row, label)| {
            let best = (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b]));
            best == Some(**label)
        })
        .count();
    correct as f64 / data.labels.len() as f64
}

#[test]
fn a_new_voice_is_recognised_once_its_clips_come_together() {
    let train = speakers(&TRAINING_VOICES, 8);
    // A new voice whose habit on feature 1 is stronger than any emotion's mark: heard one
    // clip at a time it always sounds like class 1.
    let new_voice = speakers(&[[0.0, 4.0, 0.0, 0.0]], 4);
    let together = vec![0; new_voice.len()];
    let each_alone: Vec<usize> = (0..new_voice.len()).collect();

    let normalized = fit(&setup(true), &train, None, &SilentProgress).unwrap();
    let normalized = Classifier::from_bundle_bytes(&normalized.bundle).unwrap();
    assert!(normalized.normalizes_speakers());
    let prior = normalized.normalizer().speaker_prior.as_ref().unwrap();
    assert_eq!(prior.clips, 2.0);
    // Pooled input rows are (mean, std) per feature: the average training voice adds 0 to
    // each feature, and classes 0-2 raise features 0-2 by 3 in a third of the clips.
    let means: Vec<f32> = prior.mean.iter().step_by(2).copied().collect();
    let expected = [1.0, 1.0, 1.0, 0.0];
    assert!(
        means
            .iter()
            .zip(expected)
            .all(|(mean, expected)| (mean - expected).abs() < 0.1),
        "{prior:?}"
    );
    let grouped = accuracy(&normalized, &new_voice, &together);
    assert!(
        grouped >= 0.99,
        "speaker-normalised, clips together: {grouped}"
    );

    let global = fit(&setup(false), &train, None, &SilentProgress).unwrap();
    let global = Classifier::from_bundle_bytes(&global.bundle).unwrap();
    assert!(!global.normalizes_speakers());
    let global_accuracy = accuracy(&global, &new_voice, &each_alone);
    assert!(
        global_accuracy < 0.8,
        "without speaker normalisation the new voice should confuse the model: {global_accuracy}"
    );
    // Grouping is ignored without speaker normalisation.
    assert_eq!(accuracy(&global, &new_voice, &together), global_accuracy);
}

#[test]
fn a_voice_lively_where_no_training_voice_was_is_recognised_once_scaled() {
    let train = speakers(&TRAINING_VOICES[..4], 8);
    // A new voice whose feature 3 (no emotion's mark) swings by +-6 from clip to clip, where
    // every training voice holds it within the noise.
    let mut new_voice = speakers(&[[0.0; FEATURES]], 8);
    for (index, matrix) in new_voice.matrices.iter_mut().enumerate() {
        let swing = if (index / CLASSES).is_multiple_of(2) {
            6.0
        } else {
            -6.0
        };
        let frames = matrix.n_frames;
        for value in &mut matrix.data[3 * frames..] {
            *value += swing;
        }
    }
    let together = vec![0; new_voice.len()];

    let scaled = fit(&setup_with(true, true), &train, None, &SilentProgress).unwrap();
    let scaled = Classifier::from_bundle_bytes(&scaled.bundle).unwrap();
    let prior = scaled.normalizer().speaker_prior.as_ref().unwrap();
    assert!(
        prior.variance.is_some(),
        "the spread prior travels with the bundle"
    );
    let scaled_accuracy = accuracy(&scaled, &new_voice, &together);
    assert!(
        scaled_accuracy >= 0.99,
        "scaled per speaker: {scaled_accuracy}"
    );

    let centred = fit(&setup_with(true, false), &train, None, &SilentProgress).unwrap();
    let centred = Classifier::from_bundle_bytes(&centred.bundle).unwrap();
    let centred_accuracy = accuracy(&centred, &new_voice, &together);
    assert!(
        centred_accuracy < 0.9,
        "centred only, the swing should confuse the model: {centred_accuracy}"
    );
}
