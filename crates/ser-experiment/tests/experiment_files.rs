//! The experiment files shipped in `experiments/` parse and resolve to valid run
//! configurations, so the commands in README run as written.

use std::path::PathBuf;

use ser_experiment::ExperimentConfig;
use ser_model::{Architecture, RunConfig};

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
        let models = config
            .models(&[])
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(!models.is_empty(), "{}", path.display());
    }
}

/// The embedded model's recipe: the MLP of models/default.toml and the cnn1d of
/// models/default-cnn1d.toml.
fn default_members() -> [RunConfig; 2] {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    ["default.toml", "default-cnn1d.toml"].map(|file| RunConfig::load(&dir.join(file)).unwrap())
}

#[test]
fn every_ensemble_experiment_measures_the_embedded_models_recipe() {
    let members = default_members();
    assert_eq!(members[0].training.augment.pitch_semitones, Some(3.0));
    assert_eq!(members[1].training.augment.pitch_semitones, None);
    assert!(members[0].training.corpus_weighting && !members[1].training.corpus_weighting);
    let ensembles: Vec<(PathBuf, ExperimentConfig)> = experiment_files()
        .into_iter()
        .map(|path| (path.clone(), ExperimentConfig::load(&path).unwrap()))
        .filter(|(_, config)| config.ensemble && config.members.is_empty())
        .collect();
    assert!(
        ensembles.len() >= 5,
        "{} ensemble experiments",
        ensembles.len()
    );
    for (path, config) in ensembles {
        let run = config.run_config().unwrap();
        let architectures: Vec<Architecture> = members
            .iter()
            .map(|member| member.model.architecture)
            .collect();
        assert_eq!(
            config.architectures(&run),
            architectures,
            "{}",
            path.display()
        );
        for member in &members {
            let mut expected = member.clone();
            // Most leave the calibration folds out (a temperature does not move the winning
            // emotion of one model; cnn1d would train several times more).
            expected.training.calibration_folds = run.training.calibration_folds;
            // The embedded MLP's copies are also pitch-shifted (README "Pitch shifts in the
            // copies"); the cnn1d gains nothing from it (two seeds) and is embedded without it,
            // so these files train both networks without it, as they were measured.
            expected.training.augment.pitch_semitones = None;
            // Likewise its corpus weighting (README "Weighting every corpus the same"): the
            // cnn1ds were not retrained with it.
            expected.training.corpus_weighting = false;
            let mut measured = run.clone();
            measured.model.architecture = member.model.architecture;
            assert_eq!(measured.features, expected.features, "{}", path.display());
            assert_eq!(measured.training, expected.training, "{}", path.display());
            assert_eq!(measured.model.ensemble, expected.model.ensemble);
            match member.model.architecture {
                Architecture::Mlp => assert_eq!(measured.model.mlp, expected.model.mlp),
                _ => {
                    assert_eq!(measured.model.frames, expected.model.frames);
                    assert_eq!(measured.model.cnn1d, expected.model.cnn1d);
                }
            }
            assert_eq!(
                measured.model.speaker_normalization,
                expected.model.speaker_normalization,
                "{}",
                path.display()
            );
        }
    }
}

/// The embedded ensemble's speech-frames cnn1d is the embedded cnn1d's network and training on
/// the speech-frames MLP's features: what `ser experiment <X>-ensemble.toml --run
/// models/speech-frames.toml` measures (README "Voices it never heard").
#[test]
fn the_speech_frames_cnn1d_is_the_cnn1d_recipe_on_the_speech_frames() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let [cnn1d, speech_mlp, speech_cnn1d] = [
        "default-cnn1d.toml",
        "speech-frames.toml",
        "speech-frames-cnn1d.toml",
    ]
    .map(|file| RunConfig::load(&dir.join(file)).unwrap());
    assert_eq!(speech_cnn1d.features, speech_mlp.features);
    assert!(speech_cnn1d.features.silence.is_some());
    assert_eq!(speech_cnn1d.model, cnn1d.model);
    assert_eq!(speech_cnn1d.training, cnn1d.training);
}

/// The 16 kHz models of the earlier embedded ensemble are its speech-frames MLP and every-frame
/// cnn1d with their speech analysed at 16 kHz, nothing else changed (README "Recordings at
/// 16 kHz").
#[test]
fn the_16_khz_models_are_embedded_recipes_at_16_khz() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    for (studio, wideband) in [
        ("speech-frames.toml", "speech-frames-16k.toml"),
        ("default-cnn1d.toml", "default-cnn1d-16k.toml"),
    ] {
        let [studio_run, wideband_run] =
            [studio, wideband].map(|file| RunConfig::load(&dir.join(file)).unwrap());
        assert_eq!(
            studio_run.features.audio.sample_rate,
            Some(22_050),
            "{studio}"
        );
        let mut expected = studio_run.clone();
        expected.features.audio.sample_rate = Some(16_000);
        assert_eq!(
            wideband_run, expected,
            "{wideband} is {studio} but for the rate"
        );
    }
}

/// The experiments of the embedded model's own recipe (`*-default.toml`) list its members, the
/// run files tools/train_default_model.sh trains, each used as it is; the other experiments of
/// several models (the earlier embedded ensemble's) name recipes that exist.
#[test]
fn the_default_recipe_experiment_runs_the_embedded_models_members() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let embedded = [
        "models/whisper-1-block.toml",
        "models/whisper.toml",
        "models/whisper-3-blocks.toml",
    ];
    let script = std::fs::read_to_string(root.join("tools/train_default_model.sh")).unwrap();
    for recipe in embedded {
        assert!(
            script.contains(recipe),
            "{recipe} not trained by the script"
        );
    }
    let with_members: Vec<(PathBuf, ExperimentConfig)> = experiment_files()
        .into_iter()
        .map(|path| (path.clone(), ExperimentConfig::load(&path).unwrap()))
        .filter(|(_, config)| !config.members.is_empty())
        .collect();
    let mut defaults = 0;
    for (path, config) in with_members {
        assert!(config.ensemble, "{}", path.display());
        let models = config.models(&[]).unwrap();
        if !path.to_string_lossy().ends_with("-default.toml") {
            continue;
        }
        defaults += 1;
        assert_eq!(models.len(), embedded.len(), "{}", path.display());
        for (model, recipe) in models.iter().zip(embedded) {
            assert!(
                recipe.ends_with(&format!("/{}.toml", model.name)),
                "{recipe}"
            );
            assert_eq!(
                model.run,
                RunConfig::load(&root.join(recipe)).unwrap(),
                "{recipe}"
            );
        }
    }
    assert_eq!(
        defaults, 7,
        "the experiments of the embedded model's recipe"
    );
}

/// The whisper classifiers of the embedded model differ in the encoder blocks they read,
/// nothing else; each is linear (no hidden layer) with weight decay.
#[test]
fn the_embedded_whisper_classifiers_differ_in_depth_only() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let [one, two, three] = [
        "whisper-1-block.toml",
        "whisper.toml",
        "whisper-3-blocks.toml",
    ]
    .map(|file| RunConfig::load(&dir.join(file)).unwrap());
    let blocks = |run: &RunConfig| run.features.whisper.as_ref().unwrap().blocks;
    assert_eq!(
        (blocks(&one), blocks(&two), blocks(&three)),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!(two.features.audio.sample_rate, Some(16_000));
    assert!(two.model.speaker_normalization.enabled);
    assert!(two.model.mlp.hidden.is_empty());
    assert_eq!(two.training.weight_decay, 0.01);
    for (run, depth) in [(one, 1), (three, 3)] {
        let mut expected = two.clone();
        expected.features.whisper.as_mut().unwrap().blocks = Some(depth);
        assert_eq!(run, expected, "{depth} blocks");
    }
}

/// The lone-clip MLPs of the earlier embedded ensemble are its three MLPs without speaker
/// normalisation, nothing else changed (README "One clip alone").
#[test]
fn the_lone_clip_mlps_are_the_earlier_embedded_mlps_without_speaker_normalisation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (twin, lone_clip) in [
        ("models/default.toml", "models/default-lone-clip.toml"),
        (
            "models/speech-frames.toml",
            "models/speech-frames-lone-clip.toml",
        ),
        (
            "models/speech-frames-16k.toml",
            "models/speech-frames-16k-lone-clip.toml",
        ),
    ] {
        let [twin_run, lone_run] =
            [twin, lone_clip].map(|file| RunConfig::load(&root.join(file)).unwrap());
        assert!(twin_run.model.speaker_normalization.enabled, "{twin}");
        assert!(!lone_run.model.speaker_normalization.enabled, "{lone_clip}");
        let mut expected = twin_run.clone();
        expected.model.speaker_normalization = lone_run.model.speaker_normalization.clone();
        assert_eq!(
            lone_run, expected,
            "{lone_clip} is {twin} but for speaker normalisation"
        );
    }
}
