//! Audio input for ser: decoding, resampling, trimming, normalisation, augmentation.
//!
//! Pipeline order (see [`PreprocessConfig::apply`]): decode -> downmix to mono -> resample ->
//! trim silence -> normalise -> pad/crop -> pre-emphasis. Every step is plain DSP on `f32`
//! samples; nothing here depends on a deep-learning framework.

mod error;
mod preprocess;

pub use error::AudioError;
pub use preprocess::{Normalization, PreprocessConfig, TrimConfig};

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
