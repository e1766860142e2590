//! The output formats are an interface: field names, column order and shapes are pinned here.

use std::path::PathBuf;

use ser_audio::Audio;
use ser_predict::testing::{ToneModel, voice, wav_bytes};
use ser_predict::{
    BatchSummary, EmotionModel, OutputFormat, PredictOptions, Prediction, PredictionWriter,
    expand_inputs, predict_inputs,
};

/// A folder with a short voice, a long recording of two voices, a broken file, two seconds of
/// silence and a 4-ms voice.
fn recordings() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("a_short.wav");
    std::fs::write(&short, wav_bytes(&voice(440.0, 1.0, 16_000))).unwrap();
    let mut samples = voice(200.0, 6.0, 16_000).samples;
    samples.extend(vec![0.0; 16_000]);
    samples.extend(voice(300.0, 6.0, 16_000).samples);
    let long = dir.path().join("b_long.wav");
    std::fs::write(&long, wav_bytes(&Audio::new(samples, 16_000))).unwrap();
    let broken = dir.path().join("c_broken.wav");
    std::fs::write(&broken, b"RIFF....WAVEnot really").unwrap();
    let silence = Audio::new(vec![0.0; 32_000], 16_000);
    std::fs::write(dir.path().join("d_silence.wav"), wav_bytes(&silence)).unwrap();
    let tiny = voice(440.0, 0.004, 16_000);
    std::fs::write(dir.path().join("e_tiny.wav"), wav_bytes(&tiny)).unwrap();
    let arguments = vec![dir.path().to_path_buf(), dir.path().join("missing.wav")];
    (dir, arguments)
}

/// The output with the temporary folder's path shown as `DIR`, the raw output, and the summary.
fn run(format: OutputFormat) -> (String, String, BatchSummary) {
    let (dir, arguments) = recordings();
    let model = ToneModel::new();
    let inputs = expand_inputs(&arguments);
    let mut writer = PredictionWriter::new(format, model.labels(), Vec::new(), 40).unwrap();
    // The stand-in model is 70 % sure of everything: uncertain under a 75 % threshold.
    let options = PredictOptions {
        uncertain_below: 0.75,
        ..PredictOptions::default()
    };
    let summary = predict_inputs(&model, &inputs, &options, |p| writer.write(p)).unwrap();
    let raw = String::from_utf8(writer.finish().unwrap()).unwrap();
    let text = raw.replace(&dir.path().display().to_string(), "DIR");
    (text, raw, summary)
}

#[test]
fn json_lines_have_stable_fields_in_input_order() {
    let (text, _, summary) = run(OutputFormat::Jsonl);
    // No speech and too little speech are answers, not failures.
    assert_eq!(
        summary,
        BatchSummary {
            succeeded: 4,
            failed: 2
        }
    );
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let files: Vec<&str> = records
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "DIR/a_short.wav",
            "DIR/b_long.wav",
            "DIR/c_broken.wav",
            "DIR/d_silence.wav",
            "DIR/e_tiny.wav",
            "DIR/missing.wav"
        ]
    );
    for record in &records {
        let keys: Vec<&String> = record.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "confidence",
                "duration_seconds",
                "emotion",
                "error",
                "file",
                "no_speech",
                "probabilities",
                "segments",
                "speech_seconds",
                "too_short",
                "uncertain"
            ],
            "serde_json sorts keys; every record has all of them"
        );
    }
    // The short clip, whole: every label in label order, 70 % is under the 75 % threshold.
    let short = &records[0];
    assert_eq!(short["emotion"], "neutral");
    assert_eq!(short["confidence"], 0.7);
    assert_eq!(short["uncertain"], true);
    assert_eq!(
        (&short["no_speech"], &short["too_short"]),
        (&false.into(), &false.into())
    );
    assert!((short["speech_seconds"].as_f64().unwrap() - 1.0).abs() < 0.1);
    assert_eq!(short["segments"], serde_json::json!([]));
    assert!(short["error"].is_null());
    let line = text.lines().next().unwrap();
    assert!(line.contains(
        r#""probabilities":{"angry":0.05,"disgust":0.05,"fear":0.05,"happy":0.05,"neutral":0.7,"pleasant_surprise":0.05,"sad":0.05}"#
    ), "{line}");
    // The long recording: two segments with their own fields, overall from both.
    let segments = records[1]["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    let segment_keys: Vec<&String> = segments[0].as_object().unwrap().keys().collect();
    assert_eq!(
        segment_keys,
        [
            "confidence",
            "emotion",
            "end_seconds",
            "no_speech",
            "probabilities",
            "speech_seconds",
            "start_seconds",
            "too_short",
            "uncertain"
        ]
    );
    assert_eq!(segments[0]["emotion"], "fear");
    assert_eq!(segments[1]["emotion"], "happy");
    // The failures: an error message naming the file, prediction fields null.
    assert!(
        records[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("DIR/c_broken.wav: ")
    );
    assert!(records[2]["emotion"].is_null() && records[2]["speech_seconds"].is_null());
    assert_eq!(records[5]["error"], "no such file or directory");
    // Silence and 4 ms: flagged, no emotion, no probabilities, no error.
    for (record, flag) in [(&records[3], "no_speech"), (&records[4], "too_short")] {
        assert_eq!(record[flag], true, "{record}");
        assert!(record["emotion"].is_null() && record["confidence"].is_null());
        assert_eq!(record["probabilities"], serde_json::json!({}));
        assert_eq!(record["uncertain"], false);
        assert!(record["error"].is_null());
    }
    // The records parse back into the schema type.
    for line in text.lines() {
        serde_json::from_str::<Prediction>(line).unwrap();
    }
}

#[test]
fn csv_has_a_row_per_file_and_per_segment() {
    let (text, _, _) = run(OutputFormat::Csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "file,duration_seconds,start_seconds,end_seconds,speech_seconds,no_speech,too_short,\
         emotion,confidence,uncertain,angry,disgust,fear,happy,neutral,pleasant_surprise,sad,error"
    );
    assert!(
        lines[1].starts_with("DIR/a_short.wav,1,,,0.9")
            && lines[1]
                .ends_with(",false,false,neutral,0.7,true,0.05,0.05,0.05,0.05,0.7,0.05,0.05,"),
        "{}",
        lines[1]
    );
    assert_eq!(lines.len(), 1 + 1 + 3 + 1 + 1 + 1 + 1, "{text}");
    assert!(lines[3].starts_with("DIR/b_long.wav,13,0,") && lines[3].contains(",fear,0.7,true,"));
    assert!(lines[4].contains(",happy,0.7,true,"));
    assert_eq!(
        lines[6],
        "DIR/d_silence.wav,2,,,0,true,false,,,false,,,,,,,,"
    );
    assert_eq!(
        lines[7],
        "DIR/e_tiny.wav,0.004,,,0,false,true,,,false,,,,,,,,"
    );
    assert!(lines[8].starts_with("DIR/missing.wav,,,,,false,false,,,false,,,,,,,,no such file"));
}

#[test]
fn table_aligns_columns_marks_uncertain_emotions_and_names_flags() {
    let (text, raw, _) = run(OutputFormat::Table);
    let raw_lines: Vec<&str> = raw.lines().collect();
    assert_eq!(raw_lines[1].len(), raw_lines[0].len(), "\n{raw}");
    assert_eq!(raw_lines[3].len(), raw_lines[0].len(), "\n{raw}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 1 + 3 + 1 + 1 + 1 + 1 + 2, "\n{text}");
    assert!(lines[0].starts_with("file "));
    assert!(lines[0].ends_with("pleasant_surprise    sad"));
    assert!(lines[1].starts_with("DIR/a_short.wav"));
    assert!(
        lines[1].contains("   1.00s  neutral?            0.700  0.050"),
        "\n{text}"
    );
    assert!(lines[3].starts_with("  0.") && lines[3].contains("fear?"));
    assert!(lines[6].contains("   2.00s  (no speech)  "), "\n{text}");
    assert!(lines[7].contains("   0.00s  (too short)  "), "\n{text}");
    assert!(lines[8].contains("error: no such file or directory"));
    assert_eq!(lines[10], "? uncertain: confidence below the threshold");
}
