//! A whole experiment on 28 real TESS clips with a tiny model and one epoch: every artefact
//! is written and the report holds the runs table.

use std::path::{Path, PathBuf};

use ser_data::Emotion;
use ser_experiment::{
    ExperimentConfig, ExperimentOptions, REPORT_FILE, SUMMARY_FILE, geometric_mean_predictions,
    run_experiment,
};
use ser_model::{Classifier, SilentProgress};

const WORDS: [&str; 2] = ["back", "bar"];

/// A network small enough for one epoch in a blink, on any features.
const TINY_NETWORK: &str = r#"
    [model]
    architecture = "mlp"
    frames = 32
    [model.mlp]
    hidden = [16]
    dropout = 0.0

    [training]
    epochs = 1
    batch_size = 8
"#;

/// The TESS file `<speaker>_<word>_<emotion code>.flac`, in whichever folder it is.
fn find_clip(speaker: &str, word: &str, code: &str) -> PathBuf {
    let name = format!("{speaker}_{word}_{code}.flac");
    let tess = ser_data::default_tess_dir();
    std::fs::read_dir(&tess)
        .unwrap_or_else(|error| panic!("{}: {error}", tess.display()))
        .map(|entry| entry.unwrap().path().join(&name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("TESS clip {name} not found under {}", tess.display()))
}

/// A manifest `name` of 2 words x 7 emotions x `speakers` of the real corpus.
fn write_manifest(dir: &Path, name: &str, speakers: &[&str]) -> PathBuf {
    let mut csv = String::from("path,label,speaker\n");
    for &speaker in speakers {
        for emotion in Emotion::ALL {
            let code = if emotion == Emotion::PleasantSurprise {
                "ps"
            } else {
                emotion.as_str()
            };
            for word in WORDS {
                let clip = find_clip(speaker, word, code);
                csv.push_str(&format!(
                    "{},{},{speaker}\n",
                    clip.display(),
                    emotion.as_str()
                ));
            }
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn two_fold_experiment_writes_every_artefact_and_the_report_table() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), "manifest.csv", &["OAF", "YAF"]);
    let config_path = dir.path().join("tiny.toml");
    std::fs::write(
        &config_path,
        r#"
        name = "tiny TESS"
        corpus = "manifest"
        data = "manifest.csv"
        validation_fraction = 0.0

        [protocol]
        kind = "kfold"
        k = 2
        "#
        .to_owned()
            + TINY_NETWORK,
    )
    .unwrap();
    let config = ExperimentConfig::load(&config_path).unwrap();
    assert_eq!(config.data.as_deref(), Some(manifest.as_path()));
    let out = dir.path().join("out");
    let options = ExperimentOptions {
        out_dir: out.clone(),
        cache_dir: Some(dir.path().join("cache")),
        command: Some("ser experiment tiny.toml --out out".into()),
        ..ExperimentOptions::default()
    };
    let summary = run_experiment(&config, &options, &SilentProgress).unwrap();

    assert_eq!(summary.runs.len(), 2);
    assert_eq!(summary.models.len(), 1);
    assert_eq!(summary.models[0].model, "mlp");
    for run in &summary.runs {
        assert_eq!(run.test_clips, 14, "each fold tests half of the 28 clips");
        assert_eq!(run.report.total(), 14);
        let run_dir = out.join(&run.dir);
        for file in [
            "split.json",
            "metrics.jsonl",
            "model.serb",
            "metrics.json",
            "predictions.csv",
            "confusion_matrix.png",
            "confusion_matrix.svg",
            "training_curves.png",
            "training_curves.svg",
            "report.md",
        ] {
            assert!(
                run_dir.join(file).is_file(),
                "{} missing",
                run_dir.join(file).display()
            );
        }
        let predictions = std::fs::read_to_string(run_dir.join("predictions.csv")).unwrap();
        assert_eq!(
            predictions.lines().count(),
            15,
            "header and one row per test clip"
        );
        // The saved model reproduces the run's accuracy.
        let classifier = Classifier::load(&run_dir.join("model.serb")).unwrap();
        assert_eq!(classifier.labels().len(), 7);
    }
    let pooled = &summary.models[0].pooled;
    assert_eq!(
        pooled.total(),
        28,
        "the folds together test every clip once"
    );
    for file in [
        "mlp/confusion_matrix.png",
        "mlp/confusion_matrix.svg",
        SUMMARY_FILE,
        "mlp/run.toml",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }

    let report = std::fs::read_to_string(out.join(REPORT_FILE)).unwrap();
    assert!(report.starts_with("# tiny TESS\n"), "{report}");
    assert!(
        report.contains("| mlp | 2 |"),
        "summary row missing:\n{report}"
    );
    assert!(
        report.contains("| fold 1/2 |"),
        "run row missing:\n{report}"
    );
    assert!(
        report.contains("| fold 2/2 |"),
        "run row missing:\n{report}"
    );
    assert!(
        report.contains("| mean ± std |"),
        "aggregate row missing:\n{report}"
    );
    assert!(report.contains("![mlp pooled confusion matrix](mlp/confusion_matrix.png)"));
    assert!(report.contains("ser experiment tiny.toml --out out"));
    let first_accuracy = format!("| fold 1/2 | {:.3} |", summary.runs[0].report.accuracy);
    assert!(
        report.contains(&first_accuracy),
        "{first_accuracy} not in:\n{report}"
    );

    let summary_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(SUMMARY_FILE)).unwrap()).unwrap();
    assert_eq!(summary_json["runs"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_missing_corpus_fails_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = ExperimentConfig::from_toml(
        "name = \"x\"\ncorpus = \"manifest\"\ndata = \"nowhere.csv\"\n[protocol]\nkind = \"kfold\"\nk = 2\n",
        dir.path(),
        Path::new("x.toml"),
    )
    .unwrap();
    let options = ExperimentOptions {
        out_dir: dir.path().join("out"),
        ..ExperimentOptions::default()
    };
    let error = run_experiment(&config, &options, &SilentProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("nowhere.csv"), "{error}");
}

/// A tiny experiment of a 16-unit MLP over manifests of TESS speakers: `data` names its
/// corpora, `protocol` and `training` are added to those sections; its configuration, options
/// (output and feature cache in `dir`) and summary.
fn tiny_experiment(
    dir: &Path,
    data: &str,
    protocol: &str,
    training: &str,
) -> (
    ExperimentConfig,
    ExperimentOptions,
    ser_experiment::ExperimentSummary,
) {
    let config = ExperimentConfig::from_toml(
        &format!(
            r#"
        name = "tiny"
        {data}
        validation_fraction = 0.0
        [protocol]
        {protocol}
        [model]
        architecture = "mlp"
        [model.mlp]
        hidden = [16]
        [training]
        batch_size = 8
        {training}
        "#
        ),
        dir,
        Path::new("tiny.toml"),
    )
    .unwrap();
    let options = ExperimentOptions {
        out_dir: dir.join("out"),
        cache_dir: Some(dir.join("cache")),
        ..ExperimentOptions::default()
    };
    let summary = run_experiment(&config, &options, &SilentProgress).unwrap();
    (config, options, summary)
}

/// A tiny cross-corpus experiment, trained on TESS's older speaker and tested on the younger,
/// with `protocol` added to its `[protocol]`; its summary and output folder.
fn tiny_cross_corpus(dir: &Path, protocol: &str) -> (ser_experiment::ExperimentSummary, PathBuf) {
    write_manifest(dir, "older.csv", &["OAF"]);
    write_manifest(dir, "younger.csv", &["YAF"]);
    let (_, options, summary) = tiny_experiment(
        dir,
        "corpus = \"manifest\"\ndata = \"older.csv\"",
        &format!(
            "kind = \"cross_corpus\"\ntest_corpus = \"manifest\"\ntest_data = \"younger.csv\"\n{protocol}"
        ),
        "epochs = 1",
    );
    (summary, options.out_dir)
}

#[test]
fn cross_corpus_trains_on_one_corpus_and_tests_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, out) = tiny_cross_corpus(dir.path(), "");
    assert_eq!(summary.runs.len(), 1);
    let run = &summary.runs[0];
    assert_eq!(
        run.test_clips, 14,
        "every clip of the test corpus, none of the training one"
    );
    assert_eq!(run.report.total(), 14);
    let predictions = std::fs::read_to_string(out.join(&run.dir).join("predictions.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 15);
    assert!(
        predictions.lines().skip(1).all(|row| row.contains("YAF_")),
        "only the test corpus is predicted:\n{predictions}"
    );
}

/// `seeds`: one cross-corpus run per training seed, each trained with it.
#[test]
fn cross_corpus_runs_once_per_training_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, out) = tiny_cross_corpus(dir.path(), "seeds = [3, 4]");
    let names: Vec<_> = summary.runs.iter().map(|run| run.name.as_str()).collect();
    assert_eq!(names, ["test manifest, seed 3", "test manifest, seed 4"]);
    assert!(summary.runs.iter().all(|run| run.test_clips == 14));
    assert_eq!(summary.models[0].runs, 2);
    let predictions: Vec<_> = summary
        .runs
        .iter()
        .map(|run| std::fs::read_to_string(out.join(&run.dir).join("predictions.csv")).unwrap())
        .collect();
    assert_ne!(
        predictions[0], predictions[1],
        "each seed trains its own model"
    );
}

#[test]
fn speaker_folds_run_once_per_training_seed() {
    let dir = tempfile::tempdir().unwrap();
    write_manifest(dir.path(), "both.csv", &["OAF", "YAF"]);
    let (_, options, summary) = tiny_experiment(
        dir.path(),
        "corpus = \"manifest\"\ndata = \"both.csv\"",
        "kind = \"speaker_folds\"\nfolds = [[\"YAF\"], [\"OAF\"]]\nseeds = [3, 4]",
        "epochs = 1",
    );
    let names: Vec<_> = summary.runs.iter().map(|run| run.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "fold 1: YAF, seed 3",
            "fold 2: OAF, seed 3",
            "fold 1: YAF, seed 4",
            "fold 2: OAF, seed 4"
        ]
    );
    assert!(summary.runs.iter().all(|run| run.test_clips == 14));
    assert_eq!(summary.models[0].runs, 4);
    let predictions = |run: usize| {
        std::fs::read_to_string(
            options
                .out_dir
                .join(&summary.runs[run].dir)
                .join("predictions.csv"),
        )
        .unwrap()
    };
    assert_ne!(
        predictions(0),
        predictions(2),
        "each seed trains its own model"
    );
}

#[test]
fn speaker_folds_over_two_corpora_with_out_of_fold_calibration() {
    let dir = tempfile::tempdir().unwrap();
    write_manifest(dir.path(), "older.csv", &["OAF"]);
    write_manifest(dir.path(), "younger.csv", &["YAF"]);
    let (config, options, summary) = tiny_experiment(
        dir.path(),
        r#"corpora = [{ kind = "manifest", data = "older.csv" }, { kind = "manifest", data = "younger.csv" }]"#,
        "kind = \"speaker_folds\"\nfolds = [[\"YAF\"]]",
        "epochs = 2\ncalibration_folds = 2",
    );
    assert_eq!(summary.runs.len(), 1);
    let run = &summary.runs[0];
    assert_eq!(run.name, "fold 1: YAF");
    assert_eq!(run.test_clips, 14, "every YAF clip, none of OAF");
    let split =
        std::fs::read_to_string(dir.path().join("out").join(&run.dir).join("split.json")).unwrap();
    let split: serde_json::Value = serde_json::from_str(&split).unwrap();
    let train = split["train"].as_array().unwrap();
    assert_eq!(train.len(), 14, "OAF trains: {split}");
    assert!(
        train
            .iter()
            .all(|path| path.as_str().unwrap().contains("/OAF_"))
    );
    let classifier =
        Classifier::load(&dir.path().join("out").join(&run.dir).join("model.serb")).unwrap();
    assert_eq!(classifier.info().corpus, "manifest+manifest");
    let calibration = classifier.info().calibration.clone().expect("calibrated");
    // One training speaker: the 14 OAF clips are dealt into 2 folds by emotion.
    assert_eq!(calibration.clips, 14);
    assert!(
        calibration.fitted_on.contains("2 stratified folds"),
        "{}",
        calibration.fitted_on
    );
    assert!(calibration.temperature.is_finite() && calibration.temperature > 0.0);

    // The calibration folds train at once on separate threads; the temperature repeats
    // exactly all the same.
    let model_in = |config: &ExperimentConfig, out: &str| {
        let options = ExperimentOptions {
            out_dir: dir.path().join(out),
            ..options.clone()
        };
        let summary = run_experiment(config, &options, &SilentProgress).unwrap();
        Classifier::load(
            &options
                .out_dir
                .join(&summary.runs[0].dir)
                .join("model.serb"),
        )
        .unwrap()
    };
    let classifier_again = model_in(&config, "again");
    let temperature_again = classifier_again
        .info()
        .calibration
        .clone()
        .unwrap()
        .temperature;
    assert_eq!(
        temperature_again.to_bits(),
        calibration.temperature.to_bits()
    );

    // The final model trains alongside the calibration models, and is the model an
    // uncalibrated training gives.
    let uncalibrated = ExperimentConfig {
        training: config
            .training
            .clone()
            .map(|training| ser_model::TrainConfig {
                calibration_folds: 0,
                ..training
            }),
        ..config.clone()
    };
    let classifier_plain = model_in(&uncalibrated, "plain");
    assert!(classifier_plain.info().calibration.is_none());
    assert_eq!(classifier_plain.normalizer(), classifier.normalizer());
    let loss = |classifier: &Classifier| classifier.info().metrics.train_loss;
    assert!(loss(&classifier).is_finite());
    assert_eq!(
        loss(&classifier_plain).to_bits(),
        loss(&classifier).to_bits()
    );
}

#[test]
fn one_speaker_in_two_corpora_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let older = write_manifest(dir.path(), "older.csv", &["OAF"]);
    let sources: Vec<ser_data::CorpusSource> = [
        format!("manifest={}", older.display()),
        format!("manifest={}", older.display()),
    ]
    .iter()
    .map(|text| text.parse().unwrap())
    .collect();
    let error = ser_data::load_corpora(&sources).unwrap_err().to_string();
    assert!(error.contains("speaker 'OAF'"), "{error}");
}

#[test]
fn an_ensemble_of_two_architectures_scores_the_geometric_mean_of_their_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_manifest(dir.path(), "manifest.csv", &["OAF", "YAF"]);
    let experiment = |ensemble: &str, architectures: &str| {
        ExperimentConfig::from_toml(
            &format!(
                r#"
                name = "tiny ensemble"
                corpus = "manifest"
                data = "manifest.csv"
                validation_fraction = 0.0
                architectures = {architectures}
                ensemble = {ensemble}
                [protocol]
                kind = "kfold"
                k = 2
                [model]
                frames = 16
                [model.mlp]
                hidden = [16]
                [model.cnn1d]
                channels = [8]
                [training]
                epochs = 2
                batch_size = 8
                "#
            ),
            dir.path(),
            Path::new("ensemble.toml"),
        )
        .unwrap()
    };
    let out = dir.path().join("out");
    let options = ExperimentOptions {
        out_dir: out.clone(),
        cache_dir: Some(dir.path().join("cache")),
        ..ExperimentOptions::default()
    };
    let error = run_experiment(&experiment("true", "[\"mlp\"]"), &options, &SilentProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("at least two models"), "{error}");
    assert!(
        !out.exists(),
        "refused before anything is trained or written"
    );

    let summary = run_experiment(
        &experiment("true", "[\"mlp\", \"cnn1d\"]"),
        &options,
        &SilentProgress,
    )
    .unwrap();
    let ensemble = summary.ensemble.as_ref().expect("the ensemble is scored");
    assert_eq!(ensemble.title(), "ensemble (mlp + cnn1d)");
    assert_eq!(ensemble.runs.len(), 2);
    // predictions.csv: path,truth,predicted,correct,p_<label>... with 6 decimals.
    let read_rows = |run_dir: &Path| -> Vec<(String, String, Vec<f64>)> {
        let text = std::fs::read_to_string(out.join(run_dir).join("predictions.csv")).unwrap();
        text.lines()
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                let probabilities = fields[4..].iter().map(|p| p.parse().unwrap()).collect();
                (fields[0].to_string(), fields[1].to_string(), probabilities)
            })
            .collect()
    };
    let labels = &ensemble.pooled.labels;
    for (index, run) in ensemble.runs.iter().enumerate() {
        let mlp = read_rows(&summary.runs[index].dir);
        let cnn = read_rows(&summary.runs[index + 2].dir);
        let combined = read_rows(&run.dir);
        assert_eq!(combined.len(), 14);
        let mut correct = 0;
        for ((path, truth, p), (mlp_path, _, mlp_p)) in combined.iter().zip(&mlp) {
            assert_eq!(path, mlp_path, "the first member's order");
            let (_, _, cnn_p) = cnn.iter().find(|row| &row.0 == path).unwrap();
            let geometric: Vec<f64> = mlp_p
                .iter()
                .zip(cnn_p)
                .map(|(a, b)| (a.max(1e-12) * b.max(1e-12)).sqrt())
                .collect();
            let total: f64 = geometric.iter().sum();
            for (value, g) in p.iter().zip(&geometric) {
                assert!(
                    (value - g / total).abs() < 2e-5,
                    "{path}: {p:?} vs {geometric:?}"
                );
            }
            let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            correct += usize::from(&labels[best] == truth);
        }
        assert!(
            (run.report.accuracy - correct as f64 / 14.0).abs() < 1e-9,
            "accuracy {} from {correct} of 14",
            run.report.accuracy
        );
    }
    let report = std::fs::read_to_string(out.join(REPORT_FILE)).unwrap();
    assert!(
        report.contains("| ensemble (mlp + cnn1d) | 2 |"),
        "ensemble row missing:\n{report}"
    );
    assert!(out.join("ensemble/confusion_matrix.png").is_file());
}

#[test]
fn members_of_different_recipes_run_side_by_side_and_together() {
    let dir = tempfile::tempdir().unwrap();
    write_manifest(dir.path(), "manifest.csv", &["OAF", "YAF"]);
    // Two recipes: an MLP on 8 MFCCs, and a cnn1d on 6 MFCCs of the speech frames.
    std::fs::create_dir(dir.path().join("recipes")).unwrap();
    let mlp = "[features]\nkind = \"mfcc\"\n[features.mfcc]\nn_mfcc = 8\n\
               [model]\narchitecture = \"mlp\"\n[model.mlp]\nhidden = [16]\n\
               [training]\nepochs = 1\nbatch_size = 8\n";
    let cnn = "[features]\nkind = \"mfcc\"\n[features.mfcc]\nn_mfcc = 6\n\
               [features.silence]\ntop_db = 30.0\n\
               [model]\narchitecture = \"cnn1d\"\nframes = 16\n[model.cnn1d]\nchannels = [8]\n\
               [training]\nepochs = 1\nbatch_size = 8\n";
    std::fs::write(dir.path().join("recipes/small-mlp.toml"), mlp).unwrap();
    std::fs::write(dir.path().join("recipes/speech-cnn.toml"), cnn).unwrap();
    let experiment = |extra: &str| {
        ExperimentConfig::from_toml(
            &format!(
                r#"
                name = "tiny members"
                corpus = "manifest"
                data = "manifest.csv"
                validation_fraction = 0.0
                members = ["recipes/small-mlp.toml", "recipes/speech-cnn.toml"]
                ensemble = true
                {extra}
                [protocol]
                kind = "kfold"
                k = 2
                "#
            ),
            dir.path(),
            Path::new("members.toml"),
        )
    };
    for (extra, refused) in [
        ("run = \"recipes/small-mlp.toml\"", "run"),
        ("architectures = [\"mlp\"]", "architectures"),
        ("[training]\nepochs = 3", "[training]"),
    ] {
        let error = experiment(extra).unwrap_err().to_string();
        assert!(
            error.contains(&format!("{refused} cannot go with them")),
            "{error}"
        );
    }
    let config = experiment("").unwrap();
    let out = dir.path().join("out");
    let options = ExperimentOptions {
        out_dir: out.clone(),
        cache_dir: Some(dir.path().join("cache")),
        ..ExperimentOptions::default()
    };
    let replaced = ExperimentOptions {
        architectures: vec![ser_model::Architecture::Mlp],
        ..options.clone()
    };
    let error = run_experiment(&config, &replaced, &SilentProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("members"), "{error}");

    let summary = run_experiment(&config, &options, &SilentProgress).unwrap();
    let names: Vec<&str> = summary.models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["small-mlp", "speech-cnn"]);
    assert_eq!(summary.runs.len(), 4);
    for (member, text) in [("small-mlp", mlp), ("speech-cnn", cnn)] {
        let recipe = ser_model::RunConfig::from_toml(text).unwrap();
        let saved = ser_model::RunConfig::load(&out.join(member).join("run.toml")).unwrap();
        assert_eq!(saved, recipe, "{member}'s run.toml is its recipe");
        for run in summary.runs.iter().filter(|run| run.model == member) {
            assert!(run.dir.starts_with(member), "{}", run.dir.display());
            assert_eq!(run.architecture, recipe.model.architecture);
            // Each member's model reads its own features.
            let model = Classifier::load(&out.join(&run.dir).join("model.serb")).unwrap();
            assert_eq!(model.feature_config(), &recipe.features);
        }
    }
    let ensemble = summary.ensemble.as_ref().expect("the ensemble is scored");
    assert_eq!(ensemble.title(), "ensemble (small-mlp + speech-cnn)");
    assert_eq!(ensemble.runs.len(), 2);
    assert_eq!(ensemble.pooled.total(), 28);
    let report = std::fs::read_to_string(out.join(REPORT_FILE)).unwrap();
    for row in [
        "| small-mlp | 8 MFCC (8 rows per frame) |",
        "| speech-cnn | 6 MFCC, frames within 30 dB of the loudest (6 rows per frame) |",
        "| small-mlp | 2 |",
        "| ensemble (small-mlp + speech-cnn) | 2 |",
    ] {
        assert!(report.contains(row), "{row} not in:\n{report}");
    }

    // Each clip alone, a twin MLP in the first member's place: every model runs, and the
    // ensemble is the twin's and the cnn1d's, as `ser model ensemble --lone-clip` judges.
    let twin = mlp.replace("hidden = [16]", "hidden = [8]");
    std::fs::write(dir.path().join("recipes/twin-mlp.toml"), twin).unwrap();
    let config = experiment(
        "test_clips = \"alone\"\nlone_clip = [{ member = \"recipes/twin-mlp.toml\", \
         replaces = \"recipes/small-mlp.toml\" }]",
    )
    .unwrap();
    let alone = ExperimentOptions {
        out_dir: dir.path().join("alone"),
        ..options.clone()
    };
    let summary = run_experiment(&config, &alone, &SilentProgress).unwrap();
    let names: Vec<&str> = summary.models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["small-mlp", "speech-cnn", "twin-mlp"]);
    let ensemble = summary.ensemble.as_ref().expect("the ensemble is scored");
    assert_eq!(ensemble.title(), "ensemble (twin-mlp + speech-cnn)");
    let labels = &ensemble.pooled.labels;
    for run in &ensemble.runs {
        let of = |model: &str| {
            summary
                .runs
                .iter()
                .find(|member| member.model == model && member.name == run.name)
                .map(|member| member.predictions.as_slice())
                .unwrap()
        };
        let expected =
            geometric_mean_predictions(labels, &[of("twin-mlp"), of("speech-cnn")]).unwrap();
        assert_eq!(run.predictions, expected, "{}", run.name);
    }
}

/// The `.feat` entries under a feature cache folder.
fn cache_entries(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|sub| {
            std::fs::read_dir(sub.unwrap().path())
                .unwrap()
                .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("feat".as_ref()))
                .count()
        })
        .sum()
}

/// A clip's degraded copy depends on the seed and the speaker's and file's names only, so
/// with a feature cache it is analysed once per experiment: not again in the other folds
/// (4 folds: every clip in three training sets), nor for the second model on the same
/// features, nor on a rerun, which repeats the first run's predictions exactly.
#[test]
fn degraded_copies_are_analysed_once_per_experiment() {
    let dir = tempfile::tempdir().unwrap();
    write_manifest(dir.path(), "manifest.csv", &["OAF", "YAF"]);
    let config_path = dir.path().join("copies.toml");
    std::fs::write(
        &config_path,
        r#"
        name = "tiny TESS with degraded copies"
        corpus = "manifest"
        data = "manifest.csv"
        validation_fraction = 0.0
        architectures = ["mlp", "cnn1d"]

        [protocol]
        kind = "kfold"
        k = 4
        "#
        .to_owned()
            + TINY_NETWORK
            + r#"
        [training.augment]
        copies = 2
        speed = 0.1
        noise_snr_db = [10.0, 40.0]
        "#,
    )
    .unwrap();
    let config = ExperimentConfig::load(&config_path).unwrap();
    let cache = dir.path().join("cache");
    let run = |out: &str| {
        let options = ExperimentOptions {
            out_dir: dir.path().join(out),
            cache_dir: Some(cache.clone()),
            ..ExperimentOptions::default()
        };
        run_experiment(&config, &options, &SilentProgress).unwrap()
    };
    let first = run("first");
    assert_eq!(first.runs.len(), 8, "4 folds x 2 models");
    assert_eq!(
        cache_entries(&cache),
        28 * 3,
        "each of the 28 clips as it is and its 2 copies, once"
    );
    let second = run("second");
    assert_eq!(cache_entries(&cache), 28 * 3);
    let predictions = |out: &str, run: &ser_experiment::RunResult| {
        std::fs::read_to_string(dir.path().join(out).join(&run.dir).join("predictions.csv"))
            .unwrap()
    };
    for (a, b) in first.runs.iter().zip(&second.runs) {
        assert_eq!(
            predictions("first", a),
            predictions("second", b),
            "{}",
            a.dir.display()
        );
    }
}
