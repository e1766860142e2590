//! The speech decision on real speech (every TESS and RAVDESS clip), on synthetic recordings
//! without speech, and on the small clips users send.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use ser_audio::signals::no_speech_catalogue;
use ser_audio::voice::{SpeechVerdict, VoiceActivity, VoiceConfig, detect_speech};
use ser_audio::{Audio, decode_file};

fn audio_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "flac" || e == "wav") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A file, its duration in seconds and the decision.
type Judged = (PathBuf, f64, VoiceActivity);

/// Decodes and judges every file, on all cores; also returns the seconds spent in the speech
/// decision alone.
fn judge_all(files: &[PathBuf]) -> (Vec<Judged>, f64) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = VoiceConfig::default();
    let parts: Vec<(Vec<Judged>, f64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(files.len().div_ceil(threads).max(1))
            .map(|chunk| {
                let config = &config;
                scope.spawn(move || {
                    let mut seconds = 0.0;
                    let results = chunk
                        .iter()
                        .map(|path| {
                            let audio = decode_file(path).unwrap().audio;
                            let started = Instant::now();
                            let activity = detect_speech(&audio, config);
                            seconds += started.elapsed().as_secs_f64();
                            (path.clone(), audio.duration_seconds(), activity)
                        })
                        .collect();
                    (results, seconds)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let seconds = parts.iter().map(|p| p.1).sum();
    (parts.into_iter().flat_map(|p| p.0).collect(), seconds)
}

#[test]
fn every_tess_and_ravdess_clip_is_speech() {
    let data = common::data_dir();
    let ravdess = data.join("ravdess");
    assert!(
        ravdess.is_dir(),
        "RAVDESS not found at {}",
        ravdess.display()
    );
    let mut files = audio_files(&data.join("tess"));
    let tess_count = files.len();
    files.extend(audio_files(&ravdess));
    assert_eq!((tess_count, files.len() - tess_count), (2800, 1194));

    let (results, vad_seconds) = judge_all(&files);
    let not_speech: Vec<String> = results
        .iter()
        .filter(|(_, _, a)| a.verdict != SpeechVerdict::Speech)
        .map(|(path, _, a)| format!("{}: {a:?}", path.display()))
        .collect();
    let lowest = |value: fn(&VoiceActivity) -> f64| {
        results
            .iter()
            .map(|(_, _, a)| value(a))
            .fold(f64::INFINITY, f64::min)
    };
    let audio_seconds: f64 = results.iter().map(|r| r.1).sum();
    eprintln!(
        "{} clips ({audio_seconds:.0} s of audio): {} not speech; least speech {:.2} s, least \
         voiced {:.2} s, least pitch movement {:.3} semitones; speech decision {:.2} ms a clip \
         ({:.0}x real time on one core)",
        results.len(),
        not_speech.len(),
        lowest(|a| a.speech_seconds),
        lowest(|a| a.voiced_seconds),
        lowest(|a| a.pitch_movement_semitones),
        1e3 * vad_seconds / results.len() as f64,
        audio_seconds / vad_seconds,
    );
    assert!(not_speech.is_empty(), "{not_speech:#?}");
}

#[test]
fn no_speech_signals_at_many_rates_levels_and_lengths_are_never_speech() {
    let config = VoiceConfig::default();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for rate in [8_000, 16_000, 22_050, 24_414, 44_100, 48_000] {
        for seconds in [0.2, 0.5, 2.0, 5.0] {
            for (name, audio) in no_speech_catalogue(rate, seconds) {
                let activity = detect_speech(&audio, &config);
                // Shorter than the minimum of speech: too short to tell, whatever it holds.
                let expected = if seconds < f64::from(config.min_speech_seconds) {
                    SpeechVerdict::TooShort
                } else {
                    SpeechVerdict::NoSpeech
                };
                if activity.verdict != expected {
                    wrong.push(format!("{name} at {rate} Hz, {seconds} s: {activity:?}"));
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 4 * 40);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn audio_seeds_silence_is_no_speech_tiny_is_too_short_the_rest_speech() {
    let seeds = common::data_dir().join("../audio-seeds");
    let verdict = |name: &str| {
        let audio = decode_file(&seeds.join(name)).unwrap().audio;
        detect_speech(&audio, &VoiceConfig::default()).verdict
    };
    assert_eq!(verdict("silence.wav"), SpeechVerdict::NoSpeech);
    assert_eq!(verdict("tiny.wav"), SpeechVerdict::TooShort);
    for speech in [
        "a.mp3",
        "a.ogg",
        "a24.wav",
        "af.wav",
        "stereo.wav",
        "ulaw.wav",
    ] {
        assert_eq!(verdict(speech), SpeechVerdict::Speech, "{speech}");
    }
}

#[test]
fn speech_amount_follows_the_spoken_part_and_the_minimum_is_configurable() {
    let clip = decode_file(&common::data_dir().join("tess/OAF_angry/OAF_back_angry.flac"))
        .unwrap()
        .audio;
    let rate = clip.sample_rate;
    let full = detect_speech(&clip, &VoiceConfig::default());
    assert_eq!(full.verdict, SpeechVerdict::Speech);
    // The same clip between two seconds of silence on each side: same speech, longer file.
    let mut padded = vec![0.0; 2 * rate as usize];
    padded.extend_from_slice(&clip.samples);
    padded.extend(vec![0.0; 2 * rate as usize]);
    let padded = detect_speech(&Audio::new(padded, rate), &VoiceConfig::default());
    assert!(
        (padded.speech_seconds - full.speech_seconds).abs() < 0.05,
        "{padded:?} vs {full:?}"
    );
    // Asking for more speech than the clip holds makes it too short.
    let demanding = VoiceConfig {
        min_speech_seconds: (full.speech_seconds + 0.1) as f32,
        ..VoiceConfig::default()
    };
    assert_eq!(
        detect_speech(&clip, &demanding).verdict,
        SpeechVerdict::TooShort
    );
    // The first 0.2 s of the clip alone: too short to tell.
    let start = Audio::new(clip.samples[..(rate / 5) as usize].to_vec(), rate);
    assert_eq!(
        detect_speech(&start, &VoiceConfig::default()).verdict,
        SpeechVerdict::TooShort
    );
}
