//! A tiny network must learn 20 real TESS clips perfectly: if it cannot, something between
//! features, normalisation, network and optimiser is broken.

use ser_data::{CorpusKind, Emotion};
use ser_features::FeatureConfig;
use ser_model::{
    Classifier, FitSetup, LabelledFeatures, RunConfig, SilentProgress, TrainConfig, fit,
};

/// 20 clips: the first 3 of each emotion in path order (2 for the last one), both speakers.
fn twenty_clips() -> Vec<ser_data::Clip> {
    let corpus = ser_data::load_corpus(CorpusKind::Tess, &ser_data::default_tess_dir())
        .expect("TESS under SER_DATA_DIR or <repo>/../shared/data");
    let mut picked = Vec::new();
    for emotion in Emotion::ALL {
        let wanted = if emotion == Emotion::Sad { 2 } else { 3 };
        picked.extend(
            corpus
                .clips
                .iter()
                .filter(|clip| clip.emotion == emotion)
                .step_by(97)
                .take(wanted)
                .cloned(),
        );
    }
    assert_eq!(picked.len(), 20);
    picked
}

#[test]
fn tiny_model_overfits_twenty_real_clips() {
    let clips = twenty_clips();
    let features = FeatureConfig::default();
    let data = LabelledFeatures {
        matrices: clips
            .iter()
            .map(|clip| {
                features
                    .extract_file(&clip.path)
                    .expect("TESS clip decodes")
            })
            .collect(),
        labels: clips.iter().map(|clip| clip.emotion.index()).collect(),
        speakers: ser_model::group_indices(clips.iter().map(|clip| clip.speaker.as_str())),
        corpora: vec![0; clips.len()],
    };
    let run = RunConfig::from_toml(
        r#"
        [model]
        architecture = "cnn1d"
        frames = 96
        [model.cnn1d]
        channels = [16, 16]
        kernel_sizes = [5, 3]
        dropout = 0.0
        "#,
    )
    .unwrap();
    let setup = FitSetup {
        model: run.model,
        features: features.clone(),
        training: TrainConfig {
            epochs: 40,
            batch_size: 10,
            learning_rate: 0.005,
            patience: 0,
            ..TrainConfig::default()
        },
        labels: Emotion::ALL
            .iter()
            .map(|emotion| emotion.to_string())
            .collect(),
        corpus: "tess".into(),
        split: "20 clips".into(),
        run_dir: None,
        resume: false,
        calibration: None,
        training_data: None,
    };
    let outcome = fit(&setup, &data, None, &SilentProgress).unwrap();
    let classifier = Classifier::from_bundle_bytes(&outcome.bundle).unwrap();
    let probabilities = classifier
        .predict_features(&data.matrices.iter().collect::<Vec<_>>(), &data.speakers)
        .unwrap();
    let predicted: Vec<usize> = probabilities
        .iter()
        .map(|row| {
            (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap()
        })
        .collect();
    assert_eq!(
        predicted,
        data.labels,
        "train accuracy must be 100%; history {:?}",
        outcome.history.last()
    );

    // The audio path (decode + preprocess + extract inside the classifier) agrees exactly.
    let audio = ser_audio::decode_file(&clips[0].path).unwrap().audio;
    assert_eq!(classifier.predict_audio(&audio).unwrap(), probabilities[0]);
}
