//! Acoustic features for ser with librosa parity: STFT, mel, MFCC, pitch, spectral statistics.
//!
//! Everything is plain DSP on `f32`/`f64` built on realfft; nothing here depends on a
//! deep-learning framework. [`FeatureConfig`] describes a whole extraction (audio
//! preprocessing included) and is serialised into every model bundle.

mod config;
mod error;
mod matrix;

pub use config::FeatureConfig;
pub use error::FeatureError;
pub use matrix::FeatureMatrix;
