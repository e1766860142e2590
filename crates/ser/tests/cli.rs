//! The `ser` binary as a user runs it: the README's main command on real TESS files.

use std::path::PathBuf;
use std::process::Command;

fn data_dir() -> PathBuf {
    std::env::var_os("SER_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

fn ser(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ser"))
        .args(args)
        .env_remove("SER_MODEL")
        .output()
        .expect("ser runs")
}

/// Without a bundle, `ser model info` is the built-in model's card.
#[test]
fn model_info_without_a_bundle_describes_the_built_in_model() {
    let output = ser(&["model", "info"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("bundle:        built into ser"), "{text}");
    assert!(
        text.contains("mlp without hidden layers (a linear classifier)"),
        "{text}"
    );
    assert!(text.contains("voices it never heard"), "{text}");
    assert!(text.contains("known limits:"), "{text}");
}

#[test]
fn predict_with_the_embedded_model_names_the_emotion() {
    let clip = data_dir().join("tess-wav-sample/YAF_angry/YAF_germ_angry.wav");
    let output = ser(&["predict", "--format", "jsonl", clip.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let line = String::from_utf8(output.stdout).unwrap();
    let record: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(record["emotion"], "angry", "{record}");
    let probabilities = record["probabilities"].as_object().unwrap();
    assert_eq!(probabilities.len(), 7);
    let sum: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{record}");
}

#[test]
fn a_broken_file_gets_an_error_line_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.wav");
    std::fs::write(&broken, b"RIFF\x10\x00\x00\x00WAVEgarbage").unwrap();
    let good = data_dir().join("tess-wav-sample/OAF_Sad/OAF_back_sad.wav");
    let output = ser(&[
        "predict",
        "--format",
        "jsonl",
        broken.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert!(
        !output.status.success(),
        "a failed input makes the exit code non-zero"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{stdout}");
    assert!(records[0]["error"].as_str().unwrap().contains("broken.wav"));
    assert_eq!(records[1]["emotion"], "sad");
}

#[test]
fn errors_name_their_cause_once() {
    let output = ser(&[
        "eval",
        "--model",
        "/nonexistent/model.serb",
        "--out",
        "/nonexistent/eval",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("/nonexistent/model.serb"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn bench_features_names_a_broken_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.wav");
    std::fs::write(&broken, b"RIFF\x10\x00\x00\x00WAVEfmt ").unwrap();
    let output = ser(&["bench", "features", dir.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.matches("broken.wav").count(), 1, "{stderr}");
}

#[test]
fn info_reports_what_the_decoder_found() {
    let clip = data_dir().join("tess-wav-sample/YAF_angry/YAF_germ_angry.wav");
    let output = ser(&["info", "--format", "json", clip.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let record: serde_json::Value =
        serde_json::from_str(String::from_utf8(output.stdout).unwrap().trim()).unwrap();
    assert_eq!(
        record["container"], "aiff",
        "AIFF data behind a .wav name: {record}"
    );
    assert_eq!(record["sample_rate"], 24414);
    assert_eq!(record["channels"], 1);

    // The table's columns line up whatever the paths' lengths.
    let short = data_dir().join("tess-wav-sample/OAF_Sad/OAF_back_sad.wav");
    let output = ser(&["info", clip.to_str().unwrap(), short.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let container_column = lines[0].find("container").unwrap();
    for line in &lines[1..] {
        assert!(
            line[container_column..].starts_with("aiff")
                || line[container_column..].starts_with("wav"),
            "{stdout}"
        );
    }
}

#[test]
fn features_take_the_kind_from_the_config_file_unless_a_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("features.json");
    std::fs::write(
        &config,
        r#"{"kind": "all", "deltas": {"order": 1}, "pitch": {"method": "yin"}}"#,
    )
    .unwrap();
    let clip = data_dir().join("tess-wav-sample/OAF_Sad/OAF_back_sad.wav");
    let columns = |extra: &[&str]| -> Vec<String> {
        let out = dir.path().join("pooled.csv");
        let mut args = vec![
            "features",
            clip.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--pool",
            "mean,p50",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = ser(&args);
        assert!(output.status.success(), "{output:?}");
        let text = std::fs::read_to_string(&out).unwrap();
        text.lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect()
    };
    let from_config = columns(&[]);
    // file, then 40 MFCC + 40 deltas + 6 spectral + 7 contrast + 12 chroma + f0, twice.
    assert_eq!(from_config.len(), 1 + 106 * 2, "{from_config:?}");
    assert!(from_config.contains(&"f0_p50".to_string()));
    assert_eq!(columns(&["--kind", "mfcc"]).len(), 1 + 80 * 2);
}

#[test]
fn silence_and_a_4_ms_file_get_no_emotion_and_exit_status_zero() {
    let seeds = data_dir().join("../audio-seeds");
    let clip = data_dir().join("tess/OAF_angry/OAF_back_angry.flac");
    fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["predict", "--format", "jsonl"];
        args.extend_from_slice(extra);
        args
    }
    let paths = [
        seeds.join("silence.wav"),
        seeds.join("tiny.wav"),
        clip.clone(),
    ];
    let paths: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    let output = ser(&[args(&[]), paths.clone()].concat());
    assert!(output.status.success(), "{output:?}");
    let records: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let flags: Vec<(bool, bool, bool)> = records
        .iter()
        .map(|r| {
            (
                r["no_speech"] == true,
                r["too_short"] == true,
                r["emotion"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            (true, false, true),
            (false, true, true),
            (false, false, false)
        ]
    );

    // Asking for 5 s of speech: the 2-s TESS clip is too short too.
    let output = ser(&[args(&["--min-speech", "5"]), vec![paths[2]]].concat());
    let record: serde_json::Value =
        serde_json::from_str(String::from_utf8(output.stdout).unwrap().trim()).unwrap();
    assert!(
        record["too_short"] == true && record["emotion"].is_null(),
        "{record}"
    );

    // Under a threshold of 1 the table marks the emotion (a RAVDESS clip: the calibrated
    // default model is far from sure of it, while TESS clips can round to exactly 1).
    let ravdess = data_dir().join("ravdess/Actor_01/03-01-05-01-01-01-01.flac");
    let output = ser(&[
        "predict",
        "--uncertain-below",
        "1",
        ravdess.to_str().unwrap(),
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("angry? "), "{table}");
    assert!(
        table.ends_with("? uncertain: confidence below the threshold\n"),
        "{table}"
    );
}

/// `ser model ensemble` joins an MLP and a cnn1d trained by `ser train`; the ensemble predicts,
/// describes itself and takes a card, and what cannot be joined is refused by name.
#[test]
fn two_trained_models_join_into_an_ensemble_that_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let tess = data_dir().join("tess");
    let emotions = [
        ("OAF_angry", "angry"),
        ("OAF_Sad", "sad"),
        ("YAF_angry", "angry"),
        ("YAF_sad", "sad"),
    ];
    let mut manifest = String::from("path,label,speaker\n");
    for (folder, label) in emotions {
        let speaker = &folder[..3];
        for word in ["back", "bar", "base"] {
            let path = tess
                .join(folder)
                .join(format!("{speaker}_{word}_{label}.flac"));
            manifest.push_str(&format!("{},{label},{speaker}\n", path.display()));
        }
    }
    let manifest_path = dir.path().join("clips.csv");
    std::fs::write(&manifest_path, manifest).unwrap();
    let corpus = format!("manifest={}", manifest_path.display());
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let cache = path("cache");
    // The cnn1d reads other features than the MLP (the default ones): 13 MFCCs of the speech
    // frames. An ensemble analyses each clip once per feature set.
    let speech_frames = path("speech-frames.toml");
    std::fs::write(
        &speech_frames,
        "[features]\nkind = \"mfcc\"\n[features.mfcc]\nn_mfcc = 13\n[features.silence]\ntop_db = 30.0\n",
    )
    .unwrap();
    let default_features = path("default-features.toml");
    std::fs::write(&default_features, "").unwrap();
    for (architecture, run_file) in [("mlp", &default_features), ("cnn1d", &speech_frames)] {
        let output = ser(&[
            "train",
            "--corpus",
            &corpus,
            "--config",
            run_file,
            "--architecture",
            architecture,
            "--epochs",
            "2",
            "--split",
            "random:0",
            "--validation",
            "0",
            "--cache-dir",
            &cache,
            "--quiet",
            "--out",
            &path(architecture),
        ]);
        assert!(output.status.success(), "{output:?}");
    }
    let member = |architecture: &str| format!("{}/model.serb", path(architecture));
    let ensemble = path("ensemble.serb");
    let output = ser(&[
        "model",
        "ensemble",
        &member("mlp"),
        &member("cnn1d"),
        "--out",
        &ensemble,
    ]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("mlp + cnn1d"),
        "{output:?}"
    );

    let card = path("card.toml");
    std::fs::write(&card, "limits = [\"Heard angry and sad only.\"]\n").unwrap();
    let output = ser(&["model", "card", &ensemble, "--set", &card]);
    assert!(output.status.success(), "{output:?}");
    let output = ser(&["model", "info", &ensemble]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    for expected in [
        "2 models: mlp + cnn1d,",
        "model 2 of the ensemble:",
        "architecture:  cnn1d",
        "13 MFCC, frames within 30 dB of the loudest",
        "Heard angry and sad only.",
    ] {
        assert!(text.contains(expected), "no '{expected}' in:\n{text}");
    }

    let clip = tess.join("OAF_angry/OAF_back_angry.flac");
    let output = ser(&[
        "predict",
        "--format",
        "jsonl",
        "--model",
        &ensemble,
        clip.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let probabilities = record["probabilities"].as_object().unwrap();
    assert_eq!(probabilities.len(), 7, "{record}");
    let sum: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{record}");

    // ser eval extracts both feature sets (through the cache) and scores every clip.
    let output = ser(&[
        "eval",
        "--model",
        &ensemble,
        "--corpus",
        &corpus,
        "--cache-dir",
        &cache,
        "--out",
        &path("eval"),
    ]);
    assert!(output.status.success(), "{output:?}");
    let predictions = std::fs::read_to_string(dir.path().join("eval/predictions.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 1 + 12, "{predictions}");

    let output = ser(&[
        "model",
        "ensemble",
        &ensemble,
        &member("mlp"),
        "--out",
        &path("nested.serb"),
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("ensemble"),
        "{output:?}"
    );
    let output = ser(&[
        "model",
        "ensemble",
        &member("mlp"),
        "--out",
        &path("one.serb"),
    ]);
    assert!(!output.status.success(), "{output:?}");
    assert!(!dir.path().join("nested.serb").exists());

    // Taken apart again, the ensemble gives back its models byte for byte.
    let output = ser(&["model", "members", &ensemble, "--out", &path("members")]);
    assert!(output.status.success(), "{output:?}");
    for (index, architecture) in ["mlp", "cnn1d"].iter().enumerate() {
        let taken = std::fs::read(dir.path().join(format!("members/model-{}.serb", index + 1)));
        assert_eq!(
            taken.unwrap(),
            std::fs::read(member(architecture)).unwrap(),
            "{architecture}"
        );
    }
    let output = ser(&["model", "members", &member("mlp"), "--out", &path("none")]);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("one model, not an ensemble"),
        "{output:?}"
    );

    // A model in place of another for a speaker heard in one clip (here the cnn1d for the MLP).
    let with_lone_clip = |substitute: &str, out: &str| {
        ser(&[
            "model",
            "ensemble",
            &member("mlp"),
            &member("cnn1d"),
            "--lone-clip",
            substitute,
            "--out",
            out,
        ])
    };
    let lone = path("lone.serb");
    let output = with_lone_clip(&format!("1={}", member("cnn1d")), &lone);
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("model 3 judges in place of model 1 a speaker heard in one clip"),
        "{output:?}"
    );
    let output = ser(&["model", "info", &lone]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("lone clips:    model 3 in place of model 1"),
        "{text}"
    );
    for (bad, reason) in [
        (format!("0={}", member("cnn1d")), "from 1"),
        (format!("4={}", member("cnn1d")), "the ensemble has 3"),
        (member("cnn1d"), "N=BUNDLE"),
    ] {
        let output = with_lone_clip(&bad, &path("bad.serb"));
        assert!(!output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{bad}: {stderr}");
    }
    assert!(!dir.path().join("bad.serb").exists());
}

/// `ser experiment --run` runs the experiment file's protocol with another recipe.
#[test]
fn experiment_run_flag_replaces_the_files_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let tess = data_dir().join("tess");
    let mut manifest = String::from("path,label,speaker\n");
    for (speaker, folder, label) in [
        ("OAF", "OAF_angry", "angry"),
        ("OAF", "OAF_Sad", "sad"),
        ("YAF", "YAF_angry", "angry"),
        ("YAF", "YAF_sad", "sad"),
    ] {
        for word in ["back", "bar"] {
            let path = tess
                .join(folder)
                .join(format!("{speaker}_{word}_{label}.flac"));
            manifest.push_str(&format!("{},{label},{speaker}\n", path.display()));
        }
    }
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    write("clips.csv", &manifest);
    let recipe = |n_mfcc: usize| {
        format!(
            "[features]\nkind = \"mfcc\"\n[features.mfcc]\nn_mfcc = {n_mfcc}\n\
             [model]\narchitecture = \"mlp\"\n[training]\nepochs = 1\npatience = 0\n"
        )
    };
    write("file-recipe.toml", &recipe(20));
    let other = write("other-recipe.toml", &recipe(13));
    let experiment = write(
        "experiment.toml",
        "name = \"tiny\"\ncorpus = \"manifest\"\ndata = \"clips.csv\"\n\
         validation_fraction = 0.0\nrun = \"file-recipe.toml\"\n\
         [protocol]\nkind = \"speaker\"\ntest_speakers = [\"YAF\"]\n",
    );
    let out = dir.path().join("out");
    let output = ser(&[
        "experiment",
        &experiment,
        "--run",
        &other,
        "--cache-dir",
        dir.path().join("cache").to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let bundle = glob::glob(&format!("{}/mlp/*/model.serb", out.display()))
        .unwrap()
        .next()
        .expect("a trained run")
        .unwrap();
    let info = ser(&["model", "info", bundle.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("13 MFCC"), "{text}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(&format!("--run {other}")), "{report}");

    let missing = dir.path().join("missing.toml");
    let output = ser(&[
        "experiment",
        &experiment,
        "--run",
        missing.to_str().unwrap(),
        "--out",
        dir.path().join("out2").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("missing.toml"),
        "{output:?}"
    );
}

#[test]
#[cfg(unix)]
fn output_cut_short_by_the_reader_ends_the_command_without_a_panic() {
    // `ser model info ... | head -1`: the reader has gone before ser writes. Benchmarks too
    // (only the service's keeps the ignored SIGPIPE).
    let bundle = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/default.serb");
    let clip = data_dir().join("../audio-seeds/a24.wav");
    for args in [
        vec!["model", "info", bundle.to_str().unwrap()],
        vec!["bench", "features", clip.to_str().unwrap()],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ser"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("ser runs");
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            output.status.signal(),
            Some(13),
            "{args:?}: {:?}: {stderr}",
            output.status
        );
    }
}
