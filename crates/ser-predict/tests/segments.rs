//! Segmenting a long recording made of five real TESS clips separated by silence.

use std::path::PathBuf;

use ser_audio::{Audio, Normalization, decode_file};
use ser_predict::testing::ToneModel;
use ser_predict::{PredictOptions, SegmentMode, predict_audio};

/// The data folder: `SER_DATA_DIR`, else `../shared/data` next to the repository.
fn data_dir() -> PathBuf {
    let dir = std::env::var_os("SER_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    assert!(
        dir.join("tess").is_dir(),
        "TESS not found at {} (set SER_DATA_DIR to the folder holding tess/)",
        dir.display()
    );
    dir
}

const CLIPS: [&str; 5] = [
    "OAF_angry/OAF_back_angry.flac",
    "YAF_sad/YAF_dog_sad.flac",
    "OAF_happy/OAF_bath_happy.flac",
    "YAF_fear/YAF_chair_fear.flac",
    "OAF_neutral/OAF_youth_neutral.flac",
];

#[test]
fn five_tess_clips_with_silences_give_five_segments_at_the_true_times() {
    let tess = data_dir().join("tess");
    let gap_seconds = [0.8, 1.2, 0.6, 1.0, 0.9, 0.7];
    let mut samples = Vec::new();
    let mut truth = Vec::new();
    let mut sample_rate = 0;
    for (i, clip) in CLIPS.iter().enumerate() {
        let mut audio = decode_file(&tess.join(clip)).unwrap().audio;
        // Speakers and emotions differ in loudness (sad is quiet); level them as in one
        // recording of a conversation.
        Normalization::Peak { peak: 0.9 }.apply(&mut audio.samples);
        sample_rate = audio.sample_rate;
        let rate = f64::from(sample_rate);
        samples.extend(vec![0.0; (gap_seconds[i] * rate) as usize]);
        // TESS clips are cut tightly around the spoken phrase: the clip is the speech.
        let offset = samples.len();
        truth.push((
            offset as f64 / rate,
            (offset + audio.samples.len()) as f64 / rate,
        ));
        samples.extend_from_slice(&audio.samples);
    }
    samples.extend(vec![
        0.0;
        (gap_seconds[5] * f64::from(sample_rate)) as usize
    ]);
    let recording = Audio::new(samples, sample_rate);

    let options = PredictOptions {
        segment_mode: SegmentMode::Always,
        ..PredictOptions::default()
    };
    let prediction = predict_audio(&ToneModel::new(), "five.wav", &recording, &options).unwrap();
    let found: Vec<(f64, f64)> = prediction
        .segments
        .iter()
        .map(|s| (s.start_seconds, s.end_seconds))
        .collect();
    eprintln!("truth {truth:?}\nfound {found:?}");
    assert_eq!(found.len(), 5, "{found:?}");
    for ((start, end), (true_start, true_end)) in found.iter().zip(&truth) {
        assert!(
            (start - true_start).abs() <= 0.1,
            "start {start} vs {true_start}"
        );
        assert!((end - true_end).abs() <= 0.1, "end {end} vs {true_end}");
    }
}
