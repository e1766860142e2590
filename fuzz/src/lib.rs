//! Helpers shared by the fuzz targets in `fuzz_targets/` (see `tools/fuzz.sh`).
//!
//! libFuzzer's Rust runtime installs a panic hook that aborts, so a panic anywhere (even one
//! that `ser_audio::isolate` would catch and report as "internal error") is a crash here.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ser_audio::{Audio, MAX_SAMPLE_MAGNITUDE};
use ser_features::FeatureMatrix;
use ser_model::{FitSetup, LabelledFeatures, ModelConfig, RunConfig, TrainConfig};

/// A scratch folder of this fuzzing process (`$TMPDIR/fuzz-scratch-<pid>`), for targets whose
/// API reads files.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fuzz-scratch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

/// Decoded audio must be what the decoder promises: samples, all finite and within
/// `MAX_SAMPLE_MAGNITUDE`, at a rate inside the accepted range.
pub fn check_audio(audio: &Audio) {
    assert!(!audio.samples.is_empty(), "Ok with zero samples");
    assert!(
        (ser_audio::MIN_SAMPLE_RATE..=ser_audio::MAX_SAMPLE_RATE).contains(&audio.sample_rate),
        "Ok with sample rate {}",
        audio.sample_rate
    );
    if let Some(bad) = audio
        .samples
        .iter()
        .find(|s| !s.is_finite() || s.abs() > MAX_SAMPLE_MAGNITUDE)
    {
        panic!("decoder let through the sample {bad}");
    }
}

/// A 440 Hz tone with a slow vibrato: enough for the speech detector and every feature.
pub fn tone(seconds: f64, sample_rate: u32) -> Audio {
    ser_predict::testing::voice(220.0, seconds, sample_rate)
}

/// `per_class` examples of each of `classes` classes (class c has a bump on feature c plus
/// deterministic noise), as in ser-model's own tests.
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
            .map(|index| noise() + if index / frames == class { 2.0 } else { 0.0 })
            .collect();
        data.matrices
            .push(FeatureMatrix::new(n_features, frames, values));
        data.labels.push(class);
        data.speakers.push(example % 2);
        data.corpora.push(0);
    }
    data
}

/// A tiny cnn1d run (3 classes, 4 features x 16 frames) writing to `run_dir`.
pub fn tiny_setup(epochs: usize, run_dir: PathBuf, resume: bool) -> FitSetup {
    let run = RunConfig::from_toml(
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
        features: ser_features::FeatureConfig::default(),
        training: TrainConfig {
            epochs,
            batch_size: 32,
            learning_rate: 0.01,
            patience: 0,
            seed: 7,
            ..TrainConfig::default()
        },
        labels: (0..3).map(|class| format!("class{class}")).collect(),
        corpus: "synthetic".into(),
        split: "none".into(),
        run_dir: Some(run_dir),
        calibration: None,
        training_data: None,
        resume,
    }
}

/// The training data of [`tiny_setup`].
pub fn tiny_data() -> &'static LabelledFeatures {
    static DATA: OnceLock<LabelledFeatures> = OnceLock::new();
    DATA.get_or_init(|| synthetic(3, 12, 4, 20))
}

/// With `SER_FUZZ_WRITE_SEEDS=<dir>`, writes a real checkpoint (`tiny.serc`) and model bundle
/// (`tiny.serb`) of a 2-epoch tiny run into `dir`, for the checkpoint and bundle corpora.
pub fn write_model_seeds_if_asked() {
    let Some(dir) = std::env::var_os("SER_FUZZ_WRITE_SEEDS").map(PathBuf::from) else {
        return;
    };
    let run_dir = scratch_dir().join("seed-run");
    let _ = std::fs::remove_dir_all(&run_dir);
    let outcome = ser_model::fit(
        &tiny_setup(2, run_dir.clone(), false),
        tiny_data(),
        Some(tiny_data()),
        &ser_model::SilentProgress,
    )
    .expect("tiny run");
    std::fs::create_dir_all(&dir).expect("seed folder");
    std::fs::copy(
        run_dir.join(ser_model::CHECKPOINT_FILE),
        dir.join("tiny.serc"),
    )
    .expect("checkpoint seed");
    std::fs::write(dir.join("tiny.serb"), &outcome.bundle).expect("bundle seed");
}
