//! The experiment files shipped in `experiments/` parse and resolve to valid run
//! configurations, so the commands in README run as written.

use std::path::PathBuf;

use ser_experiment::ExperimentConfig;
use ser_model::Architecture;

fn experiment_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_experiment_file_loads_with_its_run_configuration() {
    let files = experiment_files();
    assert!(
        files.len() >= 10,
        "experiments/ holds {} files",
        files.len()
    );
    for path in files {
        let config = ExperimentConfig::load(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let run = config
            .run_config()
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(!config.architectures(&run).is_empty(), "{}", path.display());
    }
}

#[test]
fn the_ensemble_experiment_keeps_the_default_recipe_for_the_mlp() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let ensemble = ExperimentConfig::load(&dir.join("ravdess-actors-ensemble.toml")).unwrap();
    let single = ExperimentConfig::load(&dir.join("ravdess-actors.toml")).unwrap();
    assert!(ensemble.ensemble);
    let (ensemble_run, single_run) = (ensemble.run_config().unwrap(), single.run_config().unwrap());
    assert_eq!(
        ensemble.architectures(&ensemble_run),
        vec![Architecture::Mlp, Architecture::Cnn1d]
    );
    // The same MLP as the default model, but for the calibration folds it leaves out.
    assert_eq!(ensemble_run.features, single_run.features);
    assert_eq!(ensemble_run.model.mlp, single_run.model.mlp);
    assert_eq!(
        ensemble_run.model.speaker_normalization,
        single_run.model.speaker_normalization
    );
    assert_eq!(ensemble_run.training.augment, single_run.training.augment);
    assert_eq!(ensemble_run.training.epochs, single_run.training.epochs);
    assert_eq!(ensemble_run.training.calibration_folds, 0);
}
