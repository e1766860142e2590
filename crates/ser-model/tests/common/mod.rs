//! Shared helpers: small synthetic feature sets and fit setups.

#![allow(dead_code)]

use std::path::PathBuf;

use ser_features::{FeatureConfig, FeatureMatrix};
use ser_model::{FitSetup, LabelledFeatures, ModelConfig, RunConfig, TrainConfig};

/// `per_class` examples of each of `classes` classes: class c has a bump on feature c, plus
/// deterministic pseudo-noise, so a small network can tell them apart.
pub fn synthetic(
    classes: usize,
    per_class: usize,
    n_features: usize,
    frames: usize,
) -> LabelledFeatures {
    let mut state = 12345u64;
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let mut data = LabelledFeatures::default();
    for example in 0..classes * per_class {
        let class = example % classes;
        let values = (0..n_features * frames)
            .map(|index| {
                let feature = index / frames;
                noise() + if feature == class { 2.0 } else { 0.0 }
            })
            .collect();
        data.matrices
            .push(FeatureMatrix::new(n_features, frames, values));
        data.labels.push(class);
        // Two synthetic speakers, alternating.
        data.speakers.push(example % 2);
        data.corpora.push(0);
    }
    data
}

/// A tiny cnn1d run on `n_features` x 16 inputs with batch norm and dropout (deterministic
/// given the seed).
pub fn tiny_setup(
    classes: usize,
    epochs: usize,
    run_dir: Option<PathBuf>,
    resume: bool,
) -> FitSetup {
    let run: RunConfig = RunConfig::from_toml(
        r#"
        [model]
        architecture = "cnn1d"
        frames = 16
        [model.cnn1d]
        channels = [8, 8]
        kernel_sizes = [3]
        dropout = 0.3
        "#,
    )
    .expect("valid run file");
    FitSetup {
        model: ModelConfig { ..run.model },
        features: FeatureConfig::default(),
        training: TrainConfig {
            epochs,
            batch_size: 32,
            learning_rate: 0.01,
            patience: 0,
            seed: 7,
            ..TrainConfig::default()
        },
        labels: (0..classes).map(|class| format!("class{class}")).collect(),
        corpus: "synthetic".into(),
        split: "none".into(),
        run_dir,
        calibration: None,
        training_data: None,
        resume,
    }
}

/// A small MLP (one hidden layer of 16, no dropout) over mean and std, with speaker
/// normalisation (prior worth 2 clips) switched by `speaker_normalization`, scaling by `scale`.
pub fn small_mlp(speaker_normalization: bool, scale: bool) -> ModelConfig {
    RunConfig::from_toml(&format!(
        r#"
        [model]
        architecture = "mlp"
        [model.mlp]
        hidden = [16]
        dropout = 0.0
        [model.speaker_normalization]
        enabled = {speaker_normalization}
        prior_clips = 2.0
        scale = {scale}
        "#
    ))
    .expect("valid run file")
    .model
}
