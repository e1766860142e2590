//! Acoustic features for ser with librosa parity: STFT, mel, MFCC, pitch, spectral statistics.
//!
//! Everything is plain DSP on `f32` input computed in `f64`, built on realfft (FFT plans are
//! cached per thread and reused across frames and files); nothing here depends on a
//! deep-learning framework. Module functions carry librosa's names and defaults and match
//! librosa 0.11 numerically (see `tests/parity.rs`). [`FeatureConfig`] describes a whole
//! extraction (audio preprocessing included) and is serialised into every model bundle.

pub mod chroma;
mod config;
pub mod db;
pub mod delta;
mod error;
mod matrix;
pub mod mel;
pub mod mfcc;
pub mod pitch;
pub mod spectral;
mod stats;
pub mod stft;
pub mod voice;
pub mod whisper;

pub use chroma::chroma_stft;
pub use config::{
    DeltaConfig, FeatureConfig, FeatureKind, PitchConfig, PitchMethod, PitchUnit, SharedAnalysis,
    SilenceConfig, SpectralConfig, WhisperConfig,
};
pub use db::{DbConfig, DbReference, power_to_db};
pub use delta::delta;
pub use error::FeatureError;
pub use matrix::{FeatureMatrix, Matrix};
pub use mel::{MelConfig, MelNorm, mel_filterbank, mel_frequencies, melspectrogram};
pub use mfcc::{MfccConfig, mfcc};
pub use pitch::{PyinConfig, PyinOutput, YinConfig, pyin, yin};
pub use spectral::{
    ContrastConfig, Framing, rms, rms_from_spectrogram, spectral_bandwidth, spectral_centroid,
    spectral_contrast, spectral_flatness, spectral_rolloff, zero_crossing_rate,
};
pub use stats::{DEFAULT_STATISTICS, Statistic, pool_statistics, pooled_names};
pub use stft::{PadMode, StftConfig, Window, spectrogram, stft};
pub use voice::{alpha_ratio, hammarberg_index, harmonics_to_noise, spectral_flux, spectral_slope};
