//! Shared helpers for the integration tests: where the TESS data lives, the golden fixtures,
//! and a WAV writer for generating well-formed and broken files.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

/// The data folder: `SER_DATA_DIR`, else `../shared/data` next to the repository.
/// Fails loudly when it is missing: these tests exist to run on real TESS files.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("SER_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    assert!(
        dir.join("tess").is_dir() && dir.join("tess-wav-sample").is_dir(),
        "TESS test data not found at {} (set SER_DATA_DIR to the folder holding tess/ and \
         tess-wav-sample/)",
        dir.display()
    );
    dir
}

/// Parse `tests/fixtures/<name>.json`.
pub fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad fixture {}: {e}", path.display()))
}

/// WAVE format tags.
pub const WAVE_FORMAT_PCM: u16 = 1;
pub const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
pub const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;

/// A RIFF/WAVE file around `data` (already encoded samples, interleaved). `declared_data_len`
/// overrides the data chunk's size field to fake truncated or lying headers.
pub fn wav_bytes(
    format_tag: u16,
    channels: u16,
    sample_rate: u32,
    bits: u16,
    data: &[u8],
    declared_data_len: Option<u32>,
) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&format_tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&sample_rate.to_le_bytes());
    fmt.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if format_tag == WAVE_FORMAT_EXTENSIBLE {
        fmt.extend_from_slice(&22u16.to_le_bytes()); // extension size
        fmt.extend_from_slice(&bits.to_le_bytes()); // valid bits
        let mask: u32 = if channels == 1 { 0x4 } else { 0x3 };
        fmt.extend_from_slice(&mask.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM GUID
        fmt.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38,
            0x9b, 0x71,
        ]);
    }
    let data_len = declared_data_len.unwrap_or(data.len() as u32);
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    let riff_len = 4 + 8 + fmt.len() as u32 + 8 + data.len() as u32;
    out.extend_from_slice(&riff_len.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(&fmt);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// `n` samples of a sine at `freq` Hz, amplitude `amp`.
pub fn sine(freq: f64, rate: u32, n: usize, amp: f64) -> Vec<f64> {
    (0..n)
        .map(|i| amp * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin())
        .collect()
}

/// 16-bit PCM little-endian encoding of samples in [-1, 1].
pub fn pcm16(samples: &[f64]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| ((s * 32767.0).round() as i16).to_le_bytes())
        .collect()
}

/// Zero crossings per second / 2: the frequency of a clean tone.
pub fn tone_frequency(samples: &[f32], rate: u32) -> f64 {
    let crossings = samples
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / (samples.len() as f64 / f64::from(rate))
}
