//! `load_channels`: librosa.load's channels, window and resampling, on generated stereo WAV
//! (exact sample values) and on the real stereo seed clip.

mod common;

use common::{WAVE_FORMAT_PCM, wav_bytes};
use ser_audio::{LoadOptions, Source, decode_file, load_channels};

const RATE: u32 = 16_000;

/// Stereo int16 WAV: left counts up from 0, right is -1000 throughout.
fn stereo_wav(frames: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..frames)
        .flat_map(|i| {
            let mut frame = (i as i16).to_le_bytes().to_vec();
            frame.extend((-1000i16).to_le_bytes());
            frame
        })
        .collect();
    wav_bytes(WAVE_FORMAT_PCM, 2, RATE, 16, &data, None)
}

fn native(mono: bool, offset_seconds: f64, duration_seconds: Option<f64>) -> LoadOptions {
    LoadOptions {
        sample_rate: None,
        mono,
        offset_seconds,
        duration_seconds,
    }
}

#[test]
fn channels_are_kept_apart_or_averaged() {
    let bytes = stereo_wav(1600);
    let source = Source::Bytes(&bytes, "stereo.wav");
    let both = load_channels(source, &native(false, 0.0, None)).unwrap();
    assert_eq!(both.sample_rate, RATE);
    assert_eq!(both.channels.len(), 2);
    let scale = 1.0 / 32768.0;
    for (i, (&left, &right)) in both.channels[0].iter().zip(&both.channels[1]).enumerate() {
        assert_eq!(left, i as f32 * scale);
        assert_eq!(right, -1000.0 * scale);
    }
    let mono = load_channels(source, &native(true, 0.0, None)).unwrap();
    assert_eq!(mono.channels.len(), 1);
    for (i, &m) in mono.channels[0].iter().enumerate() {
        assert!((m - (i as f32 - 1000.0) * scale / 2.0).abs() < 1e-7);
    }
}

#[test]
fn offset_and_duration_cut_at_the_native_rate_before_resampling() {
    let bytes = stereo_wav(1600);
    let source = Source::Bytes(&bytes, "stereo.wav");
    // 0.01 s = 160 frames in, 0.02 s = 320 frames kept: the left channel starts at 160.
    let cut = load_channels(source, &native(false, 0.01, Some(0.02))).unwrap();
    assert_eq!(cut.channels[0].len(), 320);
    assert_eq!(cut.channels[0][0], 160.0 / 32768.0);
    assert_eq!(cut.channels[0][319], 479.0 / 32768.0);
    // Past the end: empty, as librosa returns.
    let past = load_channels(source, &native(true, 1.0, None)).unwrap();
    assert_eq!(past.channels, vec![Vec::<f32>::new()]);
    // Resampled after the cut: ceil(320 * 8000 / 16000) samples per channel.
    let options = LoadOptions {
        sample_rate: Some(8000),
        ..native(false, 0.01, Some(0.02))
    };
    let resampled = load_channels(source, &options).unwrap();
    assert_eq!(resampled.sample_rate, 8000);
    assert!(resampled.channels.iter().all(|c| c.len() == 160));
}

#[test]
fn real_stereo_clip_averages_to_the_mono_decode() {
    let path = common::data_dir().join("../audio-seeds/stereo.wav");
    let mono = decode_file(&path).unwrap();
    let both = load_channels(Source::File(&path), &native(false, 0.0, None)).unwrap();
    assert_eq!(both.channels.len(), 2);
    assert_eq!(both.sample_rate, mono.audio.sample_rate);
    assert_eq!(both.channels[0].len(), mono.audio.samples.len());
    for ((l, r), m) in both.channels[0]
        .iter()
        .zip(&both.channels[1])
        .zip(&mono.audio.samples)
    {
        assert!(((l + r) / 2.0 - m).abs() < 1e-7);
    }
    assert_ne!(
        both.channels[0], both.channels[1],
        "the seed's channels differ"
    );
    let loaded = load_channels(Source::File(&path), &LoadOptions::default()).unwrap();
    assert_eq!(loaded.sample_rate, 22_050);
    let expected = (mono.audio.samples.len() as u64 * 22_050).div_ceil(24_414);
    assert_eq!(loaded.channels[0].len() as u64, expected);
}

#[test]
fn missing_files_and_broken_bytes_are_errors_naming_them() {
    let error = load_channels(
        Source::File("no/such/clip.wav".as_ref()),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no/such/clip.wav: cannot read"),
        "{error}"
    );
    let error = load_channels(
        Source::Bytes(b"not audio", "upload.bin"),
        &native(false, 0.0, None),
    )
    .unwrap_err();
    assert!(error.to_string().starts_with("upload.bin: "), "{error}");
}
