//! Decoding real TESS files (WAV, AIFF-behind-.wav, 96 kHz, FLAC) against soundfile's view,
//! and the lossy codecs on tiny synthetic clips.

mod common;

use ser_audio::{AudioStream, decode_bytes, decode_file};
use sha2::{Digest, Sha256};

#[derive(serde::Deserialize)]
struct Expected {
    path: String,
    container: String,
    sample_rate: u32,
    channels: u16,
    frames: u64,
    sha256_int16: String,
    sum: f64,
    sum_sq: f64,
}

/// sha256 of the samples as int16 (exact for 16-bit sources), as the fixture script does.
fn int16_sha256(samples: &[f32]) -> String {
    let mut hasher = Sha256::new();
    for &s in samples {
        let value = (f64::from(s) * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        hasher.update(value.to_le_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn tess_files_decode_like_soundfile() {
    let data = common::data_dir();
    let expected: Vec<Expected> = common::fixture("decode");
    assert!(
        expected.len() >= 28,
        "fixture lists {} files",
        expected.len()
    );
    for file in &expected {
        let decoded =
            decode_file(&data.join(&file.path)).unwrap_or_else(|e| panic!("{}: {e}", file.path));
        let info = &decoded.info;
        assert_eq!(info.container, file.container, "{}", file.path);
        assert_eq!(info.sample_rate, file.sample_rate, "{}", file.path);
        assert_eq!(info.channels, file.channels, "{}", file.path);
        assert_eq!(info.frames, file.frames, "{}", file.path);
        assert_eq!(info.bits_per_sample, Some(16), "{}", file.path);
        assert_eq!(decoded.audio.samples.len() as u64, file.frames);
        assert_eq!(decoded.audio.sample_rate, file.sample_rate);
        assert_eq!(
            int16_sha256(&decoded.audio.samples),
            file.sha256_int16,
            "{}",
            file.path
        );
        let sum: f64 = decoded.audio.samples.iter().map(|&s| f64::from(s)).sum();
        let sum_sq: f64 = decoded
            .audio
            .samples
            .iter()
            .map(|&s| f64::from(s).powi(2))
            .sum();
        assert!(
            (sum - file.sum).abs() < 1e-6,
            "{}: sum {sum} vs {}",
            file.path,
            file.sum
        );
        assert!((sum_sq / file.sum_sq - 1.0).abs() < 1e-9, "{}", file.path);
    }
}

#[test]
fn tess_oddities_are_found_by_content() {
    let data = common::data_dir().join("tess-wav-sample");
    let aiff = decode_file(&data.join("YAF_angry/YAF_germ_angry.wav")).unwrap();
    assert_eq!(aiff.info.container, "aiff");
    assert_eq!(aiff.info.codec, "pcm_s16be");
    let high_rate = decode_file(&data.join("OAF_Fear/OAF_food_fear.wav")).unwrap();
    assert_eq!(high_rate.info.sample_rate, 96_000);
    assert_eq!(high_rate.info.codec, "pcm_s16le");
    assert!((high_rate.info.duration_seconds() - 145_172.0 / 96_000.0).abs() < 1e-12);
}

#[test]
fn bytes_and_stream_agree_with_file_decode() {
    let path = common::data_dir().join("tess/OAF_Fear/OAF_back_fear.flac");
    let from_file = decode_file(&path).unwrap();
    let from_bytes = decode_bytes(std::fs::read(&path).unwrap(), "upload.bin").unwrap();
    assert_eq!(from_bytes, from_file);

    let mut stream = AudioStream::open(&path).unwrap();
    assert_eq!(stream.info().sample_rate, 24_414);
    assert_eq!(stream.declared_frames(), Some(from_file.info.frames));
    let mut samples = Vec::new();
    let mut chunks = 0;
    for chunk in stream.by_ref() {
        samples.extend(chunk.unwrap());
        chunks += 1;
    }
    assert!(chunks > 1, "a streaming decode yields several chunks");
    assert_eq!(samples, from_file.audio.samples);
    assert_eq!(stream.info(), &from_file.info);
}

#[test]
fn mp3_and_ogg_vorbis_decode() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (file, container, codec) in [
        ("sine440.mp3", "mp3", "mp3"),
        ("sine440.ogg", "ogg", "vorbis"),
    ] {
        let decoded = decode_file(&fixtures.join(file)).unwrap();
        let info = &decoded.info;
        assert_eq!(
            (info.container.as_str(), info.codec.as_str()),
            (container, codec),
            "{file}"
        );
        assert_eq!((info.sample_rate, info.channels), (44_100, 2), "{file}");
        // 0.5 s of tone; codecs may pad or trim a frame's worth at the edges.
        assert!(
            (info.duration_seconds() - 0.5).abs() < 0.03,
            "{file}: {}",
            info.duration_seconds()
        );
        let middle = &decoded.audio.samples[4410..17640];
        let frequency = common::tone_frequency(middle, 44_100);
        assert!((frequency - 440.0).abs() < 5.0, "{file}: {frequency} Hz");
        let peak = middle.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.5).abs() < 0.05, "{file}: peak {peak}");
    }
}
