//! Audio input for ser: decoding, resampling, trimming, normalisation, augmentation.
//!
//! Pipeline order (see [`PreprocessConfig::apply`]): decode -> downmix to mono -> resample ->
//! trim silence -> normalise -> pad/crop -> pre-emphasis. Every step is plain DSP on `f32`
//! samples; nothing here depends on a deep-learning framework.

pub mod augment;
mod decode;
mod energy;
mod error;
mod isolate;
mod load;
mod preprocess;
mod probe;
mod resample;
pub mod segment;
pub mod signals;
pub mod voice;

use std::path::Path;

pub use decode::{
    AudioStream, Decoded, DecodedChannels, decode_bytes, decode_bytes_channels, decode_file,
    decode_file_channels,
};
pub use energy::non_silent_frames;
pub use error::AudioError;
pub use isolate::{install_panic_hook, isolate};
pub use load::{LoadOptions, Loaded, Source, load_channels};
pub use preprocess::{
    Normalization, PreprocessConfig, TrimConfig, fix_length, preemphasis, trim_range,
};
pub use resample::resample;

/// Lowest sample rate accepted from a file or as a target (below it, a header is garbage).
pub const MIN_SAMPLE_RATE: u32 = 1_000;
/// Highest sample rate accepted from a file or as a target.
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// Largest sample magnitude accepted from a float decoder or by [`resample`]: 2^24, the
/// scale of 24-bit integers, which some programs write into float files. Anything larger is
/// corrupt data, and rubato's FFT overflows to NaN (and panics) on values near `f32::MAX`.
pub const MAX_SAMPLE_MAGNITUDE: f32 = 16_777_216.0;

/// Why [`check_samples`] rejects a sample, for error messages.
const SAMPLE_LIMIT_REASON: &str = "samples must be finite and within ±2^24; full scale is ±1";

/// The index and value of the first sample that is NaN, infinite or larger in magnitude
/// than [`MAX_SAMPLE_MAGNITUDE`].
fn check_samples(samples: &[f32]) -> Result<(), (usize, f32)> {
    match samples
        .iter()
        .position(|s| !s.is_finite() || s.abs() > MAX_SAMPLE_MAGNITUDE)
    {
        Some(index) => Err((index, samples[index])),
        None => Ok(()),
    }
}

/// Decode a file and prepare it as `config` says (see [`PreprocessConfig::apply`]).
pub fn load(path: &Path, config: &PreprocessConfig) -> Result<Audio, AudioError> {
    config.validate()?; // a bad config fails before a possibly long decode
    config.apply(decode_file(path)?.audio)
}

/// Mono audio: samples in [-1, 1] at `sample_rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Audio {
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Self {
            samples,
            sample_rate,
        }
    }

    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// What the decoder actually found in a file (not what its extension claims).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AudioInfo {
    /// Container found by sniffing the content: "wav", "aiff", "flac", "mp3", "ogg", ...
    pub container: String,
    /// Codec found in the container: "pcm_s16le", "pcm_f32le", "flac", "mp3", "vorbis", ...
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Bits per sample of the stored data, where the format has such a notion.
    pub bits_per_sample: Option<u32>,
    /// Number of frames (samples per channel) decoded.
    pub frames: u64,
}

impl AudioInfo {
    pub fn duration_seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate)
    }
}
