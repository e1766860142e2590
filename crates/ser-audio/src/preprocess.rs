use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::energy::non_silent_intervals;
use crate::{Audio, AudioError, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, resample};

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

impl PreprocessConfig {
    /// Run the steps in order: resample -> trim -> normalise -> pad/crop -> pre-emphasis.
    /// Parameters are checked first, so a bad config fails before any work is done.
    pub fn apply(&self, audio: Audio) -> Result<Audio, AudioError> {
        self.validate()?;
        let mut audio = match self.sample_rate {
            Some(rate) if rate != audio.sample_rate => resample(&audio, rate)?,
            _ => audio,
        };
        if let Some(trim) = &self.trim {
            let kept = trim_range(&audio.samples, trim);
            audio.samples.truncate(kept.end);
            audio.samples.drain(..kept.start);
        }
        if let Some(normalization) = self.normalize {
            normalization.apply(&mut audio.samples);
        }
        if let Some(seconds) = self.duration_seconds {
            let len = (f64::from(seconds) * f64::from(audio.sample_rate)).round() as usize;
            fix_length(&mut audio.samples, len);
        }
        if let Some(coef) = self.preemphasis {
            preemphasis(&mut audio.samples, coef);
        }
        Ok(audio)
    }

    /// Check every parameter; the error names the offending one.
    pub fn validate(&self) -> Result<(), AudioError> {
        let invalid = |what: String| Err(AudioError::InvalidParameter(what));
        if let Some(rate) = self.sample_rate
            && !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate)
        {
            return invalid(format!(
                "sample_rate {rate} Hz is outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz"
            ));
        }
        if let Some(trim) = &self.trim {
            trim.validate()?;
        }
        match self.normalize {
            Some(Normalization::Peak { peak }) if !(peak.is_finite() && peak > 0.0) => {
                return invalid(format!("normalize.peak must be positive, got {peak}"));
            }
            Some(Normalization::Rms { target_dbfs }) if !target_dbfs.is_finite() => {
                return invalid(format!(
                    "normalize.target_dbfs must be finite, got {target_dbfs}"
                ));
            }
            _ => {}
        }
        if let Some(seconds) = self.duration_seconds
            && !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_DURATION_SECONDS)
        {
            return invalid(format!(
                "duration_seconds must be in (0, {MAX_DURATION_SECONDS}], got {seconds}"
            ));
        }
        if let Some(coef) = self.preemphasis
            && !(coef.is_finite() && (0.0..1.0).contains(&coef))
        {
            return invalid(format!("preemphasis must be in [0, 1), got {coef}"));
        }
        Ok(())
    }
}

/// Longest fixed duration a config may ask for (pad/crop allocates that many samples).
const MAX_DURATION_SECONDS: f32 = 3600.0;

impl TrimConfig {
    pub fn validate(&self) -> Result<(), AudioError> {
        if !(self.top_db.is_finite() && self.top_db > 0.0) {
            return Err(AudioError::InvalidParameter(format!(
                "trim.top_db must be positive, got {}",
                self.top_db
            )));
        }
        if self.frame_length == 0 || self.hop_length == 0 {
            return Err(AudioError::InvalidParameter(format!(
                "trim.frame_length and trim.hop_length must be positive, got {} and {}",
                self.frame_length, self.hop_length
            )));
        }
        Ok(())
    }
}

impl Normalization {
    /// Scale `samples` in place. Silence (all zeros) is left as it is.
    pub fn apply(self, samples: &mut [f32]) {
        let gain = match self {
            Normalization::Peak { peak } => {
                let max = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                f64::from(peak) / f64::from(max)
            }
            Normalization::Rms { target_dbfs } => {
                let target = 10f64.powf(f64::from(target_dbfs) / 20.0);
                target / rms(samples)
            }
        };
        if gain.is_finite() {
            samples
                .iter_mut()
                .for_each(|s| *s = (f64::from(*s) * gain) as f32);
        }
    }
}

/// Root mean square with a 64-bit sum (0 for an empty slice).
pub(crate) fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// The part of `samples` to keep after trimming leading and trailing silence, with the
/// indices `librosa.effects.trim` returns: frame-aligned start, end clipped to the length,
/// `0..0` if every frame is silent. A zero frame or hop length keeps everything.
pub fn trim_range(samples: &[f32], config: &TrimConfig) -> Range<usize> {
    if config.frame_length == 0 || config.hop_length == 0 {
        return 0..samples.len();
    }
    let intervals = non_silent_intervals(
        samples,
        config.frame_length,
        config.hop_length,
        config.top_db,
        None,
    );
    match (intervals.first(), intervals.last()) {
        (Some(first), Some(last)) => first.start..last.end,
        _ => 0..0,
    }
}

/// Zero-pad at the end or crop to exactly `len` samples (`librosa.util.fix_length`).
pub fn fix_length(samples: &mut Vec<f32>, len: usize) {
    samples.resize(len, 0.0);
}

/// Pre-emphasis `y[n] = x[n] - coef * x[n-1]` in place, with librosa's default initial state
/// (`zi = 2 x[0] - x[1]`, so `y[0] = x[0] + 2 x[0] - x[1]`, exactly as
/// `librosa.effects.preemphasis` computes it). A single sample is left unchanged.
pub fn preemphasis(samples: &mut [f32], coef: f32) {
    let initial_state = match samples {
        [first, second, ..] => 2.0 * *first - *second,
        _ => return,
    };
    let mut previous = samples[0];
    samples[0] += initial_state;
    for sample in &mut samples[1..] {
        let current = *sample;
        *sample = current - coef * previous;
        previous = current;
    }
}
