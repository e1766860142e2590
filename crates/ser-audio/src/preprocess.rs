use serde::{Deserialize, Serialize};

/// Silence trimming with `librosa.effects.trim` semantics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrimConfig {
    /// Threshold in dB below the reference (the signal's peak RMS) to count as silence.
    pub top_db: f32,
    pub frame_length: usize,
    pub hop_length: usize,
}

impl Default for TrimConfig {
    fn default() -> Self {
        Self {
            top_db: 60.0,
            frame_length: 2048,
            hop_length: 512,
        }
    }
}

/// Amplitude normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Normalization {
    /// Scale so that max |x| equals `peak` (librosa.util.normalize with peak = 1).
    Peak { peak: f32 },
    /// Scale so that the RMS level equals `target_dbfs` dB relative to full scale.
    Rms { target_dbfs: f32 },
}

/// The whole audio preprocessing of one extraction: carried inside `FeatureConfig`, so a
/// trained model always sees audio prepared exactly as in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreprocessConfig {
    /// Target sample rate; `None` keeps the file's native rate.
    pub sample_rate: Option<u32>,
    pub trim: Option<TrimConfig>,
    pub normalize: Option<Normalization>,
    /// Pad with zeros at the end or crop to exactly this many seconds.
    pub duration_seconds: Option<f32>,
    /// Pre-emphasis coefficient (`y[n] - coef * y[n-1]`, librosa.effects.preemphasis).
    pub preemphasis: Option<f32>,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        Self {
            sample_rate: Some(22_050),
            trim: None,
            normalize: None,
            duration_seconds: None,
            preemphasis: None,
        }
    }
}
