//! Generated WAV variants (every PCM/float width, WAVE_FORMAT_EXTENSIBLE, stereo) and broken
//! inputs: each must decode correctly or fail with a typed error naming the file.

mod common;

use common::{WAVE_FORMAT_EXTENSIBLE, WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_PCM, wav_bytes};
use ser_audio::{AudioError, decode_bytes, decode_file};

const RATE: u32 = 16_000;

fn tone() -> Vec<f64> {
    common::sine(440.0, RATE, 1600, 0.5)
}

fn encode(format_tag: u16, bits: u16, samples: &[f64]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| -> Vec<u8> {
            match (format_tag, bits) {
                (WAVE_FORMAT_IEEE_FLOAT, 32) => (s as f32).to_le_bytes().to_vec(),
                (WAVE_FORMAT_IEEE_FLOAT, 64) => s.to_le_bytes().to_vec(),
                (_, 8) => vec![((s * 127.0).round() + 128.0) as u8],
                (_, 16) => ((s * 32767.0).round() as i16).to_le_bytes().to_vec(),
                (_, 24) => ((s * 8_388_607.0).round() as i32).to_le_bytes()[..3].to_vec(),
                (_, 32) => ((s * 2_147_483_647.0).round() as i32)
                    .to_le_bytes()
                    .to_vec(),
                other => panic!("no encoder for {other:?}"),
            }
        })
        .collect()
}

#[test]
fn every_wav_sample_format_decodes() {
    let tone = tone();
    let cases = [
        (WAVE_FORMAT_PCM, 8, "pcm_u8", 1.0 / 127.0),
        (WAVE_FORMAT_PCM, 16, "pcm_s16le", 1e-4),
        (WAVE_FORMAT_PCM, 24, "pcm_s24le", 1e-6),
        (WAVE_FORMAT_PCM, 32, "pcm_s32le", 1e-6),
        (WAVE_FORMAT_IEEE_FLOAT, 32, "pcm_f32le", 1e-7),
        (WAVE_FORMAT_IEEE_FLOAT, 64, "pcm_f64le", 1e-7),
        (WAVE_FORMAT_EXTENSIBLE, 24, "pcm_s24le", 1e-6),
    ];
    for (tag, bits, codec, tolerance) in cases {
        let bytes = wav_bytes(tag, 1, RATE, bits, &encode(tag, bits, &tone), None);
        let decoded = decode_bytes(bytes, "tone.wav").unwrap_or_else(|e| panic!("{codec}: {e}"));
        assert_eq!(decoded.info.container, "wav");
        assert_eq!(decoded.info.codec, codec);
        assert_eq!(
            decoded.info.bits_per_sample,
            Some(u32::from(bits)),
            "{codec}"
        );
        assert_eq!(decoded.info.frames, tone.len() as u64);
        let worst = decoded
            .audio
            .samples
            .iter()
            .zip(&tone)
            .map(|(&got, &want)| (f64::from(got) - want).abs())
            .fold(0.0, f64::max);
        assert!(worst <= tolerance, "{codec}: off by {worst}");
    }
}

#[test]
fn stereo_is_downmixed_to_the_channel_mean() {
    let left = tone();
    let interleaved: Vec<f64> = left.iter().flat_map(|&l| [l, 0.25]).collect();
    let bytes = wav_bytes(
        WAVE_FORMAT_IEEE_FLOAT,
        2,
        RATE,
        32,
        &encode(3, 32, &interleaved),
        None,
    );
    let decoded = decode_bytes(bytes, "stereo.wav").unwrap();
    assert_eq!(decoded.info.channels, 2);
    assert_eq!(decoded.audio.samples.len(), left.len());
    for (&mono, &l) in decoded.audio.samples.iter().zip(&left) {
        assert!((f64::from(mono) - (l + 0.25) / 2.0).abs() < 1e-6);
    }
}

/// The error names the input and is of the expected kind.
fn assert_error(
    result: Result<ser_audio::Decoded, AudioError>,
    name: &str,
    kind: fn(&AudioError) -> bool,
) {
    match result {
        Ok(decoded) => panic!("{name}: decoded {:?} instead of failing", decoded.info),
        Err(error) => {
            assert!(kind(&error), "{name}: unexpected error kind: {error:?}");
            assert!(
                error.to_string().contains(name),
                "{name}: message lacks the name: {error}"
            );
        }
    }
}

#[test]
fn broken_inputs_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = wav_bytes(WAVE_FORMAT_PCM, 1, RATE, 16, &encode(1, 16, &tone()), None);

    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    assert_error(decode_file(&empty), "empty.wav", |e| {
        matches!(e, AudioError::EmptyFile { .. })
    });
    assert_error(decode_bytes(Vec::new(), "stdin"), "stdin", |e| {
        matches!(e, AudioError::EmptyFile { .. })
    });

    assert_error(
        decode_file(dir.path()),
        &dir.path().display().to_string(),
        |e| matches!(e, AudioError::IsDirectory { .. }),
    );
    assert_error(
        decode_file(&dir.path().join("missing.wav")),
        "missing.wav",
        |e| matches!(e, AudioError::Io { .. }),
    );

    // Deterministic pseudo-random garbage.
    let garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_error(decode_bytes(garbage, "garbage.wav"), "garbage.wav", |e| {
        matches!(
            e,
            AudioError::Unsupported { .. } | AudioError::Malformed { .. }
        )
    });

    assert_error(
        decode_bytes(good[..30].to_vec(), "cut-header.wav"),
        "cut-header.wav",
        |e| {
            matches!(
                e,
                AudioError::Malformed { .. } | AudioError::Unsupported { .. }
            )
        },
    );

    let no_data = wav_bytes(WAVE_FORMAT_PCM, 1, RATE, 16, &[], None);
    assert_error(decode_bytes(no_data, "no-data.wav"), "no-data.wav", |e| {
        matches!(e, AudioError::NoSamples { .. })
    });

    let mut nan = encode(WAVE_FORMAT_IEEE_FLOAT, 32, &tone());
    nan[400..404].copy_from_slice(&f32::NAN.to_le_bytes());
    let nan = wav_bytes(WAVE_FORMAT_IEEE_FLOAT, 1, RATE, 32, &nan, None);
    assert_error(decode_bytes(nan, "nan.wav"), "nan.wav", |e| {
        matches!(e, AudioError::InvalidSamples { .. })
    });
    let inf = wav_bytes(
        3,
        1,
        RATE,
        32,
        &encode(3, 32, &[0.1, f64::INFINITY, 0.2]),
        None,
    );
    assert_error(decode_bytes(inf, "inf.wav"), "inf.wav", |e| {
        matches!(e, AudioError::InvalidSamples { .. })
    });

    for rate in [8, 5_000_000] {
        let odd_rate = wav_bytes(WAVE_FORMAT_PCM, 1, rate, 16, &encode(1, 16, &tone()), None);
        assert_error(decode_bytes(odd_rate, "rate.wav"), "rate.wav", |e| {
            matches!(e, AudioError::InvalidSampleRate { .. })
        });
    }
}

#[test]
fn lying_or_truncated_data_sizes_yield_the_samples_present() {
    let tone = tone();
    let data = encode(WAVE_FORMAT_PCM, 16, &tone);
    // The header claims ~4 GB of samples; only 1600 are there. No hang, no huge allocation.
    let huge = wav_bytes(WAVE_FORMAT_PCM, 1, RATE, 16, &data, Some(u32::MAX - 64));
    if let Ok(decoded) = decode_bytes(huge, "huge.wav") {
        assert!(decoded.audio.samples.len() <= tone.len());
        assert!(decoded.audio.samples.len() >= tone.len() - 2048);
    }
    // A file cut in the middle of its data.
    let full = wav_bytes(WAVE_FORMAT_PCM, 1, RATE, 16, &data, None);
    let cut = full[..full.len() / 2].to_vec();
    match decode_bytes(cut, "cut.wav") {
        Ok(decoded) => assert!(decoded.audio.samples.len() < tone.len()),
        Err(error) => assert!(error.to_string().contains("cut.wav"), "{error}"),
    }
}

/// Whether an error is of the expected kind.
type ErrorKind = fn(&AudioError) -> bool;

/// Inputs that once panicked inside symphonia or rubato (issue 12, `tests/fixtures/crashes/`,
/// described in its README): each must now fail with a typed error naming the file.
#[test]
fn inputs_that_crashed_a_dependency_give_typed_errors() {
    let crashes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crashes");
    let zero_rate =
        |e: &AudioError| matches!(e, AudioError::InvalidSampleRate { sample_rate: 0, .. });
    let cases: [(&str, ErrorKind); 4] = [
        ("aiff-zero-rate.aiff", zero_rate),
        ("aiff-negative-rate.aiff", zero_rate),
        ("wav-zero-rate.wav", zero_rate),
        ("wav-float-huge-sample.wav", |e| {
            matches!(e, AudioError::InvalidSamples { .. })
        }),
    ];
    for (name, kind) in cases {
        let path = crashes.join(name);
        assert_error(decode_file(&path), name, kind);
        // The in-memory path (HTTP uploads, stdin) goes through the same checks.
        let bytes = std::fs::read(&path).unwrap();
        assert_error(decode_bytes(bytes, name), name, kind);
    }
}

#[test]
fn a_zero_rate_header_after_leading_junk_is_caught_too() {
    // symphonia's probe skips bytes until it finds a container marker.
    let crashes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crashes");
    let mut bytes = b"junk before the header".to_vec();
    bytes.extend(std::fs::read(crashes.join("aiff-zero-rate.aiff")).unwrap());
    assert_error(decode_bytes(bytes, "junk.aiff"), "junk.aiff", |e| {
        matches!(e, AudioError::InvalidSampleRate { .. })
    });
}

#[test]
fn float_samples_far_beyond_full_scale_are_rejected() {
    for (value, rejected) in [
        (1.5, false),
        (40_000.0, false),
        (1e9, true),
        (-3.4e38, true),
    ] {
        let bytes = wav_bytes(
            WAVE_FORMAT_IEEE_FLOAT,
            1,
            RATE,
            32,
            &encode(WAVE_FORMAT_IEEE_FLOAT, 32, &[0.1, value, 0.2]),
            None,
        );
        match decode_bytes(bytes, "loud.wav") {
            Ok(decoded) => {
                assert!(!rejected, "{value} accepted");
                assert_eq!(decoded.audio.samples[1], value as f32);
            }
            Err(error) => {
                assert!(rejected, "{value} rejected: {error}");
                assert!(
                    matches!(error, AudioError::InvalidSamples { .. }),
                    "{error:?}"
                );
                assert!(error.to_string().contains("frame 1"), "{error}");
            }
        }
    }
}
